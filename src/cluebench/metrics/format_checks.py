"""Format-violation detectors for prompts that say "only ..." (the paper's error analysis by hand).

Each returns True when the output breaks the task's output instruction. A violation is a flag for
the error analysis, never a score: a verbose but correct answer still scores as correct.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from cluebench.metrics.icd10 import CODE_PATTERN

# Abbreviations whose "." does not end a sentence (kept short: only those common in answers).
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "dr.", "mr.", "mrs.", "ms.", "approx.", "no.", "st.")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s+\S)")
_TRIM = " \t\r\n\"'`*_“”‘’"


def _strip_abbreviations(text: str) -> str:
    lowered = text.lower()
    for abbreviation in _ABBREVIATIONS:
        lowered = lowered.replace(abbreviation, abbreviation[:-1])
    return lowered


def _sentences(text: str) -> int:
    """Number of sentences: one more than the sentence ends followed by further text."""
    return len(_SENTENCE_END.findall(_strip_abbreviations(text))) + 1


def label_only_violation(output: str, labels: Sequence[str]) -> bool:
    """MedNLI: True unless the output is exactly one label (any case) plus punctuation/whitespace.

    "NEUTRAL", " neutral.\\n", "**Contradiction**" comply; "", "The answer is NEUTRAL", "NEUTRAL
    NEUTRAL" and "ENTAILMENT or NEUTRAL" are violations.
    """
    words = re.findall(r"\w+", output)
    return not (len(words) == 1 and words[0].lower() in {label.lower() for label in labels})


@functools.lru_cache(maxsize=8)
def _code_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_SEPARATORS = re.compile(r"(?m)^[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]+|[\s,;]+")


def codes_only_violation(output: str, pattern: str | None, prefix_regex: str) -> bool:
    """MeDiSumCode: True when the output holds text other than codes.

    Allowed: an optional opening matched by `prefix_regex` (the protocol's ``codes_prefix_regex``:
    "ICD-10 Codes:", "ICD-10-CM codes:", ...), the codes themselves (matched by `pattern`, None
    meaning :data:`cluebench.metrics.icd10.CODE_PATTERN`), and separators:
    whitespace, commas, semicolons, and list markers ("-", "*", "•", "1." / "1)") at line starts.
    An empty output is not a format violation (it is a parse failure, flagged elsewhere); anything
    else left over (descriptions, "None", prose) is.
    """
    rest = _code_pattern(prefix_regex).sub("", output, count=1)
    rest = _code_pattern(pattern if pattern is not None else CODE_PATTERN).sub(" ", rest)
    rest = _SEPARATORS.sub("", rest)
    return rest != ""


def answer_sentence_violation(output: str, prefix: str) -> bool:
    """LongHealth: True unless the output starts with `prefix` (case-sensitive; the protocol's
    ``answer_prefix``) and is one sentence.

    Leading/trailing whitespace and quotes are ignored. A second sentence is any ".", "!" or "?"
    followed by whitespace and more text (common abbreviations such as "e.g." and "Dr." excepted),
    so "The correct answer is C: Acute bronchitis." complies and "The correct answer is C: X.
    Because ..." does not. A line break followed by more text also counts as a second sentence.
    """
    text = output.strip(_TRIM)
    if not text.startswith(prefix):
        return True
    return "\n" in text or _sentences(text) > 1


def single_question_violation(output: str) -> bool:
    """MeQSum: True unless the output is a single question.

    A single question: after trimming whitespace and quotes, it ends with "?", holds no other "?",
    has no line break, and no sentence end (".", "!") followed by more text before the question
    ("Sure. What is ...?" and "Summary: What is X? What is Y?" are violations; "What are the
    side effects of metformin?" complies).
    """
    text = output.strip(_TRIM)
    if not text.endswith("?") or "\n" in text:
        return True
    return text.count("?") != 1 or _sentences(text) > 1
