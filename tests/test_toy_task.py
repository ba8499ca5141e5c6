"""Adding a task touches exactly three files (README, "Architecture"): a protocol section, a task
file `cluebench/tasks/<id>.py` and a reader file `cluebench/datasets/readers/<id>.py` (which also
holds the task's demo rows and their writer). This test adds a toy task through exactly those
(written to temporary folders that extend the packages) and runs it end to end with `clue run`'s
and `clue score`'s own code, on given data and on its own demo file: no table anywhere else is
edited."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

import cluebench.datasets.dataset as dataset_module
import cluebench.datasets.readers as readers_pkg
import cluebench.tasks as tasks_pkg
from cluebench.datasets import DATA_FILES, DEMO_DIR
from cluebench.protocol import protocol_path
from cluebench.run.runner import RunSettings, run
from cluebench.run.score import score_predictions
from cluebench.tasks import registry

TOY_SECTION = '''
[tasks.toy]
level = 1
credentialed = false
data_file = "toy/toy.jsonl"
n_paper = 5
shots = 1
max_new_tokens = 40
headline = "exact"
metrics = ["exact"]
truncatable = []
reference_field = "answer"
system = "Answer with the question, word for word."
user = "TOY: {question}"
assistant = "{answer}"
'''

TOY_TASK = '''
from cluebench.tasks.base import Score
from cluebench.tasks.fewshot import FewShotTask
from cluebench.tasks.registry import register_task


@register_task("toy")
class ToyTask(FewShotTask):
    error_flags = ("loop", "parse_failed")

    def score(self, samples, outputs, scorers):
        out = []
        for sample, output in zip(samples, outputs):
            text = output.strip()
            flags = self.base_flags(output)
            flags["parse_failed"] = not text
            out.append(Score(parsed=text, metrics={"exact": 100.0 if text == sample.gold else 0.0}, flags=flags))
        return out
'''

TOY_READER = '''
import json

from cluebench.datasets._demo import MARK, write_text
from cluebench.datasets.readers import demo_writer, reader


@reader("toy", obtain="the toy set is made up; put it at {path}")
def read_toy(path, raw):
    return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]


DEMO_ROWS = [("What is seven?", "7"), ("Name the colour of snow.", "white"), ("Say yes.", "yes"),
             ("What is one plus one?", "2"), ("Spell cat.", "cat")]


@demo_writer("toy")
def write_demo(path):
    rows = [{"id": f"{MARK}-toy-{i}", "question": q, "answer": a} for i, (q, a) in enumerate(DEMO_ROWS)]
    write_text(path, "".join(json.dumps(r) + "\\n" for r in rows))
'''


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    protocol = tmp_path / "with_toy.toml"
    protocol.write_text(protocol_path().read_text(encoding="utf-8") + TOY_SECTION, encoding="utf-8")
    for name, text, pkg in (("tasks_ext", TOY_TASK, tasks_pkg), ("readers_ext", TOY_READER, readers_pkg)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "toy.py").write_text(textwrap.dedent(text), encoding="utf-8")
        monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(folder)])
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    monkeypatch.setattr(readers_pkg, "_ENTRIES", dict(readers_pkg._ENTRIES))
    monkeypatch.setattr(readers_pkg, "_DEMOS", dict(readers_pkg._DEMOS))
    for module in ("cluebench.tasks.toy", "cluebench.datasets.readers.toy"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    data = tmp_path / "data"
    (data / "toy").mkdir(parents=True)
    rows = [{"id": f"t{i}", "question": f"What is {i} plus {i}?", "answer": f"{2 * i}"} for i in range(5)]
    (data / "toy" / "toy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    yield {"protocol": str(protocol), "data": data, "rows": rows}
    for module in ("cluebench.tasks.toy", "cluebench.datasets.readers.toy"):
        sys.modules.pop(module, None)


def test_a_toy_task_runs_through_its_three_files(toy: dict, tmp_path: Path, fake_calls: list) -> None:
    outcome = run(RunSettings(model="fake:demo", tasks=["toy"], protocol=toy["protocol"], data_dir=toy["data"],
                              out=tmp_path / "run", progress=False, write_report=False))
    entry = outcome.results["tasks"]["toy"]
    assert entry["n"] == 4 and len(entry["shot_ids"]) == 1 and entry["headline"] == "exact"
    assert entry["data"]["synthetic"] is False and entry["credentialed"] is False
    assert list(entry["errors"]) == ["failed", "truncated", "length_capped", "loop", "parse_failed"]
    rows = [json.loads(line) for line in (outcome.out / "toy" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["input"].startswith("TOY: What is ") for r in rows)
    by_id = {r["id"]: r for r in toy["rows"]}
    for r in rows:
        assert r["reference"] == by_id[r["id"]]["answer"]
        assert r["metrics"]["exact"] == (100.0 if r["output"].strip() == r["reference"] else 0.0)
    assert entry["metrics"]["exact"]["mean"] == pytest.approx(sum(r["metrics"]["exact"] for r in rows) / 4)
    assert len(fake_calls) == 4
    config = json.loads((outcome.out / "config.json").read_text())
    assert config["decoding"]["max_tokens"] == {"toy": 40}

    # `clue score` knows the toy task through the same files: pairs and id-matched lines.
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prediction": "4", "reference": "4"}) + "\n"
                     + json.dumps({"prediction": "5", "reference": "6"}) + "\n")
    scored = score_predictions("toy", pairs, protocol=toy["protocol"])
    assert scored["n"] == 2 and scored["metrics"]["exact"] == 50.0
    by_ids = tmp_path / "ids.jsonl"
    by_ids.write_text("".join(json.dumps({"id": r["id"], "prediction": r["reference"]}) + "\n" for r in rows))
    assert score_predictions("toy", by_ids, toy["data"], protocol=toy["protocol"])["metrics"]["exact"] == 100.0


def test_the_toy_task_brings_its_demo_rows_to_the_demo_set(
    toy: dict, tmp_path: Path, fake_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make_demo.py` writes the toy's demo file with the six tasks', through the toy's own
    `@demo_writer`; with no data directory `clue run` then falls back to it as synthetic data."""
    spec = importlib.util.spec_from_file_location("make_demo", DEMO_DIR / "make_demo.py")
    make_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_demo)
    demo = make_demo.main(tmp_path / "demo", protocol=toy["protocol"])
    written = sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*.*"))
    assert written == sorted([*DATA_FILES.values(), "toy/toy.jsonl"])
    assert (demo / "mednli" / "mli_test_v1.jsonl").read_bytes() == (DEMO_DIR / "mednli" / "mli_test_v1.jsonl").read_bytes()

    monkeypatch.setattr(dataset_module, "DEMO_DIR", demo)
    monkeypatch.delenv("CLUE_DATA_DIR", raising=False)
    outcome = run(RunSettings(model="fake:demo", tasks=["toy"], protocol=toy["protocol"], out=tmp_path / "run",
                              progress=False, write_report=False))
    entry = outcome.results["tasks"]["toy"]
    assert entry["data"]["synthetic"] is True and entry["data"]["path"] == str(demo / "toy" / "toy.jsonl")
    assert entry["n"] == 4 and len(entry["shot_ids"]) == 1
    rows = [json.loads(line) for line in (outcome.out / "toy" / "samples.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rows} | set(entry["shot_ids"]) == {f"SYNTHETIC-toy-{i}" for i in range(5)}
    answers = {f"SYNTHETIC-toy-{i}": a for i, a in enumerate(["7", "white", "yes", "2", "cat"])}
    assert all(r["reference"] == answers[r["id"]] and r["input"].startswith("TOY: ") for r in rows)


def test_a_protocol_task_without_a_task_file_is_a_clear_error(tmp_path: Path) -> None:
    from cluebench.errors import ConfigError
    from cluebench.protocol import load_protocol

    path = tmp_path / "orphan.toml"
    path.write_text(protocol_path().read_text(encoding="utf-8") + TOY_SECTION.replace("toy", "orphan"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"task .orphan. of protocol orphan has no code.*tasks/orphan.py"):
        registry.get_task("orphan", load_protocol(str(path)))
