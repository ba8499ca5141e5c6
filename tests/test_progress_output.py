"""Progress a person can follow without a terminal: plain lines at task start and finish and every
interval, with ETAs from measured throughput; and the results table that fits 80 columns."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

from cluebench.models.base import Completion
from cluebench.run.runner import RunSettings, run
from cluebench.terminal import (
    PendingRequest,
    RunProgress,
    TaskPlan,
    Throughput,
    duration,
    print_run_summary,
)

from conftest import FakeBackend


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _completion(prompt: int, gen: int, latency: float) -> Completion:
    return Completion("k", "x", "stop", prompt_tokens=prompt, completion_tokens=gen, latency_s=latency)


def test_throughput_fit_recovers_prompt_and_generation_rates() -> None:
    tp = Throughput()
    for prompt, gen in ((1000, 10), (200, 100), (500, 50), (50, 200)):
        tp.observe(prompt, gen, prompt / 500 + gen / 20)  # 500 prompt tok/s, 20 generated tok/s
    pp, tg = tp.tokens_per_s()
    assert pp == pytest.approx(500) and tg == pytest.approx(20)
    assert tp.estimate([PendingRequest(1000, 40)], completion_tokens=20) == pytest.approx(2 + 1)


def test_a_degenerate_fit_reports_one_rate_not_two() -> None:
    tp = Throughput()
    for _ in range(3):  # every answer one token long after 600 prompt tokens: rates inseparable
        tp.observe(600, 1, 1.0)
    assert not tp.fitted
    pp, tg = tp.tokens_per_s()
    assert pp == tg == pytest.approx(601)  # one rate for both (the ETA still works)
    stream = io.StringIO()
    plan = TaskPlan("mednli", total=4, cached=0, pending=[PendingRequest(600, 4)] * 4)
    with RunProgress([plan], stream=stream, interval_s=60, clock=_Clock()) as progress:
        progress.start_task("mednli")
        for _ in range(4):
            progress.advance(_completion(600, 1, 1.0))
        progress.finish_task("mednli")
    finished = [l for l in stream.getvalue().splitlines() if "finished" in l][0]
    assert "(601 tok/s, prompt and generation together)" in finished and "generation 6" not in finished


def test_plain_lines_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()  # not a terminal: isatty() is False
    clock = _Clock()
    plans = [
        TaskPlan("mednli", total=4, cached=1, pending=[PendingRequest(400, 20)] * 3),
        TaskPlan("longhealth", total=2, cached=0, pending=[PendingRequest(1500, 50)] * 2),
    ]
    with RunProgress(plans, stream=stream, interval_s=0.05, clock=clock) as progress:
        assert progress.mode == "log"
        progress.start_task("mednli")
        clock.t += 2
        progress.advance(_completion(400, 20, 2.0))
        time.sleep(0.3)  # a long request: the periodic line still comes
        clock.t += 2
        progress.advance(_completion(400, 10, 1.5))
        progress.advance(_completion(400, 10, 1.5))
        progress.finish_task("mednli")
        progress.start_task("longhealth")
        progress.finish_task("longhealth")
    lines = stream.getvalue().splitlines()
    assert all(line.startswith("clue: ") for line in lines)
    assert "run: 2 tasks, 5 prompts to ask (1 answered before)" in lines[0]
    assert any(re.search(r"mednli: started, 3 of 4 prompts to ask, ETA measuring", l) for l in lines)
    periodic = [l for l in lines if "mednli: 2/4 prompts answered" in l]
    assert periodic, lines
    # after one answer the ETA is measured: 2 remaining requests, and the run's ETA includes longhealth
    eta = re.search(r"ETA (\d+:\d\d); run ETA (\d+:\d\d)", periodic[0])
    assert eta and eta.group(1) != "0:00" and eta.group(2) > eta.group(1)
    assert any(re.search(r"mednli: finished in 0:04, 3 prompts asked, 1 answered before", l) for l in lines)
    assert any("longhealth: started, 2 of 2 prompts to ask, ETA " in l for l in lines)
    assert lines[-1].startswith("clue: run: finished in ")
    assert "\x1b[" not in stream.getvalue()  # no terminal control codes in a log


def test_progress_off_prints_nothing() -> None:
    stream = io.StringIO()
    with RunProgress([TaskPlan("x", 1, 0, [PendingRequest(1, 1)])], "off", stream=stream) as p:
        p.start_task("x")
        p.advance(_completion(1, 1, 0.1))
        p.finish_task("x")
    assert stream.getvalue() == ""


def test_run_logs_task_start_and_finish_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run(RunSettings(model="fake:demo", tasks=["mednli", "medisumcode"], limit=2, out=tmp_path / "r",
                    write_report=False))
    err = capsys.readouterr().err
    for task in ("mednli", "medisumcode"):
        assert re.search(rf"^clue: {task}: started, 2 of 2 prompts to ask", err, re.M), err
        assert re.search(rf"^clue: {task}: finished in \d+:\d\d, 2 prompts asked", err, re.M), err
    assert "SYNTHETIC demo set" in err
    run(RunSettings(model="fake:demo", tasks=["mednli"], limit=2, out=tmp_path / "r", write_report=False))
    assert "mednli: started, all 2 prompts answered before (nothing to ask)" in capsys.readouterr().err


def test_duration_format() -> None:
    assert duration(5) == "0:05" and duration(65) == "1:05" and duration(3723) == "1:02:03"
    assert duration(None) == "?"


def test_results_table_fits_80_columns_without_cutting_names_or_cis() -> None:
    tasks = {}
    for i, (task, head) in enumerate((("mednli", "accuracy"), ("meqsum", "rougeL"),
                                       ("problem_summary", "rougeL"), ("longhealth", "accuracy"),
                                       ("medisumqa", "rougeL"), ("medisumcode", "icd_exact_f1"))):
        tasks[task] = {"level": 1 if i < 3 else 2, "n": 1425 + i, "n_failed": 3 if i == 2 else 0,
                       "headline": head, "metrics": {head: {"mean": 100.0, "ci": [100.0, 100.0]}},
                       "data": {"path": "/very/long/path/" * 6, "synthetic": True}, "demo": {"limit": 3}}
    results = {"model": {"spec": "llamacpp:/models/some-rather-long-model-name.Q4_K_M.gguf"},
               "protocol": {"id": "clue-paper"}, "tasks": tasks,
               "levels": {"level1": {"mean": 55.55, "ci": [40.0, 60.0], "complete": True},
                          "level2": {"mean": 5.5, "complete": False}}}

    class Outcome:
        out = Path("runs/x")
        report = Path("runs/x/report.html")

    Outcome.results = results  # type: ignore[attr-defined]
    buf = io.StringIO()
    print_run_summary(Outcome, file=buf)
    text = buf.getvalue()
    table_lines = [l for l in text.splitlines() if l[:1] in "┏┃┡│└"]
    assert table_lines and all(len(l) <= 80 for l in table_lines), "\n".join(table_lines)
    assert sum("100.00 [100.0, 100.0]" in l for l in table_lines) == 6  # never wrapped
    for task in tasks:
        assert any(re.search(rf"│ {task}\s", l) for l in table_lines), task
    assert "SYNTHETIC DEMO SET" in text and "3 samples failed" in text


def test_caveats_are_said_once_per_reason_and_wrap_under_their_bullet() -> None:
    bert = "BERTScore with sentence-transformers/all-MiniLM-L6-v2 layer 6, not the paper's SciBERT (allenai/scibert_scivocab_uncased) layer 8"
    ent = "entity_f1 (lexicon entity extractor) stands in for the paper's umls_f1 (scispaCy UMLS linker)"
    task = {"level": 1, "n": 3, "n_failed": 0, "headline": "rougeL",
            "metrics": {"rougeL": {"mean": 30.0, "ci": [20.0, 40.0]}},
            "data": {"path": "x", "synthetic": True}}
    results = {"model": {"spec": "default"}, "protocol": {"id": "clue-paper"},
               "tasks": {"meqsum": task, "problem_summary": task, "medisumqa": {**task, "level": 2}},
               "levels": {"level1": {"mean": 20.0, "complete": True, "comparable": False,
                                     "not_comparable": [f"meqsum: {bert}", f"problem_summary: {ent}",
                                                        f"problem_summary: {bert}"]},
                          "level2": {"mean": 25.0, "complete": True, "comparable": False,
                                     "not_comparable": [f"medisumqa: {ent}", f"medisumqa: {bert}"]}}}

    class Outcome:
        out = Path("runs/x")
        report = None

    Outcome.results = results  # type: ignore[attr-defined]
    buf = io.StringIO()
    print_run_summary(Outcome, file=buf)
    lines = buf.getvalue().splitlines()
    start = lines.index("* not comparable to the published value:")
    block = lines[start + 1:]
    block = block[: next(i for i, l in enumerate(block) if not l.startswith("  "))]
    assert all(len(l) <= 80 for l in block)
    assert [l for l in block if l.startswith("  - ")] == [
        l for l in block if not l.startswith("    ")
    ]  # every continuation line hangs under its bullet
    joined = " ".join(l.strip() for l in block)
    assert joined.count("BERTScore with") == 1 and joined.count("stands in for") == 1
    assert "layer 8 (Level 1: meqsum, problem_summary; Level 2: medisumqa)" in joined
    assert "UMLS linker) (Level 1: problem_summary; Level 2: medisumqa)" in joined
