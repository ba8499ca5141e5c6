"""The run files' records (cluebench.records) against docs/run-files.md and real run files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cluebench.analysis.runfiles import Run, read_samples
from cluebench.errors import DataError
from cluebench.records import FORMAT_VERSION, ResultsFile, SampleRecord, TaskResult, field_names
from cluebench.run.runner import RunSettings, run

DOC = Path(__file__).resolve().parents[1] / "docs" / "run-files.md"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_samples_table_lists_exactly_the_record_fields_in_file_order() -> None:
    table = _doc().split("## `<task>/samples.jsonl`")[1].split("\n## ")[0]
    keys = [k for row in table.splitlines() if row.startswith("| `") for k in re.findall(r"`(\w+)`", row.split("|")[1])]
    assert keys == field_names(SampleRecord)


def test_the_results_example_has_exactly_the_record_fields() -> None:
    block = _doc().split("## `results.json`")[1].split("```json")[1].split("```")[0]
    example = json.loads(block)
    assert list(example) == field_names(ResultsFile)
    assert set(example["tasks"]["<task>"]) == set(field_names(TaskResult))


def test_a_run_writes_what_the_records_read_back(tmp_path: Path, fake_calls: list) -> None:
    out = run(RunSettings(model="fake:demo", tasks=["mednli", "medisumcode"], limit=3, out=tmp_path / "r",
                          progress=False, write_report=False)).out
    results = json.loads((out / "results.json").read_text())
    assert ResultsFile.from_dict(results).to_dict() == results
    assert json.loads((out / "config.json").read_text())["cluebench_run"] == FORMAT_VERSION
    for task in ("mednli", "medisumcode"):
        for obj in read_samples(out / task / "samples.jsonl"):
            record = SampleRecord.from_dict(obj)
            assert record.to_dict() == obj and list(obj) == field_names(SampleRecord)
    assert Run.load(out).task_entry("mednli")["n"] == 3


def test_a_key_nobody_defined_is_an_error_naming_file_line_and_key(tmp_path: Path, fake_calls: list) -> None:
    out = run(RunSettings(model="fake:demo", tasks=["mednli"], limit=2, out=tmp_path / "r",
                          progress=False, write_report=False)).out
    path = out / "mednli" / "samples.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[1]) | {"confidence": 0.9}
    path.write_text("\n".join([lines[0], json.dumps(row)]) + "\n")
    with pytest.raises(DataError, match=r"samples.jsonl, line 2, field 'confidence'"):
        read_samples(path)
    results = json.loads((out / "results.json").read_text())
    results["tasks"]["mednli"]["score"] = 1
    (out / "results.json").write_text(json.dumps(results))
    with pytest.raises(DataError, match=r"results.json, field 'tasks.mednli.score'"):
        Run.load(out)
