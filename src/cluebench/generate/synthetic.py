"""Clearly fake MIMIC-IV-format files for tests and benchmarks (no real patient data anywhere).

The notes look like MIMIC-IV-Note discharge summaries in *form* only: the same columns, quoted
multi-line text with commas and quotes, `___` de-identification blanks and, in most notes, a
"Discharge Instructions" section opening with "You were admitted to the hospital". Every note
says it is synthetic. The diagnoses mix ICD-9 and ICD-10 rows, including codes that have no GEM
mapping, so every branch of the builders is exercised.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path
from typing import IO

from cluebench.generate.mimic_csv import DIAGNOSES_COLUMNS, NOTE_COLUMNS

# (version, code): valid ICD-10-CM codes, ICD-9 codes with a GEM mapping, and unmappable ones.
ICD10_CODES = ("I10", "E119", "J189", "N179", "E785", "K219", "F329", "Z794", "D649", "I4891")
ICD9_CODES = ("4019", "25000", "486", "41401", "5849", "2724", "53081", "311", "V5867", "2859")
ICD9_UNMAPPABLE = ("0000", "99999")

_INSTRUCTIONS = (
    "Discharge Instructions:\n"
    "Dear Mr. ___,\n\n"
    "You were admitted to the hospital because of {complaint}. "
    "* You were treated with {treatment}.\n"
    "* Your {test} showed {finding}.\n"
    "* Your symptoms improved and you were able to walk with help.\n\n"
    "It was a pleasure taking care of you.\n\n"
    "Followup Instructions:\n___\n"
)

_COMPLAINTS = ("chest pain", "shortness of breath", "a fever", "a fall at home", "abdominal pain")
_TREATMENTS = ("antibiotics", "IV fluids", "a water pill", "blood thinners", "pain medicine")
_TESTS = ("chest x-ray", "CT scan", "echocardiogram", "blood work", "ultrasound")
_FINDINGS = ("pneumonia", "no bleeding", "a weak heart", "a kidney stone", "normal results")

_FILLER = (
    "SYNTHETIC NOTE FOR SOFTWARE TESTING - NOT REAL PATIENT DATA. Patient ___ is a fictional "
    '{age} year old with "made up" history, including hypertension, diabetes, and reflux. '
    "Vitals: T 98.{d} HR 8{d} BP 12{d}/7{d}. Labs, all invented: WBC {d}.1, Hgb 1{d}.2.\n"
)


def synthetic_note(rng: random.Random, *, chars: int = 2000, instructions: bool = True) -> str:
    """One fake discharge summary of roughly `chars` characters."""
    head = (
        f"Name:  ___                     Unit No:   ___\n\nAdmission Date:  ___     Discharge Date:   ___\n\n"
        f"Service: MEDICINE\n\nChief Complaint:\n{rng.choice(_COMPLAINTS)}\n\n\n"
        "Brief Hospital Course:\n"
    )
    body = []
    size = len(head)
    while size < chars:
        para = _FILLER.format(age=rng.randint(20, 95), d=rng.randint(0, 9))
        body.append(para)
        size += len(para)
    text = head + "".join(body)
    text += "\n\nDischarge Disposition:\nHome\n\n\n"
    if instructions:
        text += _INSTRUCTIONS.format(
            complaint=rng.choice(_COMPLAINTS),
            treatment=rng.choice(_TREATMENTS),
            test=rng.choice(_TESTS),
            finding=rng.choice(_FINDINGS),
        )
    return text


def _open(path: Path, compress: bool) -> IO[str]:
    if compress:
        return io.TextIOWrapper(gzip.open(path, "wb", compresslevel=1), encoding="utf-8", newline="")
    return open(path, "w", encoding="utf-8", newline="")


def write_notes(
    path: Path,
    n: int | None = None,
    *,
    seed: int = 0,
    target_bytes: int | None = None,
    chars: int = 2000,
    compress: bool | None = None,
    first_hadm: int = 20000000,
    missing_hadm_every: int = 0,
    no_instructions_every: int = 5,
) -> list[str]:
    """Write fake `discharge.csv(.gz)`; stop after `n` notes or once `target_bytes` of CSV text
    are written. Returns the hadm_ids written ("" for the ones left blank on purpose)."""
    if n is None and target_bytes is None:
        raise ValueError("give n or target_bytes")
    path = Path(path)
    compress = path.suffix == ".gz" if compress is None else compress
    rng = random.Random(seed)
    hadm_ids: list[str] = []
    written = 0
    with _open(path, compress) as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(NOTE_COLUMNS)
        i = 0
        while (n is None or i < n) and (target_bytes is None or written < target_bytes):
            subject = 10000000 + i
            hadm = "" if missing_hadm_every and i % missing_hadm_every == missing_hadm_every - 1 else str(first_hadm + i)
            with_instr = not (no_instructions_every and i % no_instructions_every == no_instructions_every - 1)
            text = synthetic_note(rng, chars=chars, instructions=with_instr)
            row = (f"{subject}-DS-{i % 30 + 1}", subject, hadm, "DS", i % 30 + 1,
                   "2180-07-23 00:00:00", "2180-07-23 15:48:00", text)
            writer.writerow(row)
            written += len(text) + 80
            hadm_ids.append(hadm)
            i += 1
    return hadm_ids


def write_diagnoses(path: Path, hadm_ids: list[str], *, seed: int = 0, per_admission: int = 15,
                    compress: bool | None = None) -> int:
    """Write fake `diagnoses_icd.csv(.gz)` for these admissions (mixed ICD-9/10); returns rows."""
    path = Path(path)
    compress = path.suffix == ".gz" if compress is None else compress
    rng = random.Random(seed)
    rows = 0
    with _open(path, compress) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(DIAGNOSES_COLUMNS)
        for i, hadm in enumerate(hadm_ids):
            if not hadm:
                continue
            version, pool = (9, ICD9_CODES + ICD9_UNMAPPABLE) if i % 2 else (10, ICD10_CODES)
            codes = rng.sample(pool, min(len(pool), rng.randint(1, per_admission)))
            for seq, code in enumerate(codes, start=1):
                writer.writerow((10000000 + i, hadm, seq, code, version))
                rows += 1
    return rows
