"""Bad input written by the tests themselves: data paths that exist but cannot be read, JSON
that Python's parser cannot hold, text that UTF-8 cannot hold, broken workbooks, legal but huge
CSV fields, and `clue score` files with impossible fields. Each is one clear line, exit 2, and
nothing half-written; a path that exists in any form never falls back to the demo data."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from cluebench.cli import main
from cluebench.datasets import resolve_dataset
from cluebench.datasets.dataset import demo_path, read_dataset
from cluebench.errors import DataError

MEDNLI = "mednli/mli_test_v1.jsonl"


def _pair(i: int, **kw) -> dict:
    row = {"sentence1": f"Synthetic premise {i}.", "sentence2": "Synthetic hypothesis.",
           "gold_label": "neutral", "pairID": f"syn-{i}"}
    row.update(kw)
    return row


def _data_dir(tmp_path: Path) -> Path:
    (tmp_path / "data" / "mednli").mkdir(parents=True)
    return tmp_path / "data"


def _cli_run(capsys, data: Path, out: Path, task: str = "mednli") -> tuple[int, str]:
    code = main(["run", "--model", "fake:demo", "--tasks", task, "--limit", "2", "--data-dir",
                 str(data), "--out", str(out), "--no-report"])
    return code, capsys.readouterr().err


def _one_line(err: str) -> bool:
    return err.count("clue: error:") == 1 and "Traceback" not in err


# -- data paths ---------------------------------------------------------------------------------


def test_dangling_symlink_is_an_error_not_the_demo(tmp_path, capsys):
    data = _data_dir(tmp_path)
    (data / MEDNLI).symlink_to(tmp_path / "gone.jsonl")
    with pytest.raises(DataError, match="dangling symlink"):
        resolve_dataset("mednli", data)
    code, err = _cli_run(capsys, data, tmp_path / "run")
    assert code == 2 and _one_line(err) and "dangling symlink" in err
    assert not (tmp_path / "run").exists()


def test_symlink_loop_is_an_error_not_the_demo(tmp_path):
    data = _data_dir(tmp_path)
    a, b = data / MEDNLI, data / "mednli" / "other.jsonl"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(DataError, match="symlink loop"):
        resolve_dataset("mednli", data)


def test_a_directory_or_fifo_in_place_of_the_file_is_an_error(tmp_path):
    data = _data_dir(tmp_path)
    (data / MEDNLI).mkdir()
    with pytest.raises(DataError, match="not a regular file"):
        resolve_dataset("mednli", data)
    (data / MEDNLI).rmdir()
    os.mkfifo(data / MEDNLI)
    with pytest.raises(DataError, match="not a regular file"):
        resolve_dataset("mednli", data)


def test_unreadable_file_is_an_error_not_the_demo(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions cannot make a file unreadable")
    data = _data_dir(tmp_path)
    path = data / MEDNLI
    path.write_text(json.dumps(_pair(1)) + "\n")
    path.chmod(0)
    try:
        with pytest.raises(DataError, match="cannot be read"):
            resolve_dataset("mednli", data)
    finally:
        path.chmod(0o644)


def test_absent_file_still_uses_the_demo(tmp_path):
    data = _data_dir(tmp_path)
    assert resolve_dataset("mednli", data).synthetic is True


# -- JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_deeply_nested_json_is_one_line(tmp_path, capsys, depth):
    data = _data_dir(tmp_path)
    deep = "[" * depth + "]" * depth
    lines = [json.dumps(_pair(i)) for i in range(4)]
    lines.insert(2, '{"sentence1": ' + deep + "}")
    (data / MEDNLI).write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="nested too deeply") as info:
        resolve_dataset("mednli", data)
    assert info.value.line == 3
    code, err = _cli_run(capsys, data, tmp_path / "run")
    assert code == 2 and _one_line(err)


def test_deeply_nested_json_list_file(tmp_path):
    d = tmp_path / "medisumqa"
    d.mkdir()
    path = d / "MeDiSumQA.json"
    path.write_text('[{"discharge_summary": "x", "Question": "q", "Answer": "a", "deep": '
                    + "[" * 100_000 + "]" * 100_000 + "}]")
    with pytest.raises(DataError, match="nested too deeply"):
        read_dataset("medisumqa", path)


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b"])
def test_lone_surrogate_is_one_line_and_nothing_is_written(tmp_path, capsys, escape):
    data = _data_dir(tmp_path)
    lines = [json.dumps(_pair(i)) for i in range(5)]
    lines[3] = lines[3].replace("Synthetic premise 3.", escape)
    (data / MEDNLI).write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="surrogate") as info:
        resolve_dataset("mednli", data)
    assert info.value.line == 4
    code, err = _cli_run(capsys, data, tmp_path / "run")
    assert code == 2 and _one_line(err) and not (tmp_path / "run").exists()


def test_valid_surrogate_pair_is_fine(tmp_path):
    data = _data_dir(tmp_path)
    rows = [json.dumps(_pair(i)) for i in range(5)]
    rows[0] = rows[0].replace("Synthetic premise 0.", "smile \\ud83d\\ude00")
    (data / MEDNLI).write_text("\n".join(rows) + "\n")
    ds = resolve_dataset("mednli", data)
    assert ds.rows[0]["sentence1"] == "smile \U0001f600"


# -- xlsx and CSV -------------------------------------------------------------------------------


def _broken_xlsx(tmp_path: Path, how: str) -> Path:
    src = demo_path("meqsum")
    out = tmp_path / "meqsum" / src.name
    out.parent.mkdir(parents=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                if how == "truncated":
                    data = data[: len(data) // 2]
                elif how == "garbage":
                    data = b"<worksheet><sheetData><row><c r='A1'>&bogus;<<</c></row>"
            zout.writestr(item, data)
    out.write_bytes(buf.getvalue())
    return out


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_xlsx_with_broken_sheet_xml_is_one_line(tmp_path, how):
    path = _broken_xlsx(tmp_path, how)
    with pytest.raises(DataError) as info:
        read_dataset("meqsum", path)
    assert "xlsx" in str(info.value) and "\n" not in str(info.value)


def test_csv_field_of_megabytes_is_read(tmp_path):
    note = ("Subjective: patient well. " * 80_000)[:2_000_000]  # a 2 MB note is legal
    d = tmp_path / "problem_summary"
    d.mkdir()
    path = d / "BioNLP2023-1A-Test.csv"
    path.write_text('File ID,Subjective Sections,Assessment,Summary\n'
                    f'1,"{note}","stable","chf"\n2,"short","ok","htn"\n', encoding="utf-8")
    ds = read_dataset("problem_summary", path)
    assert len(ds.rows) == 2 and len(ds.rows[0]["Subjectives"]) == len(note)


# -- clue score ---------------------------------------------------------------------------------


def _score(capsys, tmp_path: Path, task: str, rows: list) -> tuple[int, str]:
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["score", "--task", task, "--predictions", str(path)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("subtask", ["x", None, 0, 4, True, 1.5])
def test_score_bad_subtask(tmp_path, capsys, subtask):
    code, err = _score(capsys, tmp_path, "longhealth",
                       [{"prediction": "A", "reference": "A", "subtask": subtask}])
    assert code == 2 and _one_line(err) and "subtask" in err and "line 1" in err


def test_score_null_reference_is_not_scored_as_text(tmp_path, capsys):
    code, err = _score(capsys, tmp_path, "meqsum",
                       [{"prediction": "None", "reference": "What?"},
                        {"prediction": "None", "reference": None}])
    assert code == 2 and _one_line(err) and "line 2" in err and "reference" in err


@pytest.mark.parametrize("ids", [["a", "a"], [1, "1"]])
def test_score_duplicate_ids_are_not_counted_twice(tmp_path, capsys, ids):
    code, err = _score(capsys, tmp_path, "mednli",
                       [{"id": i, "prediction": "neutral", "reference": "neutral"} for i in ids])
    assert code == 2 and _one_line(err) and "duplicate id" in err and "line 2" in err


def test_score_null_id(tmp_path, capsys):
    code, err = _score(capsys, tmp_path, "mednli", [{"id": None, "prediction": "neutral"}])
    assert code == 2 and _one_line(err) and "id" in err
