"""LongHealth (`benchmark_v5.json`): one JSON object, patient id -> {`name`, `birthday`,
`diagnosis`, `texts` {text id: document}, `questions` [...]}. Each question has `question`,
`answer_a`..`answer_e`, `correct` (the text of the right option) and `answer_location`
{text id: {`start`: [...], `end`: [...]}} (relative positions in that text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluebench.datasets.readers import PublicSource, reader
from cluebench.datasets._io import decode_utf8, iter_json_top, require_object, require_str, type_name
from cluebench.errors import DataError

OPTION_KEYS = ("answer_a", "answer_b", "answer_c", "answer_d", "answer_e")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _correct_letter(path: Path, q: dict, line: int, field: str) -> str:
    """The letter of the option whose text is `correct`: an exact match (as LongHealth's own code
    does), else the reference's rule (the option containing it); exactly one must qualify."""
    correct = q["correct"].strip()
    options = {k[-1].upper(): q[k].strip() for k in OPTION_KEYS}
    exact = [letter for letter, text in options.items() if text == correct]
    matches = exact or [letter for letter, text in options.items() if correct and correct in text]
    if len(matches) != 1:
        how = "matches no option" if not matches else f"matches {len(matches)} options ({', '.join(matches)})"
        raise DataError(path, f"correct answer {correct!r} {how}; it must be the text of exactly one option",
                        line=line, field=f"{field}.correct")
    return matches[0]


def _check_location(path: Path, loc: Any, texts: dict, line: int, field: str) -> dict:
    if loc is None:
        return {}
    if not isinstance(loc, dict):
        raise DataError(path, f"expected an object, got {type_name(loc)}", line=line, field=field)
    for text_id, span in loc.items():
        where = f"{field}.{text_id}"
        if text_id not in texts:
            raise DataError(path, f"text id {text_id!r} is not in this patient's texts "
                            f"({', '.join(texts)})", line=line, field=where)
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


def _patient(path: Path, pid: str, value: Any, line: int) -> dict:
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
    for i, q in enumerate(questions):
        field = f"{pid}.questions[{i}]"
        if not isinstance(q, dict):
            raise DataError(path, f"expected an object, got {type_name(q)}", line=line, field=field)
        for key in ("question", *OPTION_KEYS, "correct"):
            require_str(path, q, key, line, field=f"{field}.{key}", allow_empty=False)
        letter = _correct_letter(path, q, line, field)
        location = _check_location(path, q.get("answer_location"), texts, line, f"{field}.answer_location")
        checked.append({**q, "answer_location": location, "correct_letter": letter})
    return {**patient, "id": pid, "texts": texts, "questions": checked}


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
    """One row per patient ``{"id", "texts", "questions", ...original}``; each question gains
    `correct_letter` ("A".."E") and a missing/null `answer_location` becomes ``{}``."""
    text = decode_utf8(path, raw)
    rows: list[dict] = []
    for key, value, line in iter_json_top(path, text):
        if not isinstance(key, str):
            raise DataError(path, "expected a JSON object of patients (patient id -> record), got a list", line=1)
        rows.append(_patient(path, key, value, line))
    return rows
