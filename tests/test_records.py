"""The run files' records (cluebench.records) against docs/run-files.md and real run files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cluebench.analysis.runfiles import Run, read_samples
from cluebench.errors import DataError
from cluebench.records import FORMAT_VERSION, ConfigFile, ResultsFile, SampleRecord, TaskResult, field_names
from cluebench.run.runner import RunSettings, run

DOC = Path(__file__).resolve().parents[1] / "docs" / "run-files.md"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _table_keys(section: str) -> list[str]:
    """The keys in the first column of the doc's table under ``## `section` ``."""
    table = _doc().split(f"## `{section}`")[1].split("\n## ")[0]
    return [k for row in table.splitlines() if row.startswith("| `") for k in re.findall(r"`(\w+)`", row.split("|")[1])]


def test_the_samples_table_lists_exactly_the_record_fields_in_file_order() -> None:
    assert _table_keys("<task>/samples.jsonl") == field_names(SampleRecord)


def test_the_config_table_lists_exactly_the_record_fields_in_file_order() -> None:
    assert _table_keys("config.json") == [k for k in field_names(ConfigFile) if k != "other"]


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
    config = json.loads((out / "config.json").read_text())
    assert config["cluebench_run"] == FORMAT_VERSION
    assert ConfigFile.from_dict(config).other == {}  # every key the runner writes has a field
    assert ConfigFile.from_dict(config).to_dict() == config
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


@pytest.mark.parametrize("text, where", [
    ('[{"id": "a"}]', r"samples.jsonl, line 1, field 'id': expected a JSON object"),
    ('{"task": "mednli"}', r"samples.jsonl, line 1, field 'id'"),
    ('{"id": "a", "flags": []}', r"samples.jsonl, line 1, field 'flags': expected an object, got a list"),
    ('{"id": "a"}\n\n{"id": "b", "subtask": "1"}', r"samples.jsonl, line 3, field 'subtask': expected a number"),
])
def test_a_malformed_sample_line_is_an_error_naming_its_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "mednli").mkdir()
    (tmp_path / "mednli" / "samples.jsonl").write_text(text + "\n")
    with pytest.raises(DataError, match=where):
        Run.load(tmp_path).samples("mednli")


@pytest.mark.parametrize("results, where", [
    ([], r"results.json: expected a JSON object, got a list"),
    ({"tasks": {"mednli": []}}, r"field 'tasks.mednli': expected an object, got a list"),
    ({"tasks": {"mednli": {"metrics": {"accuracy": {"mean": "high"}}}}}, r"field 'tasks.mednli.metrics.accuracy.mean'"),
    ({"tasks": {"mednli": {"metrics": {"accuracy": {"mean": 1.0, "ci": 3}}}}}, r"field 'tasks.mednli.metrics.accuracy.ci'"),
    ({"levels": {"level1": [1]}}, r"field 'levels.level1': expected an object"),
])
def test_a_malformed_results_file_is_an_error_naming_the_field(tmp_path: Path, results: object, where: str) -> None:
    (tmp_path / "results.json").write_text(json.dumps(results))
    with pytest.raises(DataError, match=where):
        Run.load(tmp_path)


def test_rows_still_in_memory_read_as_the_files_do() -> None:
    from cluebench.records import as_samples, as_task_result

    row = {"id": "a", "output": None, "flags": {"failed": True}}
    (record,) = as_samples([row])
    assert record.output is None and record.flags == {"failed": True} and record.metrics == {}
    assert as_samples([record])[0] is record
    entry = as_task_result({"headline": "accuracy", "metrics": {"accuracy": {"mean": 50.0, "ci": None}}})
    assert entry.metrics["accuracy"]["mean"] == 50.0 and entry.n == 0
    with pytest.raises(DataError, match="field 'confidence'"):
        as_samples([row | {"confidence": 1}])


@pytest.mark.parametrize(
    "protocol, field",
    [({"id": ["a"]}, "protocol.id"), ({"id": "clue-paper", "sha256": 5}, "protocol.sha256"),
     ({"id": "clue-paper", "variant": 3}, "protocol.variant")],
)
def test_a_malformed_protocol_record_is_one_error_naming_its_field(protocol, field) -> None:
    from cluebench.errors import DataError
    from cluebench.records import ConfigFile, ResultsFile

    for cls, name in ((ResultsFile, "results.json"), (ConfigFile, "config.json")):
        with pytest.raises(DataError) as err:
            cls.from_dict({"protocol": protocol}, name)
        assert f"field '{field}'" in str(err.value) and name in str(err.value)
