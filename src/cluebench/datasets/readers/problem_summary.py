"""BioNLP 2023 shared task 1A (`BioNLP2023-1A-Test.csv`): a CSV with a header row whose fields
contain newlines and quotes. Upstream column names differ from the names the reference prompt
uses; the accepted alternatives are listed in the protocol file's
`[tasks.problem_summary.settings]` and normalised to `Subjectives`, `Assessment`, `Summary`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cluebench.datasets.readers import reader
from cluebench.datasets._io import IdRegistry, decode_utf8
from cluebench.errors import DataError
from cluebench.protocol import load_protocol

ID_COLUMN = "File ID"
# normalised name -> settings key listing the accepted upstream names
_COLUMNS = {
    "Subjectives": "subjective_columns",
    "Assessment": "assessment_columns",
    "Summary": "summary_columns",
}


def _pick_columns(path: Path, header: list[str]) -> dict[str, str]:
    settings = load_protocol().task("problem_summary").settings
    chosen: dict[str, str] = {}
    for name, key in _COLUMNS.items():
        options = list(getattr(settings, key))
        found = next((c for c in options if c in header), None)
        if found is None:
            raise DataError(
                path,
                f"missing column: expected one of {', '.join(repr(c) for c in options)}; "
                f"header has {', '.join(repr(h) for h in header)}",
                line=1,
                field=name,
            )
        chosen[name] = found
    return chosen


@reader(
    "problem_summary",
    obtain=(
        "The BioNLP 2023 task 1A (Problem Summary) data is credentialed data on PhysioNet. As a credentialed "
        "user, sign the data use agreement at https://physionet.org/content/bionlp-workshop-2023-task-1a/2.0.0/, "
        "download BioNLP2023-1A-Test.csv and put it at {path}."
    ),
)
def read_problem_summary(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id": File ID or "row-N", "Subjectives", "Assessment", "Summary", ...original}``."""
    text = decode_utf8(path, raw)
    # csv's default field limit is 128 KiB; a clinical note of megabytes is a legal field. No
    # field can be longer than the file itself, so that is the limit (read per call: it is global).
    csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, 2**31 - 1)))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise DataError(path, f"broken CSV header: {exc}", line=1) from None
    if not any(header):
        raise DataError(path, "no header row", line=1)
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise DataError(path, f"duplicate column name(s) {', '.join(map(repr, dupes))}", line=1)
    columns = _pick_columns(path, header)
    ids = IdRegistry(path, ID_COLUMN)
    rows: list[dict] = []
    n = 0
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(path, f"broken CSV: {exc}", line=reader.line_num) from None
        if not record or all(not v.strip() for v in record):
            continue
        n += 1
        if len(record) != len(header):
            raise DataError(path, f"row has {len(record)} fields but the header has {len(header)}", line=start)
        original = {h: v for h, v in zip(header, record) if h}
        if not original[columns["Summary"]].strip():
            raise DataError(path, "empty value", line=start, field=columns["Summary"])
        ident = original.get(ID_COLUMN, "").strip() or f"row-{n}"
        ids.add(ident, start)
        row = dict(original)
        row.update({"id": ident, **{name: original[col] for name, col in columns.items()}})
        rows.append(row)
    return rows
