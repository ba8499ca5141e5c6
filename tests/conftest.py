"""Shared fixtures: a deterministic in-process backend registered as `fake:` for runner tests.

The fake backend is a real implementation of the Backend interface (character tokenizer, a
ChatML-like template, answers computed from the prompt), so tests exercise the runner, store
and tasks end to end without a model; tests that need a real model use the embedded GGUF.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import pytest

from cluebench.models.base import Backend, BackendOptions, Completion, Message, Request, register

# The workplace's shared folder sits beside the checkout (and beside CI's clone).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"


class CharTokenizer:
    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(chr(i) for i in ids)


@register("fake")
class FakeBackend(Backend):
    """`fake:NAME` — answers deterministically; `fake:mednli-oracle` echoes a label from the prompt.

    Every generate() call is logged to $CLUE_FAKE_LOG (one JSON line per request) so tests can
    count what was really asked.
    """

    name = "fake"
    calls: list[str] = []

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        self._ctx = options.n_ctx or 4096

    @property
    def model_id(self) -> str:
        return self.spec

    @property
    def context_length(self) -> int:
        return self._ctx

    @property
    def tokenizer(self) -> CharTokenizer:
        return CharTokenizer()

    def render(self, messages: Sequence[Message]) -> str:
        return "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in messages) + "<|assistant|>"

    def answer(self, messages: Sequence[Message]) -> str:
        last = messages[-1]["content"]
        digest = int(hashlib.sha256(last.encode()).hexdigest(), 16)
        if "SENTENCE_1" in last:
            return ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"][digest % 3]
        if "ICD-10" in last:
            return "ICD-10 Codes: I10, E119"
        if "The correct answer is" in last:
            return f"The correct answer is {'ABCDEF'[digest % 6]}: something."
        return f"What is the answer to question {digest % 97}?"

    def generate(self, requests: Sequence[Request], on_completion) -> None:  # type: ignore[no-untyped-def]
        log = os.environ.get("CLUE_FAKE_LOG")
        for r in requests:
            text = self.answer(r.messages)
            if log:
                with open(log, "a") as fh:
                    fh.write(json.dumps({"key": r.key}) + "\n")
            FakeBackend.calls.append(r.key)
            finish = "length" if len(text) > r.decoding.max_tokens else "stop"
            on_completion(Completion(r.key, text[: r.decoding.max_tokens], finish, 10, len(text), 0.0))


@pytest.fixture
def fake_calls():
    FakeBackend.calls = []
    return FakeBackend.calls


@pytest.fixture
def meqsum_data_dir() -> Path:
    if not (SHARED_DATA / "meqsum" / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx").is_file():
        pytest.skip(f"public MeQSum file not found under {SHARED_DATA} (../shared/data)")
    return SHARED_DATA
