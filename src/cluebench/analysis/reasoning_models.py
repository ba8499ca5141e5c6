"""Which models are known reasoning (thinking) models, by name: for `clue run`'s suggestion to
try `--reasoning on`. A stop-gap until the lineage data carries each model's `reasoning` flag
(issue 15, second half); by design it errs towards saying nothing.
"""

from __future__ import annotations

import re

# (pattern on the lower-cased model name, family named in the note)
_FAMILIES = (
    (re.compile(r"qwen3(?!.*instruct-2507)(?!.*-base\b)"), "Qwen3"),
    (re.compile(r"deepseek-r1"), "DeepSeek-R1"),
    (re.compile(r"\bqwq"), "QwQ"),
    (re.compile(r"gpt-oss"), "gpt-oss"),
    (re.compile(r"magistral"), "Magistral"),
    (re.compile(r"seed-oss"), "Seed-OSS"),
    (re.compile(r"phi-4-(mini-)?reasoning"), "Phi-4-reasoning"),
    (re.compile(r"huatuogpt-o1"), "HuatuoGPT-o1"),
    (re.compile(r"ii-medical"), "II-Medical"),
    (re.compile(r"baichuan-m2"), "Baichuan-M2"),
    (re.compile(r"medreason"), "MedReason"),
    (re.compile(r"(^|/)m1-\d+b"), "m1"),
    (re.compile(r"thinking"), "a thinking model"),
)


def reasoning_model(spec: str) -> str | None:
    """The family name when `spec` (a model spec, path or hub id) names a known reasoning model."""
    name = spec.split(":", 1)[-1].lower()
    for rx, family in _FAMILIES:
        if rx.search(name):
            return f"{spec.split(':', 1)[-1].rstrip('/').split('/')[-1]} ({family})"
    return None
