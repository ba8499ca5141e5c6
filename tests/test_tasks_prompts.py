"""Prompt construction follows the protocol file byte for byte; truncation cuts only documents."""

from __future__ import annotations

import random
from typing import Sequence

import pytest

from cluebench.tasks.base import PromptBudget
from cluebench.tasks.prompting import split_shots
from cluebench.protocol import load_protocol
from cluebench.tasks.registry import get_task
from cluebench.errors import ConfigError


class CharBudget(PromptBudget):
    def __init__(self, context_length: int = 10**9) -> None:
        self.context_length = context_length
        self.counts = 0

    def count(self, messages: Sequence[dict]) -> int:
        self.counts += 1
        return sum(len(m["content"]) + 4 for m in messages)

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(map(chr, ids))


def mednli_rows(n: int) -> list[dict]:
    labels = ["entailment", "neutral", "contradiction"]
    return [
        {"id": f"p{i}", "sentence1": f"Synthetic premise {i}.", "sentence2": f"Synthetic hypothesis {i}.",
         "gold_label": labels[i % 3]}
        for i in range(n)
    ]


def test_shots_are_the_reference_seed1_shuffle() -> None:
    rows = mednli_rows(20)
    expected = list(rows)
    random.seed(1)
    random.shuffle(expected)
    shots, rest = split_shots(rows, 3, 1)
    assert shots == expected[:3] and rest == expected[3:]
    assert rows == mednli_rows(20)  # input untouched


def test_mednli_messages_match_the_protocol_exactly() -> None:
    protocol = load_protocol()
    task = get_task("mednli", protocol)
    rows = mednli_rows(10)
    samples, shot_ids = task.build_samples(rows, CharBudget())
    expected_order = list(rows)
    random.Random(1).shuffle(expected_order)
    assert shot_ids == [r["id"] for r in expected_order[:3]]
    assert [s.id for s in samples] == [r["id"] for r in expected_order[3:]]
    s = samples[0]
    spec = protocol.task("mednli")
    assert [m["role"] for m in s.messages] == ["system", "user", "assistant"] * 1 + ["user", "assistant"] * 2 + ["user"]
    assert s.messages[0]["content"] == spec.system
    q = expected_order[3]
    assert s.messages[-1]["content"] == f"\nSENTENCE_1: {q['sentence1']}\nSENTENCE_2: {q['sentence2']}\n"
    assert s.messages[2]["content"] == expected_order[0]["gold_label"]
    assert s.max_tokens == 20 and s.shot_ids == shot_ids and s.gold == q["gold_label"]
    assert not s.truncation.truncated


def test_limit_caps_evaluated_items_after_shots() -> None:
    task = get_task("mednli")
    samples, shots = task.build_samples(mednli_rows(10), CharBudget(), limit=2)
    assert len(samples) == 2 and len(shots) == 3


def test_truncation_cuts_the_note_never_the_instruction() -> None:
    protocol = load_protocol()
    task = get_task("medisumcode", protocol)
    rows = [
        {"id": str(i), "text": ("SYNTHETIC NOTE %d. " % i) + "word " * (50 if i != 5 else 5000),
         "icd_codes": [{"code": "I10", "description": "Essential (primary) hypertension"}]}
        for i in range(6)
    ]
    budget = CharBudget(context_length=3000)
    samples, _ = task.build_samples(rows, budget)
    long_one = next(s for s in samples if s.id == "5")
    assert long_one.truncation.truncated
    assert long_one.truncation.tokens_dropped > 20000
    assert budget.count(long_one.messages) + 512 <= 3000
    user = long_one.messages[-1]["content"]
    assert user.startswith("--------------BEGIN DISCHARGE LETTER--------------\nSYNTHETIC NOTE 5.")
    assert user.endswith("Only list the ICD-10 codes. Do not generate anything else.")
    assert long_one.messages[0]["content"] == protocol.task("medisumcode").system
    short = [s for s in samples if s.id != "5"]
    assert all(not s.truncation.truncated for s in short)


def test_medisumcode_shot_and_reference_use_dotless_codes() -> None:
    task = get_task("medisumcode")
    rows = [
        {"id": str(i), "text": f"Synthetic note {i}",
         "icd_codes": [{"code": "e11.9", "description": "x"}, {"code": "I10", "description": "y"}]}
        for i in range(3)
    ]
    samples, _ = task.build_samples(rows, CharBudget())
    assert samples[0].reference == "E119, I10"
    assert samples[0].messages[2]["content"] == "ICD-10 Codes: E119, I10"
    assert samples[0].gold == ["E119", "I10"]


def test_problem_summary_reference_replaces_semicolons() -> None:
    task = get_task("problem_summary")
    rows = [{"id": str(i), "Subjectives": "S", "Assessment": "A", "Summary": "CHF; AKI; anemia"} for i in range(5)]
    samples, _ = task.build_samples(rows, CharBudget())
    assert samples[0].reference == "CHF,  AKI,  anemia"
    assert samples[0].messages[-1]["content"].startswith("--------------BEGIN DISCHARGE LETTER--------------\nS\n\nA\n")


def test_task_selection() -> None:
    expand_task_selection = load_protocol().expand_task_selection
    assert expand_task_selection("level1") == ["mednli", "meqsum", "problem_summary"]
    assert expand_task_selection("medisumcode,mednli") == ["mednli", "medisumcode"]
    assert len(expand_task_selection("all")) == 6
    with pytest.raises(ConfigError, match="unknown task 'medqa'"):
        expand_task_selection("medqa")
