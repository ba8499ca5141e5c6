"""Manual review round trip: export a sheet, fill it in as a reviewer would, import it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cluebench.errors import DataError
from cluebench.generate.output import manifest_path
from cluebench.generate.review import COLUMNS, export_review, import_review

PAIRS = [
    {"note_id": "n1", "without_discharge_summary": "FAKE letter one,\nwith \"quotes\"", "discharge_summary": "x",
     "Question": "What did imaging find?", "Answer": "Pneumonia."},
    {"note_id": "n1", "without_discharge_summary": "FAKE letter one", "Question": "Q2?", "Answer": "A2."},
    {"note_id": "n2", "discharge_summary": "FAKE letter two", "Question": "Q3?", "Answer": "A3."},
]


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "MeDiSumQA.json"
    path.write_text("".join(json.dumps(p) + "\n" for p in PAIRS), encoding="utf-8")
    return path


def _sheet(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _fill(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


def test_round_trip(dataset: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "review.csv"
    assert export_review(dataset, sheet) == 3
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for spreadsheet programs
    rows = _sheet(sheet)
    assert [r["row"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["context"] == 'FAKE letter one,\nwith "quotes"'
    assert rows[2]["context"] == "FAKE letter two"
    assert all(r["accept"] == "" for r in rows)

    rows[0]["accept"], rows[0]["comment"] = "Yes", "fine"
    rows[1]["accept"] = "no"
    rows[2]["accept"], rows[2]["Answer"] = "x", "A3, corrected."
    out = tmp_path / "reviewed.json"
    manifest = import_review(dataset, _fill(sheet, rows), out)
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(k["note_id"], k["Question"], k["Answer"]) for k in kept] == [
        ("n1", "What did imaging find?", "Pneumonia."),
        ("n2", "Q3?", "A3, corrected."),
    ]
    assert kept[0]["review"] == {"accepted": True, "edited": False, "comment": "fine"}
    assert kept[1]["review"]["edited"] is True
    assert kept[0]["without_discharge_summary"] == PAIRS[0]["without_discharge_summary"]
    assert manifest["counts"] == {"pairs": 3, "accepted": 2, "rejected": 1, "edited": 1}
    assert json.loads(manifest_path(out).read_text())["counts"] == manifest["counts"]


def _filled(dataset: Path, tmp_path: Path) -> list[dict]:
    sheet = tmp_path / "review.csv"
    export_review(dataset, sheet)
    rows = _sheet(sheet)
    for r in rows:
        r["accept"] = "yes"
    return rows


def test_missing_decision_names_line(dataset: Path, tmp_path: Path) -> None:
    rows = _filled(dataset, tmp_path)
    rows[1]["accept"] = ""
    sheet = _fill(tmp_path / "r.csv", rows)
    with pytest.raises(DataError) as exc:
        import_review(dataset, sheet, tmp_path / "o.json")
    # rows 0 spans lines 2-3 (its context holds a newline), row 1 is on line 4
    assert (exc.value.line, exc.value.field) == (4, "accept")
    assert "expected yes or no" in str(exc.value)
    rows[1]["accept"] = "maybe"
    with pytest.raises(DataError, match="'maybe' is not a decision"):
        import_review(dataset, _fill(tmp_path / "r.csv", rows), tmp_path / "o.json")
    assert not (tmp_path / "o.json").exists()


def test_sheet_that_does_not_match(dataset: Path, tmp_path: Path) -> None:
    rows = _filled(dataset, tmp_path)
    with pytest.raises(DataError, match="no review row: 2"):
        import_review(dataset, _fill(tmp_path / "r.csv", rows[:2]), tmp_path / "o.json")
    with pytest.raises(DataError, match="reviewed twice"):
        import_review(dataset, _fill(tmp_path / "r.csv", rows + rows[:1]), tmp_path / "o.json")
    rows[2]["note_id"] = "n9"
    with pytest.raises(DataError, match="sheet from another file") as exc:
        import_review(dataset, _fill(tmp_path / "r.csv", rows), tmp_path / "o.json")
    assert exc.value.field == "note_id"
    rows[2]["note_id"], rows[2]["row"] = "n2", "7"
    with pytest.raises(DataError, match="not a row"):
        import_review(dataset, _fill(tmp_path / "r.csv", rows), tmp_path / "o.json")


def test_bad_dataset_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"note_id": "n1", "Question": "q", "Answer": "a"}\n{"note_id": 5}\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        export_review(bad, tmp_path / "r.csv")
    assert (exc.value.line, exc.value.field) == (2, "note_id")
