"""MedNLI 1.0.0 (`mli_test_v1.jsonl`): one JSON object per line with `sentence1`, `sentence2`,
`gold_label` and `pairID` (plus parse trees, kept untouched)."""

from __future__ import annotations

from pathlib import Path

from cluebench.datasets.readers import reader
from cluebench.datasets._io import IdRegistry, decode_utf8, iter_jsonl, optional_id, require_object, require_str
from cluebench.errors import DataError
from cluebench.protocol import load_protocol


@reader(
    "mednli",
    obtain=(
        "MedNLI is credentialed data on PhysioNet. Become a credentialed PhysioNet user "
        "(https://physionet.org/settings/credentialing/, with the required CITI training), sign the data use "
        "agreement at https://physionet.org/content/mednli/1.0.0/, download mli_test_v1.jsonl and put it at {path}."
    ),
)
def read_mednli(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id": pairID or "line-N", "sentence1", "sentence2", "gold_label", ...original}``."""
    labels = load_protocol().task("mednli").settings.labels
    text = decode_utf8(path, raw)
    ids = IdRegistry(path, "pairID")
    rows: list[dict] = []
    for _, value, line in iter_jsonl(path, text):
        obj = require_object(path, value, line, "each line")
        s1 = require_str(path, obj, "sentence1", line, allow_empty=False)
        s2 = require_str(path, obj, "sentence2", line, allow_empty=False)
        label = require_str(path, obj, "gold_label", line)
        if label not in labels:
            raise DataError(
                path, f"unknown label {label!r}; expected one of {', '.join(labels)}", line=line, field="gold_label"
            )
        ident = optional_id(path, obj, "pairID", line) or f"line-{line}"
        ids.add(ident, line)
        rows.append({**obj, "id": ident, "sentence1": s1, "sentence2": s2, "gold_label": label})
    return rows
