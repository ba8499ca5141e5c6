"""`check_data_dir`: found / missing / malformed per task, checksums where known, and the report."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from cluebench.datasets import DATA_FILES, check_data_dir, demo_path
from cluebench.protocol import load_protocol
from cluebench.terminal import format_check_report
from cluebench.errors import DataError


def copy_demo(root, task):
    target = root / DATA_FILES[task]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_path(task), target)
    return target


def test_statuses_rows_problems_and_report(tmp_path):
    copy_demo(tmp_path, "mednli")
    copy_demo(tmp_path, "medisumcode")
    bad = tmp_path / DATA_FILES["medisumqa"]
    bad.parent.mkdir(parents=True)
    bad.write_text('{"note_id": "n", "discharge_summary": "x", "Question": "q"}\n')
    results = {r.task: r for r in check_data_dir(tmp_path)}
    assert list(results) == list(DATA_FILES)
    assert (results["mednli"].status, results["mednli"].rows) == ("found", 20)
    assert results["mednli"].sha256 == hashlib.sha256(demo_path("mednli").read_bytes()).hexdigest()
    assert (results["medisumcode"].status, results["medisumcode"].rows) == ("found", 10)
    assert results["medisumqa"].status == "malformed" and results["medisumqa"].rows is None
    assert "line 1, field 'Answer': missing field" in results["medisumqa"].problem
    for task in ("meqsum", "problem_summary", "longhealth"):
        assert results[task].status == "missing"
        assert results[task].expected_path == tmp_path / DATA_FILES[task]
    assert "https://physionet.org/content/bionlp-workshop-2023-task-1a/2.0.0/" in results["problem_summary"].problem
    assert "`clue data fetch --data-dir" in results["longhealth"].problem

    report = format_check_report(list(results.values()), {t: s.n_paper for t, s in load_protocol().tasks.items()})
    lines = report.splitlines()
    assert lines[0].split()[:4] == ["task", "status", "rows", "paper"]
    mednli_line = next(line for line in lines if line.startswith("mednli "))
    assert mednli_line.split()[:4] == ["mednli", "found", "20", "1,425"]
    assert str(tmp_path / DATA_FILES["mednli"]) in mednli_line
    assert "Problems:" in lines
    assert lines[-1] == "2 of 6 task files found and valid."
    assert not any("rows are" in line for line in lines)  # no reader with a rows note was read


def test_pinned_checksum_mismatch_is_malformed(tmp_path):
    copy_demo(tmp_path, "meqsum")  # a valid workbook, but not the pinned upstream MeQSum file
    [result] = check_data_dir(tmp_path, ["meqsum"])
    assert result.status == "malformed" and result.rows == 20
    assert "differs from the pinned upstream sha256 abedd939" in result.problem


def test_checksums_manifest_is_honoured(tmp_path):
    path = copy_demo(tmp_path, "longhealth")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "CHECKSUMS").write_text(f"{digest}  longhealth/benchmark_v5.json\n")
    assert check_data_dir(tmp_path, ["longhealth"])[0].status == "found"
    (tmp_path / "CHECKSUMS").write_text(f"{'0' * 64}  longhealth/benchmark_v5.json\n")
    result = check_data_dir(tmp_path, ["longhealth"])[0]
    assert result.status == "malformed" and "CHECKSUMS" in result.problem


def test_unknown_task_is_rejected(tmp_path):
    with pytest.raises(DataError, match="unknown task"):
        check_data_dir(tmp_path, ["pubmedqa"])


def test_ambiguous_longhealth_question_is_a_warning_not_a_failure(tmp_path):
    """A question whose `correct` text is in two options reads (scored by the reference's rule,
    the last containing option) and `clue data check` names it; the file stays `found`."""
    import json

    question = {"question": "Which drug?", "answer_a": "Warfarin", "answer_b": "Heparin",
                "answer_c": "Warfarin and heparin", "answer_d": "Apixaban", "answer_e": "None",
                "correct": "Warfarin", "answer_location": {"text_0": {"start": [0.0], "end": [0.5]}}}
    path = tmp_path / "longhealth" / "benchmark_v5.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"patient_01": {"texts": {"text_0": "Warfarin."}, "questions": [question]}}))
    [result] = check_data_dir(tmp_path, ["longhealth"])
    assert result.status == "found" and result.ok
    assert result.warnings == [
        "patient_01.questions[0].correct: 'Warfarin' is contained in options A, C; scored as C "
        "(the reference's rule: the last containing option)"
    ]
    report = format_check_report([result])
    assert "Warnings (1; the files are used as they are):" in report
    assert "longhealth: patient_01.questions[0].correct: 'Warfarin' is contained in options A, C" in report
    assert "1 of 1 task files found and valid." in report
    # the reader says what a row is (a patient, while the paper's n counts questions)
    assert result.rows_note == "rows are patients; the paper's n counts questions"
    assert "(longhealth rows are patients; the paper's n counts questions)" in report.splitlines()
