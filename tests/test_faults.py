"""Faults survived: flaky servers, kill -9 at random points, a second writer, secrets kept out.

Each test injects the fault for real (a local OpenAI-compatible stub on 127.0.0.1 with seeded
fault injection, real subprocesses killed with SIGKILL) and asserts that nothing is lost and
nothing duplicated: the final files equal those of a clean, uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluebench.cli import main
from cluebench.models.base import BackendOptions
from cluebench.util import write_json_atomic
from cluebench.run.runner import RunSettings, run
from cluebench.testing.stub_openai import StubServer

TASKS = ["mednli", "meqsum", "medisumcode"]


def final_files(out: Path) -> dict[str, str]:
    files = {t: (out / t / "samples.jsonl").read_text() for t in TASKS}
    files["results.json"] = (out / "results.json").read_text()
    return files


def stub_settings(url: str, out: Path, **kw) -> RunSettings:
    opts = BackendOptions(base_urls=[url], concurrency=4, timeout=kw.pop("timeout", 2.0),
                          max_retries=kw.pop("max_retries", 10))
    return RunSettings(model="openai:stub-model", tasks=TASKS, limit=6, out=out, backend=opts,
                       progress=False, write_report=False, **kw)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("clean") / "run"
    with StubServer() as url:
        run(stub_settings(url, out))
    return final_files(out)


@pytest.mark.slow
@pytest.mark.parametrize("faults", [["500"], ["429"], ["hang"], ["disconnect"], ["malformed"],
                                    ["500", "429", "hang", "disconnect", "malformed"]])
def test_flaky_server_gives_the_clean_results(tmp_path: Path, clean_run: dict[str, str], faults: list[str]) -> None:
    out = tmp_path / "run"
    stub = StubServer(fault_rate=0.25, faults=faults, seed=3, retry_after=0.05, hang_s=30)
    with stub as url:
        outcome = run(stub_settings(url, out, timeout=1.0))
    injected = [r.fault for r in stub.chat_requests() if r.fault]
    assert len(injected) >= 2 and set(injected) <= set(faults)
    assert outcome.n_failed == 0
    assert final_files(out) == clean_run


def test_retry_limit_marks_samples_failed_then_a_rerun_retries_only_those(tmp_path: Path, clean_run: dict[str, str]) -> None:
    out = tmp_path / "run"
    broken = StubServer(fault_rate=0.3, faults=["500"], seed=5)
    with broken as url:
        outcome = run(stub_settings(url, out, max_retries=0))
    assert outcome.n_failed > 0
    rows = [json.loads(l) for t in TASKS for l in (out / t / "samples.jsonl").read_text().splitlines()]
    failed = [r for r in rows if r["flags"]["failed"]]
    assert len(failed) == outcome.n_failed
    assert all(r["output"] is None and r["metrics"] == {} for r in failed)  # failed, not "wrong"

    healthy = StubServer()
    with healthy as url:  # the server came back at another address: the user says it is the same
        outcome = run(stub_settings(url, out, allow_model_change=True))
    assert outcome.n_failed == 0
    assert len(healthy.chat_requests()) == len(failed)  # only the failed ones were asked again
    assert final_files(out) == clean_run


def test_api_key_never_lands_in_files_or_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-cluebench-FAKE-KEY-3f9a1c77e2"
    monkeypatch.setenv("CLUE_TEST_API_KEY", key)
    out = tmp_path / "run"
    stub = StubServer(fault_rate=0.3, faults=["500", "429"], seed=1, retry_after=0.05)
    with caplog.at_level("DEBUG"), stub as url:
        code = main(["run", "--model", "openai:stub-model", "--base-url", url, "--api-key-env", "CLUE_TEST_API_KEY",
                     "--tasks", "mednli,meqsum", "--limit", "3", "--out", str(out), "--max-retries", "1"])
    assert code == 0
    assert all(r.headers.get("authorization") == f"Bearer {key}" for r in stub.chat_requests())
    captured = capsys.readouterr()
    assert key not in captured.out + captured.err + caplog.text
    for path in out.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"API key found in {path}"
    config = json.loads((out / "config.json").read_text())
    assert config["backend_options"]["api_key_env"] == "CLUE_TEST_API_KEY"


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    write_json_atomic(target, {"ok": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": Boom()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def _clue(args: list[str], **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "cluebench.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _answered(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_at_random_points_then_resume(tmp_path: Path, clean_run: dict[str, str]) -> None:
    out = tmp_path / "run"
    rng = random.Random(7)
    with StubServer(latency_ms=60) as url:
        args = ["run", "--model", "openai:stub-model", "--base-url", url, "--tasks", ",".join(TASKS),
                "--limit", "6", "--out", str(out), "--concurrency", "2", "--no-report"]
        total = 18
        kills = 0
        for _ in range(3):
            target = rng.randint(_answered(out / "responses.sqlite") + 1, total - 2)
            proc = _clue(args)
            deadline = time.time() + 120
            while _answered(out / "responses.sqlite") < target and proc.poll() is None and time.time() < deadline:
                time.sleep(0.02)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
            if (out / "results.json").exists():
                json.loads((out / "results.json").read_text())  # never half-written
        before = _answered(out / "responses.sqlite")
        final = _clue(args)
        assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    assert kills >= 2
    with sqlite3.connect(out / "responses.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == total
    assert before <= total
    assert final_files(out) == clean_run


@pytest.mark.slow
def test_second_process_on_the_same_run_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with StubServer(latency_ms=300) as url:
        args = ["run", "--model", "openai:stub-model", "--base-url", url, "--tasks", "mednli",
                "--limit", "10", "--out", str(out), "--concurrency", "1", "--no-report"]
        first = _clue(args)
        deadline = time.time() + 120
        while _answered(out / "responses.sqlite") < 1 and time.time() < deadline:
            time.sleep(0.05)
        second = _clue(args)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert "another clue process is writing to" in err and "Traceback" not in err
        assert first.wait(timeout=300) == 0
    with sqlite3.connect(out / "responses.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
