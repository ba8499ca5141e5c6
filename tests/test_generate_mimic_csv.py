"""The streaming MIMIC CSV reader: multi-line records, line numbers, digests, clear errors."""

from __future__ import annotations

import csv
import gzip
import hashlib
from pathlib import Path

import pytest

from cluebench.errors import DataError
from cluebench.generate.mimic_csv import NOTE_COLUMNS, MimicCsv, parse_int

# Three fake notes; the second one's text spans three physical lines and holds commas and quotes.
NOTES = [
    ("1-DS-1", "1", "101", "DS", "1", "", "", "FAKE NOTE one line"),
    ("2-DS-1", "2", "102", "DS", "1", "", "", 'FAKE line a, with comma\nline "b"\nline c'),
    ("3-DS-1", "3", "103", "DS", "2", "", "", "FAKE third"),
]


def _write(path: Path, rows, header=NOTE_COLUMNS) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _read(path: Path, columns=("note_id", "text")):
    with MimicCsv(path, columns) as f:
        rows = list(f.rows())
        digest = f.sha256
    return rows, digest


@pytest.mark.parametrize("name", ["discharge.csv", "discharge.csv.gz"])
def test_rows_lines_and_digest(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, NOTES)
    rows, digest = _read(path)
    # header = line 1; note 1 = line 2; note 2 starts on line 3 and spans 3..5; note 3 = line 6
    assert rows == [
        (2, ("1-DS-1", "FAKE NOTE one line")),
        (3, ("2-DS-1", 'FAKE line a, with comma\nline "b"\nline c')),
        (6, ("3-DS-1", "FAKE third")),
    ]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_digest_covers_whole_file_after_early_stop(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv.gz", NOTES * 2000)
    with MimicCsv(path, ("note_id",)) as f:
        first = next(iter(f.rows()))
        digest = f.sha256
        assert f.bytes_read == path.stat().st_size
    assert first == (2, ("1-DS-1",))
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_columns_in_requested_order_and_any_header_order(tmp_path: Path) -> None:
    header = ("text", "hadm_id", "note_id")
    path = _write(tmp_path / "d.csv", [("T", "9", "N")], header=header)
    rows, _ = _read(path, ("note_id", "hadm_id"))
    assert rows == [(2, ("N", "9"))]


def test_field_over_default_csv_limit(tmp_path: Path) -> None:
    long_text = "FAKE " * 60_000  # 300 kB, above csv's 128 kB default field limit
    path = _write(tmp_path / "d.csv", [("1-DS-1", "1", "101", "DS", "1", "", "", long_text)])
    rows, _ = _read(path)
    assert rows[0][1][1] == long_text


def test_missing_column_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", [("1", "x")], header=("note_id", "txt"))
    with pytest.raises(DataError) as exc:
        _read(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 1" in msg and "text" in msg
    assert exc.value.line == 1


def test_wrong_field_count_names_the_record_start_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _write(path, NOTES)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('4-DS-1,4,104,DS,1,"multi\nline",extra\n')  # line 7..8, 7 fields
    with pytest.raises(DataError) as exc:
        _read(path)
    assert exc.value.line == 7
    assert "7 field(s)" in str(exc.value) and "8" in str(exc.value)


def test_unterminated_quote_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _write(path, NOTES[:1])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('2-DS-1,2,102,DS,1,,,"never closed\nmore text\n')
    with pytest.raises(DataError) as exc:
        _read(path)
    assert exc.value.line == 3
    assert "malformed CSV" in str(exc.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv.gz", NOTES * 500)
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated gzip") as exc:
        _read(bad)
    assert str(bad) in str(exc.value)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"note_id,text\nA,ok\nB,bad \xff byte\n")
    with pytest.raises(DataError, match="UTF-8"):
        _read(path)


def test_missing_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        _read(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty file") as exc:
        _read(tmp_path / "empty.csv")
    assert exc.value.line == 1


def test_parse_int() -> None:
    assert parse_int(Path("f"), " 20000001 ", 3, "hadm_id") == 20000001
    assert parse_int(Path("f"), "20000001.0", 3, "hadm_id") == 20000001
    with pytest.raises(DataError) as exc:
        parse_int(Path("f.csv"), "abc", 3, "hadm_id")
    assert str(exc.value) == "f.csv, line 3, field 'hadm_id': expected an integer, got 'abc'"
