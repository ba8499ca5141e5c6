"""LongHealth (`benchmark_v5.json`): one JSON object, patient id -> {`name`, `birthday`,
`diagnosis`, `texts` {text id: document}, `questions` [...]}. Each question has `question`,
`answer_a`..`answer_e`, `correct` (the text of the right option) and `answer_location`
{text id: {`start`: [...], `end`: [...]}} (relative positions in that text).

Gold letter: the reference's rule, the *last* option containing `correct` (see
:func:`correct_letter`); a question where several options contain it is kept and flagged."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence
from typing import Any

from cluebench.datasets.readers import PublicSource, reader
from cluebench.datasets._io import decode_utf8, iter_json_top, require_object, require_str, type_name
from cluebench.errors import DataError

OPTION_KEYS = ("answer_a", "answer_b", "answer_c", "answer_d", "answer_e")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def correct_letter(options: Sequence[tuple[str, str]], correct: str) -> tuple[str | None, list[str]]:
    """The gold letter by the reference's rule, and every letter whose option contains `correct`.

    The rule (TIO-IKIM/CLUE ``eval/eval_LongHealth.py``, ``compute_metrics``): loop over the
    question's ``answer_*`` options in order and, for each whose text contains `correct` (a
    case-sensitive substring test, no exact-match preference, no stripping), set the letter:
    the loop has no ``break``, so the **last** containing option wins. `options` are (letter,
    text) in the file's key order (A..E in LongHealth, then F where the task adds it). When no
    option contains the raw string, its stripped form is tried (the reference would crash).
    More than one containing letter makes the question ambiguous: it is kept and flagged.
    """
    for needle in (correct, correct.strip()):
        matches = [letter for letter, text in options if needle and needle in text]
        if matches:
            return matches[-1], matches
    return None, []


def _options(q: dict) -> list[tuple[str, str]]:
    """The question's A..E options in the file's key order (the order the reference loops in)."""
    return [(k[-1].upper(), q[k]) for k in q if k in OPTION_KEYS]


def _correct_letter(path: Path | str, q: dict, line: int | None, field: str) -> tuple[str, list[str]]:
    letter, matches = correct_letter(_options(q), q["correct"])
    if letter is None:
        raise DataError(path, f"correct answer {q['correct'].strip()!r} matches no option; it must be "
                        "contained in the text of an option (answer_a..answer_e)", line=line, field=f"{field}.correct")
    return letter, matches


def _check_location(path: Path, loc: Any, texts: dict, line: int, field: str) -> dict:
    if loc is None:
        return {}
    if not isinstance(loc, dict):
        raise DataError(path, f"expected an object, got {type_name(loc)}", line=line, field=field)
    for text_id, span in loc.items():
        where = f"{field}.{text_id}"
        if text_id not in texts:
            raise DataError(path, f"unknown text {text_id!r}: text id {text_id!r} is not in this patient's "
                            f"texts ({', '.join(texts)})", line=line, field=where)
        if not isinstance(span, dict):
            raise DataError(path, f"expected an object with start/end, got {type_name(span)}", line=line, field=where)
        for key in ("start", "end"):
            values = span.get(key)
            if not isinstance(values, list) or not all(_is_number(v) for v in values):
                raise DataError(path, f"expected a list of numbers, got {type_name(values)}",
                                line=line, field=f"{where}.{key}")
        if len(span["start"]) != len(span["end"]):
            raise DataError(path, "start and end lists differ in length", line=line, field=where)
    return loc


def check_patient(path: Path | str, pid: str, value: Any, line: int | None) -> dict:
    """One patient record validated and normalised: the row ``{"id", "texts", "questions",
    ...original}``. Each question gains `correct_letter` (the reference's gold letter, see
    :func:`correct_letter`) and `correct_letters` (every option containing `correct`), and a
    missing/null `answer_location` becomes ``{}``. The row's `warnings` list names each
    ambiguous question. This is the one validation of LongHealth data: the reader applies it to
    the file, the task to rows that did not come through the reader.
    """
    patient = require_object(path, value, line, f"patient {pid!r}")
    texts = patient.get("texts")
    if "texts" not in patient:
        raise DataError(path, "missing field", line=line, field=f"{pid}.texts")
    if not isinstance(texts, dict) or not texts:
        raise DataError(path, f"expected a non-empty object of documents, got {type_name(texts)}",
                        line=line, field=f"{pid}.texts")
    for text_id, doc in texts.items():
        if not isinstance(doc, str):
            raise DataError(path, f"expected a string, got {type_name(doc)}", line=line, field=f"{pid}.texts.{text_id}")
    questions = patient.get("questions")
    if "questions" not in patient:
        raise DataError(path, "missing field", line=line, field=f"{pid}.questions")
    if not isinstance(questions, list):
        raise DataError(path, f"expected a list, got {type_name(questions)}", line=line, field=f"{pid}.questions")
    checked: list[dict] = []
    warnings: list[str] = []
    for i, q in enumerate(questions):
        field = f"{pid}.questions[{i}]"
        if not isinstance(q, dict):
            raise DataError(path, f"expected an object, got {type_name(q)}", line=line, field=field)
        for key in ("question", *OPTION_KEYS, "correct"):
            require_str(path, q, key, line, field=f"{field}.{key}", allow_empty=False)
        letter, matches = _correct_letter(path, q, line, field)
        if len(matches) > 1:
            warnings.append(ambiguity_note(field, q["correct"], matches))
        location = _check_location(path, q.get("answer_location"), texts, line, f"{field}.answer_location")
        checked.append({**q, "answer_location": location, "correct_letter": letter, "correct_letters": matches})
    return {**patient, "id": pid, "texts": texts, "questions": checked, "warnings": warnings}


def ambiguity_note(field: str, correct: str, letters: Sequence[str]) -> str:
    """One line saying that a question's gold letter is ambiguous and which letter is scored."""
    return (f"{field}.correct: {correct.strip()!r} is contained in options {', '.join(letters)}; "
            f"scored as {letters[-1]} (the reference's rule: the last containing option)")


@reader(
    "longhealth",
    source=PublicSource(
        task="longhealth",
        url="https://raw.githubusercontent.com/kbressem/LongHealth/main/data/benchmark_v5.json",
        sha256=None,
        licence="see github.com/kbressem/LongHealth; cite Adams et al., arXiv 2401.14490",
    ),
)
def read_longhealth(path: Path, raw: bytes) -> list[dict]:
    """One row per patient (see :func:`check_patient`)."""
    text = decode_utf8(path, raw)
    rows: list[dict] = []
    for key, value, line in iter_json_top(path, text):
        if not isinstance(key, str):
            raise DataError(path, "expected a JSON object of patients (patient id -> record), got a list", line=1)
        rows.append(check_patient(path, key, value, line))
    return rows
