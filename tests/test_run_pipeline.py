"""The runner end to end with the deterministic `fake:` backend (see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filelock import FileLock

from cluebench.errors import DataProtectionError, RunLockedError
from cluebench.models.base import BackendOptions, Completion
from cluebench.run.runner import RunSettings, model_slug, run
from cluebench.run.store import ResponseStore

from conftest import FakeBackend

TASKS = ["mednli", "meqsum", "medisumcode"]


def settings(out: Path, **kw) -> RunSettings:
    base = dict(model="fake:demo", tasks=TASKS, limit=4, out=out, progress=False, write_report=False)
    base.update(kw)
    return RunSettings(**base)


def read_files(out: Path) -> dict[str, str]:
    files = {"results.json": (out / "results.json").read_text()}
    for t in TASKS:
        files[t] = (out / t / "samples.jsonl").read_text()
    return files


def test_run_writes_the_run_directory(tmp_path: Path, fake_calls: list) -> None:
    outcome = run(settings(tmp_path / "run"))
    out = outcome.out
    config = json.loads((out / "config.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert config["protocol"]["id"] == "clue-paper" and len(config["protocol"]["sha256"]) == 64
    assert config["decoding"]["temperature"] == 0.0 and config["decoding"]["max_tokens"]["mednli"] == 20
    assert set(results["tasks"]) == set(TASKS)
    mednli = results["tasks"]["mednli"]
    assert mednli["n"] == 4 and mednli["headline"] == "accuracy" and len(mednli["shot_ids"]) == 3
    assert mednli["data"]["synthetic"] is True
    rows = [json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    for r in rows:
        assert r["output"] in {"ENTAILMENT", "NEUTRAL", "CONTRADICTION"}
        assert r["parsed"] == r["output"].lower()
        assert r["metrics"]["accuracy"] == (100.0 if r["parsed"] == r["reference"].lower() else 0.0)
        assert r["shot_ids"] == mednli["shot_ids"] and len(r["prompt_hash"]) == 64
    mean = sum(r["metrics"]["accuracy"] for r in rows) / 4
    assert mednli["metrics"]["accuracy"]["mean"] == pytest.approx(mean)
    code_rows = [json.loads(l) for l in (out / "medisumcode" / "samples.jsonl").read_text().splitlines()]
    assert all(r["parsed"] == ["I10", "E119"] for r in code_rows)
    assert len(fake_calls) == 12


def test_rerun_asks_nothing_and_writes_identical_files(tmp_path: Path, fake_calls: list) -> None:
    out = tmp_path / "run"
    run(settings(out))
    first = read_files(out)
    fake_calls.clear()
    run(settings(out))
    assert fake_calls == []
    assert read_files(out) == first


def test_interrupted_run_resumes_to_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_calls: list) -> None:
    clean = tmp_path / "clean"
    run(settings(clean))
    fake_calls.clear()

    original = FakeBackend.generate
    answered = {"n": 0}

    def crashing(self, requests, on_completion):  # type: ignore[no-untyped-def]
        def commit(c: Completion) -> None:
            if answered["n"] == 6:
                raise KeyboardInterrupt  # the process dies between two answers
            answered["n"] += 1
            on_completion(c)

        original(self, requests, commit)

    monkeypatch.setattr(FakeBackend, "generate", crashing)
    crashed = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        run(settings(crashed))
    with ResponseStore(crashed / "responses.sqlite") as store:
        assert store.count() == 6 and store.integrity_ok()
    monkeypatch.setattr(FakeBackend, "generate", original)
    fake_calls.clear()
    run(settings(crashed))
    assert len(fake_calls) == 12 - 6  # only the unanswered requests are asked
    assert read_files(crashed) == read_files(clean)


def test_failed_requests_are_recorded_and_retried_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_calls: list) -> None:
    original = FakeBackend.generate

    seen = {"n": 0}

    def flaky(self, requests, on_completion):  # type: ignore[no-untyped-def]
        def commit(c: Completion) -> None:
            seen["n"] += 1
            if seen["n"] % 3 == 0:  # every third request exhausts its retries
                c = Completion(c.key, "", "error", error="HTTP 500 after 5 retries", attempts=6)
            on_completion(c)

        original(self, requests, commit)

    monkeypatch.setattr(FakeBackend, "generate", flaky)
    out = tmp_path / "run"
    outcome = run(settings(out))
    n_failed = outcome.n_failed
    assert n_failed == 4
    rows = [json.loads(l) for t in TASKS for l in (out / t / "samples.jsonl").read_text().splitlines()]
    failed = [r for r in rows if r["flags"]["failed"]]
    assert len(failed) == n_failed and all(r["metrics"] == {} and r["output"] is None for r in failed)
    assert all("HTTP 500" in r["flags"]["error"] for r in failed)
    assert sum(t["n_failed"] for t in outcome.results["tasks"].values()) == n_failed

    monkeypatch.setattr(FakeBackend, "generate", original)
    fake_calls.clear()
    outcome = run(settings(out))
    assert len(fake_calls) == n_failed and outcome.n_failed == 0


def test_second_writer_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with FileLock(str(out / ".lock")):
        with pytest.raises(RunLockedError, match="another clue process is writing"):
            run(settings(out))


def test_credentialed_data_is_not_sent_to_a_remote_host(tmp_path: Path) -> None:
    data = tmp_path / "data" / "mednli"
    data.mkdir(parents=True)
    lines = [
        {"sentence1": f"Synthetic premise {i}.", "sentence2": "Synthetic hypothesis.", "gold_label": "neutral", "pairID": f"x{i}"}
        for i in range(6)
    ]
    (data / "mli_test_v1.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
    # `.invalid` never resolves: if the check came after a connection attempt, nothing would leave.
    s = settings(tmp_path / "run", model="openai:gpt-x", tasks=["mednli"], data_dir=tmp_path / "data",
                 backend=BackendOptions(base_urls=["https://api.example.invalid/v1"], max_retries=0, timeout=1))
    with pytest.raises(DataProtectionError, match="--allow-remote-credentialed-data"):
        run(s)
    assert not (tmp_path / "run" / "config.json").exists()


def test_model_slug_is_deterministic() -> None:
    assert model_slug(None) == "default-smollm2-135m-instruct"
    assert model_slug("llamacpp:/models/Meditron-7B.Q4_K_M.gguf") == "llamacpp-meditron-7b.q4_k_m"
    assert model_slug("openai:meta-llama/Llama-3-8B-Instruct") == "openai-llama-3-8b-instruct"


def test_the_truncation_warning_names_what_the_prompts_were_cut_to_fit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fake_calls: list
) -> None:
    """LongHealth's prompts are cut to its budgets, below the 4,096-token context (the fake
    backend counts characters); a long note cut to a small context says the context."""
    import logging

    caplog.set_level(logging.WARNING, logger="cluebench.run.runner")
    run(settings(tmp_path / "lh", tasks=["longhealth"], limit=1, longhealth_budget=3000, longhealth_budget_23=3500))
    assert "longhealth: " in caplog.text and "cut to fit the 3000- and 3500-token prompt budgets (" in caplog.text
    assert "-token context" not in caplog.text
    caplog.clear()
    run(settings(tmp_path / "code", tasks=["medisumcode"], limit=1, backend=BackendOptions(n_ctx=1500)))
    assert "medisumcode: " in caplog.text and "cut to fit the 1500-token context (" in caplog.text
