"""MedNLI 1.0.0 (`mli_test_v1.jsonl`): one JSON object per line with `sentence1`, `sentence2`,
`gold_label` and `pairID` (plus parse trees, kept untouched)."""

from __future__ import annotations

import json
from pathlib import Path

from cluebench.datasets._demo import MARK, write_text
from cluebench.datasets.readers import demo_writer, reader
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


# --------------------------------------------------------------------------------------------
# The synthetic demo file: invented (sentence1, sentence2, gold_label) pairs, none from MedNLI.
# --------------------------------------------------------------------------------------------
DEMO_ROWS = [
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient has acute kidney injury.", "entailment"),
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient's renal function is at baseline.", "contradiction"),
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient was recently started on an ACE inhibitor.", "neutral"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient has a respiratory infection.", "entailment"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient has been afebrile at home.", "contradiction"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient is a current smoker.", "neutral"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The time of symptom onset is unknown.", "entailment"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The patient presented within one hour of symptom onset.", "contradiction"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The patient has rhabdomyolysis.", "neutral"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient has an irregular heart rhythm.", "entailment"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient is bradycardic.", "contradiction"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient is anticoagulated with apixaban.", "neutral"),
    ("The patient denies any history of alcohol or illicit drug use.",
     "The patient reports no substance use.", "entailment"),
    ("The patient denies any history of alcohol or illicit drug use.",
     "The patient drinks six beers daily.", "contradiction"),
    ("Hemoglobin A1c was 11.2% and fingersticks ranged from 250 to 380.",
     "The patient's diabetes is poorly controlled.", "entailment"),
    ("Hemoglobin A1c was 11.2% and fingersticks ranged from 250 to 380.",
     "The patient has diabetic retinopathy.", "neutral"),
    ("CT of the head showed no acute intracranial hemorrhage.",
     "The patient has a subdural hematoma.", "contradiction"),
    ("CT of the head showed no acute intracranial hemorrhage.",
     "The patient fell before admission.", "neutral"),
    ("She was intubated in the field for airway protection and transferred to the ICU.",
     "The patient required mechanical ventilation.", "entailment"),
    ("Oxygen saturation was 97% on room air at rest and with ambulation.",
     "The patient requires home oxygen.", "contradiction"),
]


@demo_writer("mednli")
def write_demo(path: Path) -> None:
    """`mli_test_v1.jsonl` of the demo pairs, pairIDs "SYNTHETIC-mednli-NNNN"."""
    lines = []
    for i, (s1, s2, label) in enumerate(DEMO_ROWS, start=1):
        lines.append(json.dumps({"sentence1": s1, "pairID": f"{MARK}-mednli-{i:04d}", "sentence2": s2,
                                 "gold_label": label}, ensure_ascii=False))
    write_text(path, "\n".join(lines) + "\n")
