"""MeDiSumQA (`MeDiSumQA.json`) and MeDiSumCode (`MeDiSumCode.json`).

Both are accepted as one JSON list or as JSON lines: the reference generators write lines while
its evaluator reads a list. MeDiSumQA's context is `discharge_summary` (evaluator) or
`without_discharge_summary` (generator's name for the same text)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cluebench.datasets._demo import write_text
from cluebench.datasets.readers import demo_writer, reader
from cluebench.datasets.readers._demo_notes import NOTES, note_text
from cluebench.datasets._io import (
    IdRegistry,
    decode_utf8,
    iter_records,
    optional_id,
    require_object,
    require_str,
    type_name,
)
from cluebench.errors import DataError

QA_CONTEXT_FIELDS = ("discharge_summary", "without_discharge_summary")


@reader(
    "medisumqa",
    obtain=(
        "MeDiSumQA is credentialed data on PhysioNet. As a credentialed user, sign the data use agreement at "
        "https://physionet.org/content/medisumqa/1.0.0/ and put the dataset (a JSON list or JSON lines) at {path}; "
        "or build it yourself from MIMIC-IV-Note (https://physionet.org/content/mimic-iv-note/) with "
        "`clue generate medisumqa`, writing to {path}."
    ),
)
def read_medisumqa(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id", "discharge_summary", "Question", "Answer", ...original}``.

    A note usually carries several questions, so a `note_id` that occurs more than once gets the
    record's 0-based index appended (`"<note_id>/<index>"`); rows without `note_id` use the index.
    """
    text = decode_utf8(path, raw)
    pending: list[tuple[dict, str | None, int, int]] = []
    for index, value, line in iter_records(path, text):
        obj = require_object(path, value, line, "each record")
        context_key = next((k for k in QA_CONTEXT_FIELDS if k in obj), None)
        if context_key is None:
            raise DataError(path, f"missing field (also accepted: {QA_CONTEXT_FIELDS[1]!r})", line=line,
                            field=QA_CONTEXT_FIELDS[0])
        context = require_str(path, obj, context_key, line, allow_empty=False)
        question = require_str(path, obj, "Question", line, allow_empty=False)
        answer = require_str(path, obj, "Answer", line, allow_empty=False)
        note_id = optional_id(path, obj, "note_id", line)
        row = {**obj, "discharge_summary": context, "Question": question, "Answer": answer}
        pending.append((row, note_id, index, line))
    counts = Counter(note_id for _, note_id, _, _ in pending if note_id is not None)
    ids = IdRegistry(path, "note_id")
    rows: list[dict] = []
    for row, note_id, index, line in pending:
        if note_id is None:
            ident = str(index)
        elif counts[note_id] > 1:
            ident = f"{note_id}/{index}"
        else:
            ident = note_id
        ids.add(ident, line)
        row["id"] = ident
        rows.append(row)
    return rows


def _codes(path: Path, value: object, line: int) -> list[dict]:
    if not isinstance(value, list):
        raise DataError(path, f"expected a list of {{code, description}}, got {type_name(value)}",
                        line=line, field="icd_codes")
    for i, item in enumerate(value):
        field = f"icd_codes[{i}]"
        if not isinstance(item, dict):
            raise DataError(path, f"expected an object, got {type_name(item)}", line=line, field=field)
        require_str(path, item, "code", line, field=f"{field}.code", allow_empty=False)
        if "description" in item and not isinstance(item["description"], str):
            raise DataError(path, f"expected a string, got {type_name(item['description'])}",
                            line=line, field=f"{field}.description")
    return value


@reader(
    "medisumcode",
    obtain=(
        "MeDiSumCode is built from credentialed MIMIC-IV data: as a credentialed PhysioNet user, download "
        "note/discharge.csv.gz (https://physionet.org/content/mimic-iv-note/) and hosp/diagnoses_icd.csv.gz "
        "(https://physionet.org/content/mimiciv/), then run `clue generate medisumcode`, writing to {path}."
    ),
)
def read_medisumcode(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id": hadm_id or the 0-based index, "text", "icd_codes", ...original}``."""
    text = decode_utf8(path, raw)
    ids = IdRegistry(path, "hadm_id")
    rows: list[dict] = []
    for index, value, line in iter_records(path, text):
        obj = require_object(path, value, line, "each record")
        note = require_str(path, obj, "text", line, allow_empty=False)
        if "icd_codes" not in obj:
            raise DataError(path, "missing field", line=line, field="icd_codes")
        codes = _codes(path, obj["icd_codes"], line)
        ident = optional_id(path, obj, "hadm_id", line) or str(index)
        ids.add(ident, line)
        rows.append({**obj, "id": ident, "text": note, "icd_codes": codes})
    return rows


# --------------------------------------------------------------------------------------------
# The synthetic demo file: both tasks' files are built from the same invented discharge notes
# (`_demo_notes.NOTES`).
# --------------------------------------------------------------------------------------------


@demo_writer("medisumqa")
def write_qa_demo(path: Path) -> None:
    """`MeDiSumQA.json`: each note's question-answer pairs, the note without its instructions."""
    records = []
    for note in NOTES:
        for question, answer in note["qa"]:
            records.append({"note_id": note["note_id"], "discharge_summary": note_text(note, with_instructions=False),
                            "Question": question, "Answer": answer})
    write_text(path, json.dumps(records, indent=2, ensure_ascii=False) + "\n")


@demo_writer("medisumcode")
def write_code_demo(path: Path) -> None:
    """`MeDiSumCode.json`: each whole note with its dotless ICD-10-CM codes."""
    records = [{"hadm_id": note["hadm_id"], "text": note_text(note, with_instructions=True),
                "icd_codes": [{"code": c, "description": d} for c, d in note["codes"]]} for note in NOTES]
    write_text(path, json.dumps(records, indent=2, ensure_ascii=False) + "\n")
