"""MeDiSumQA construction end to end: a deterministic fake backend (hand-checked filtering),
resume through the response store, and the embedded model on tiny inputs."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Sequence

import pytest

from cluebench.datasets.readers.medisum import read_medisumqa
from cluebench.errors import ConfigError, DataError
from cluebench.generate.medisumqa import build_medisumqa
from cluebench.generate.mimic_csv import NOTE_COLUMNS
from cluebench.generate.output import manifest_path
from cluebench.generate.sampling import rank
from cluebench.models.base import Backend, BackendOptions, Completion, Message, Request

PHRASE = "You were admitted to the hospital"


def _note(body: str, bullets: Sequence[str]) -> str:
    return (
        f"FAKE NOTE - NOT REAL DATA\nBrief Hospital Course:\n{body}\n\n\n"
        f"Discharge Instructions:\nDear Ms. ___,\n\n{PHRASE} because of a made-up illness.\n"
        + "".join(f"* {b}\n" for b in bullets)
        + "It was a pleasure.\n\n\nFollowup Instructions:\n___"
    )


NOTES = [
    ("n1", _note("course one", ["The chest x-ray showed pneumonia.", "Antibiotics were given.", "Mr. ___ visited."])),
    ("n2", f"FAKE NOTE {PHRASE} but no instructions section"),
    ("n3", "FAKE NOTE without the phrase\n\n\nDischarge Instructions:\nhello\n* x"),
    ("n4", _note("course four", ["The blood sugar was high."])),
]

# The fake model's questions. ROUGE-L F1 (question vs answer), by hand with rouge-score's tokens:
#   q1 shares no token with its answer -> 0; q2: LCS 2 of 3|3 tokens -> 66.67; q3: LCS 4 of 5|5 -> 80.
QUESTIONS = {
    "The chest x-ray showed pneumonia.": "What did imaging find?",
    "Antibiotics were given.": "Were antibiotics given?",
    "The blood sugar was high.": "Was the blood sugar high?",
}
FAKE_BERT = {"What did imaging find?": 50.0, "Were antibiotics given?": 10.0, "Was the blood sugar high?": 30.0}


class QaFakeBackend(Backend):
    """Answers step 1 by turning the instruction bullets into statements (unprimed, as a chat
    model would) and step 2 with the QUESTIONS table plus one pair whose answer is not a statement."""

    name = "qa-fake"

    def __init__(self) -> None:
        super().__init__("qa-fake:1", BackendOptions())
        self.asked: list[str] = []

    @property
    def model_id(self) -> str:
        return "qa-fake-1"

    @property
    def context_length(self) -> int:
        return 100_000

    @property
    def tokenizer(self):  # noqa: ANN201 - unused here
        raise NotImplementedError

    def render(self, messages: Sequence[Message]) -> str:
        return "".join(f"<{m['role']}>{m['content']}" for m in messages)

    def _answer(self, query: str) -> str:
        if "BEGIN DISCHARGE INSTRUCTIONS" in query:
            bullets = re.findall(r"^\* (.*)$", query, flags=re.M)
            return "Statements:\n" + "\n".join(f"- {b}" for b in bullets)
        statements = re.findall(r"^- (.*)$", query, flags=re.M)
        lines = [f"Question: {QUESTIONS[s]}\nAnswer: {s}" for s in statements]
        lines.append("Question: Anything else?\nAnswer: Not one of the statements.")
        return "\n".join(lines)[len("Question: "):]  # as if primed with "\nQuestion: "

    def generate(self, requests: Sequence[Request], on_completion) -> None:  # type: ignore[no-untyped-def]
        for r in requests:
            self.asked.append(r.key)
            on_completion(Completion(key=r.key, text=self._answer(r.messages[-1]["content"]), finish_reason="stop"))


class FakeBert:
    def score(self, predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]:
        return [{"bertscore_f1": FAKE_BERT[p]} for p in predictions]

    def describe(self) -> dict:
        return {"model": "fake-table"}


def _write_notes(path: Path, notes=NOTES) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(NOTE_COLUMNS)
        for i, (note_id, text) in enumerate(notes):
            w.writerow((note_id, i, 100 + i, "DS", 1, "", "", text))
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pipeline_with_fake_backend(tmp_path: Path) -> None:
    notes = _write_notes(tmp_path / "discharge.csv")
    backend, out, store = QaFakeBackend(), tmp_path / "MeDiSumQA.json", tmp_path / "store.sqlite"
    manifest = build_medisumqa(notes, backend, out, store_path=store, max_notes=10, top_k=2, scorer=FakeBert())
    rows = _rows(out)
    # ROUGE-L ranking: pneumonia (0), antibiotics (66.7), sugar (80); fake BERTScore ranking:
    # antibiotics (10), sugar (30), pneumonia (50). Picks: rouge[0], then bert[1].
    assert [(r["Answer"], r["generation"]["selected_by"]) for r in rows] == [
        ("The chest x-ray showed pneumonia.", "rougeL"),
        ("The blood sugar was high.", "bertscore_f1"),
    ]
    assert rows[0]["Question"] == "What did imaging find?"
    assert rows[0]["generation"]["rougeL"] == 0.0
    assert rows[1]["generation"]["rougeL"] == 80.0
    first = rows[0]
    assert first["note_id"] == "n1"
    assert first["with_discharge_summary"] == NOTES[0][1]
    assert first["without_discharge_summary"] == first["discharge_summary"]
    assert first["discharge_summary"] == "FAKE NOTE - NOT REAL DATA\nBrief Hospital Course:\ncourse one\n\nFollowup Instructions:\n___"
    assert "It was a pleasure" not in first["discharge_summary"]

    c = manifest["counts"]
    assert (c["notes_read"], c["notes_with_phrase"], c["notes_with_instructions"], c["notes_selected"]) == (4, 3, 2, 2)
    assert c["statements"] == 3  # the "___" statement is dropped
    assert c["pairs_with_verbatim_answer"] == 3  # the off-list answer is dropped
    assert c["pairs_written"] == 2
    assert c["step1"] == {"requests": 2, "failed": 0, "length_capped": 0}
    assert manifest["filter"]["picked_by"] == {"rougeL": 1, "bertscore_f1": 1}
    assert manifest["inputs"]["notes"]["sha256"] == hashlib.sha256(notes.read_bytes()).hexdigest()
    assert json.loads(manifest_path(out).read_text())["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert len(backend.asked) == 4  # two notes x two steps

    # the task's reader accepts the output
    read = read_medisumqa(out, out.read_bytes())
    assert [r["discharge_summary"] for r in read] == [r["without_discharge_summary"] for r in rows]

    # resume: a second build asks nothing new and writes the same bytes
    again = QaFakeBackend()
    out2 = tmp_path / "again.json"
    build_medisumqa(notes, again, out2, store_path=store, max_notes=10, top_k=2, scorer=FakeBert())
    assert again.asked == []
    assert out2.read_bytes() == out.read_bytes()


def test_top_k_beyond_pairs_and_max_notes(tmp_path: Path) -> None:
    notes = _write_notes(tmp_path / "discharge.csv")
    out = tmp_path / "o.json"
    build_medisumqa(notes, QaFakeBackend(), out, store_path=tmp_path / "s.sqlite", top_k=50, scorer=FakeBert())
    assert sorted(r["Answer"] for r in _rows(out)) == sorted(QUESTIONS)
    # max_notes=1 keeps the qualifying note with the smaller seeded rank
    first = min(("n1", "n4"), key=lambda k: rank(44, k))
    manifest = build_medisumqa(notes, QaFakeBackend(), out, store_path=tmp_path / "s.sqlite", max_notes=1,
                               top_k=50, scorer=FakeBert())
    assert {r["note_id"] for r in _rows(out)} == {first}
    assert manifest["counts"]["notes_selected"] == 1


def test_failed_requests_are_counted_not_parsed(tmp_path: Path) -> None:
    class Failing(QaFakeBackend):
        def generate(self, requests, on_completion):  # type: ignore[no-untyped-def]
            for r in requests:
                on_completion(Completion(key=r.key, text="", finish_reason="error", error="boom"))

    notes = _write_notes(tmp_path / "discharge.csv")
    manifest = build_medisumqa(notes, Failing(), tmp_path / "o.json", store_path=tmp_path / "s.sqlite",
                               scorer=FakeBert())
    assert manifest["counts"]["step1"]["failed"] == 2
    assert manifest["counts"]["pairs_written"] == 0
    assert (tmp_path / "o.json").read_text() == ""


def test_bad_input_errors(tmp_path: Path) -> None:
    notes = _write_notes(tmp_path / "d.csv", [("", f"{PHRASE}")])
    with pytest.raises(DataError) as exc:
        build_medisumqa(notes, QaFakeBackend(), tmp_path / "o.json", store_path=tmp_path / "s", scorer=FakeBert())
    assert (exc.value.line, exc.value.field) == (2, "note_id")
    with pytest.raises(ConfigError):
        build_medisumqa(notes, QaFakeBackend(), tmp_path / "o.json", store_path=tmp_path / "s", top_k=0)


@pytest.mark.slow
def test_embedded_model_end_to_end(tmp_path: Path) -> None:
    """The real embedded model (SmolLM2-135M) and the real offline BERTScore on one tiny note."""
    pytest.importorskip("llama_cpp")
    from cluebench.models import load_backend
    from cluebench.run.store import ResponseStore
    from cluebench.protocol import load_protocol

    notes = _write_notes(tmp_path / "discharge.csv")
    options = BackendOptions(n_ctx=4096, n_threads=2, plain_template=load_protocol().plain_template.as_dict())
    backend = load_backend(None, options)
    store, out = tmp_path / "store.sqlite", tmp_path / "MeDiSumQA.json"
    try:
        manifest = build_medisumqa(notes, backend, out, store_path=store, max_notes=1, top_k=5, max_new_tokens=64)
        with ResponseStore(store) as s:
            answered = s.count()
        again = build_medisumqa(notes, backend, tmp_path / "again.json", store_path=store, max_notes=1, top_k=5,
                                max_new_tokens=64)
        with ResponseStore(store) as s:
            assert s.count() == answered  # resumed entirely from the store
    finally:
        backend.close()
    c = manifest["counts"]
    assert c["notes_selected"] == 1 and c["step1"]["requests"] == 1 and c["step1"]["failed"] == 0
    assert answered == c["step1"]["requests"] + c["step2"]["requests"]
    assert c["pairs_written"] == min(5, c["pairs_with_verbatim_answer"])
    assert (tmp_path / "again.json").read_bytes() == out.read_bytes()
    assert again["output"] == {**manifest["output"], "path": str(tmp_path / "again.json")}
    assert manifest["filter"]["bertscore"]["num_layers"] == 6
    for row in read_medisumqa(out, out.read_bytes()):
        assert row["Answer"] and row["Question"] and row["note_id"] in {"n1", "n4"}
