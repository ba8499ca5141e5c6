"""`openai:` against a real `vllm serve` (vLLM's OpenAI-compatible server, started here on
127.0.0.1 with SmolLM2-135M): the context length read from /v1/models, requests really
concurrent on the server, and a server killed (SIGKILL) mid-run then restarted: the rerun asks
the server only what the first run had not got answered."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from engines_common import MAX_MODEL_LEN, SERVED_NAME, SKIP_REASON

pytest.importorskip("vllm", reason=SKIP_REASON)

import httpx

from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.models.openai_compat import OpenAIBackend
from cluebench.run.runner import RunSettings, run


def _opts(server, **kw) -> BackendOptions:
    kw.setdefault("concurrency", 4)
    return BackendOptions(base_urls=[server.base_url], timeout=120.0, **kw)


def _running(server) -> float:
    """vLLM's gauge of requests running in the engine right now (its Prometheus /metrics)."""
    text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5.0).text
    values = re.findall(r"^vllm:num_requests_running\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    return sum(float(v) for v in values)


def test_context_length_from_v1_models(vllm_server) -> None:
    backend = load_backend(f"openai:{SERVED_NAME}", _opts(vllm_server))
    assert backend.context_length == MAX_MODEL_LEN
    info = backend.info()
    assert info["context_length_source"] == f"{vllm_server.base_url}/models"
    models = httpx.get(f"{vllm_server.base_url}/models", timeout=5.0).json()["data"]
    assert [m["id"] for m in models] == [SERVED_NAME] and models[0]["max_model_len"] == MAX_MODEL_LEN


def test_requests_run_concurrently_on_the_server(vllm_server) -> None:
    backend = load_backend(f"openai:{SERVED_NAME}", _opts(vllm_server, concurrency=4))
    reqs = [
        Request(f"c{i}", [{"role": "user", "content": f"List {i + 3} symptoms of influenza."}],
                Decoding(max_tokens=48))
        for i in range(6)
    ]
    peak, stop = [0.0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], _running(vllm_server))
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    got: dict = {}
    try:
        backend.generate(reqs, lambda c: got.__setitem__(c.key, c))
    finally:
        stop.set()
        watcher.join(5)
        backend.close()
    assert sorted(got) == [f"c{i}" for i in range(6)]
    assert all(c.finish_reason in {"stop", "length"} and c.text for c in got.values())
    assert all(c.prompt_tokens and c.completion_tokens for c in got.values())
    assert peak[0] >= 2, f"at most {peak[0]} request(s) ever running at once"


def _answered(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=5)
    try:
        return int(con.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_server_killed_mid_run_then_resume_asks_only_what_is_missing(
    vllm_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real_generate = OpenAIBackend.generate

    def spy(self, requests, on_completion):  # noqa: ANN001, ANN202
        asked.extend(r.key for r in requests)
        return real_generate(self, requests, on_completion)

    monkeypatch.setattr(OpenAIBackend, "generate", spy)
    out = tmp_path / "run"
    settings = RunSettings(
        model=f"openai:{SERVED_NAME}", tasks=["mednli"], limit=10, out=out,
        backend=_opts(vllm_server, concurrency=2, max_retries=0, drain_cooldown=0.2),
        progress=False, write_report=False,
    )
    db = out / "responses.sqlite"
    killed_at = [-1]

    def killer() -> None:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and _answered(db) < 3:
            time.sleep(0.1)
        killed_at[0] = _answered(db)
        vllm_server.kill()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    first = run(settings)
    thread.join(60)
    answered = _answered(db)
    assert killed_at[0] >= 3 and first.n_failed > 0, (killed_at, first.n_failed)
    total = len(set(asked))
    assert answered + first.n_failed == total  # every request answered or recorded as failed

    vllm_server.start()
    asked.clear()
    second = run(settings)
    assert second.n_failed == 0
    assert len(asked) == total - answered  # only what was missing
    assert _answered(db) == total
    rows = (out / "mednli" / "samples.jsonl").read_text().splitlines()
    assert len(rows) == 10 and '"failed": true' not in "".join(rows)
