"""LongHealth's data model: the questions a prompt is built for and the documents that may go in.

Rows are validated by the datasets reader's one rule (`datasets.readers.longhealth.check_patient`),
whether they came from `benchmark_v5.json` or were built elsewhere (tests, `clue score`), so the
task and `clue data check` can never disagree about a question or its gold letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cluebench.datasets.readers.longhealth import check_patient, correct_letter


@dataclass(frozen=True)
class Document:
    """One letter that may go into a prompt. `spans` are the answer passages as relative
    (start, end) positions 0..1 within the text (LongHealth's `answer_location`); empty for
    documents that do not hold the answer."""

    patient: str
    text_id: str
    text: str
    spans: tuple[tuple[float, float], ...] = ()
    is_answer: bool = False

    @property
    def id(self) -> str:
        """`{patient}/{text_id}`: unique across the file."""
        return f"{self.patient}/{self.text_id}"


@dataclass(frozen=True)
class Question:
    """A validated question with its gold letter and the patient's documents split by role.

    `gold` is the reference's letter (the last option containing `correct`); `gold_letters` every
    option letter containing it (more than one: the question is ambiguous, and flagged)."""

    patient: str
    index: int
    text: str
    options: tuple[tuple[str, str], ...]  # (upper-case letter, option text), A..E
    gold: str
    answer_docs: tuple[Document, ...]
    other_docs: tuple[Document, ...]
    correct: str = ""
    gold_letters: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.patient}/q{self.index}"

    @property
    def ambiguous(self) -> bool:
        return len(self.gold_letters) > 1

    def gold_with(self, letter: str, text: str) -> str:
        """The gold letter once option `letter: text` is appended (sub-task 2's F): the reference
        adds `answer_f` after A..E and keeps the last containing option, so F wins if its text
        contains `correct`."""
        found, _ = correct_letter([*self.options, (letter, text)], self.correct)
        return found or self.gold


def load_questions(rows: Sequence[dict], data_file: str, option_labels: str) -> list[Question]:
    """Every question of every patient, in file order, validated by the reader's rule."""
    out: list[Question] = []
    for row in rows:
        pid = str(row["id"])
        patient = check_patient(data_file, pid, row, None)
        texts: dict[str, str] = patient["texts"]
        for qi, q in enumerate(patient["questions"]):
            location = q["answer_location"]
            answer_docs = tuple(
                Document(pid, text_id, texts[text_id], tuple(zip(map(float, loc["start"]), map(float, loc["end"]))), True)
                for text_id, loc in location.items()
            )
            others = tuple(Document(pid, tid, t) for tid, t in texts.items() if tid not in location)
            out.append(
                Question(
                    patient=pid,
                    index=qi,
                    text=str(q["question"]),
                    options=tuple((lab.upper(), str(q[f"answer_{lab}"])) for lab in option_labels),
                    gold=q["correct_letter"],
                    answer_docs=answer_docs,
                    other_docs=others,
                    correct=str(q["correct"]),
                    gold_letters=tuple(q["correct_letters"]),
                )
            )
    return out


def distractor_pool(rows: Sequence[dict]) -> list[Document]:
    """All documents of all patients, ordered by patient id then file order, so a sample of it
    depends on the seed and the data only, never on row order."""
    pool = []
    for row in sorted(rows, key=lambda r: str(r["id"])):
        pid = str(row["id"])
        pool.extend(Document(pid, tid, text) for tid, text in row["texts"].items())
    return pool
