"""The openai: backend against hostile environments and misbehaving servers: proxies, redirects,
secrets in error bodies and URLs, replies without an answer, untrustworthy fields, waits.

Each piece of the split backend is also tested alone: URL rules (`urls`), proxy choice and
Retry-After (`http_transport`), reply validation (`openai_reply`), scheduling (`endpoints`)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from pathlib import Path

import pytest

from cluebench.errors import BackendError, ConfigError
from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.models.endpoints import Endpoint, EndpointPool
from cluebench.models.http_transport import (
    Fatal,
    Redirect,
    Reply,
    Retryable,
    Transport,
    parse_retry_after,
    proxy_for,
)
from cluebench.models.openai_reply import MalformedReply, parse_chat_completion
from cluebench.models.urls import Redactor, normalize_base_url, public_url
from cluebench.testing.recording_proxy import RecordingProxy
from cluebench.testing.stub_openai import StubServer, default_answer

KEY = "sk-test-Hx81HostileEnvSecret"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
              "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_inherited_proxies(monkeypatch):
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def _requests(n: int) -> list[Request]:
    return [
        Request(f"k{i}", [{"role": "user", "content": f"question {i}"}], Decoding(max_tokens=16))
        for i in range(n)
    ]


def _opts(urls: list[str], **kw) -> BackendOptions:
    base = {"base_urls": urls, "concurrency": 4, "timeout": 2.0, "max_retries": 2,
            "retry_backoff_base": 0.01, "retry_backoff_max": 0.05}
    base.update(kw)
    return BackendOptions(**base)


def _run(backend, requests) -> dict:
    got: dict = {}
    backend.generate(requests, lambda c: got.__setitem__(c.key, c))
    return got


# -- proxies ------------------------------------------------------------------------------------


def _set_proxies(monkeypatch, proxy_url: str) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, proxy_url)


def test_loopback_bypasses_proxy_and_proxy_records_nothing(monkeypatch):
    """Every proxy variable points at a recording proxy; the loopback server still gets every
    request (the /v1/models lookup included) and the proxy sees nothing."""
    monkeypatch.setenv("CLUE_TEST_KEY", KEY)
    proxy = RecordingProxy()
    server = StubServer()
    with proxy as proxy_url, server as url:
        _set_proxies(monkeypatch, proxy_url)
        for base in (url, url.replace("127.0.0.1", "localhost")):
            backend = load_backend("openai:stub-model", _opts([base], api_key_env="CLUE_TEST_KEY"))
            assert backend.remote_hosts() == []
            assert backend.context_length == 4096
            got = _run(backend, _requests(3))
            assert all(c.finish_reason == "stop" for c in got.values())
    assert proxy.requests == []
    assert len(server.chat_requests()) == 6
    assert [r.path for r in server.requests].count("/v1/models") == 2


def test_remote_endpoint_goes_through_the_proxy_and_the_guard_counts_it(monkeypatch):
    proxy = RecordingProxy(answer="from far away")
    with proxy as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        backend = load_backend("openai:m", _opts(["http://far.example.invalid/v1"]))
        assert backend.remote_hosts() == ["127.0.0.1 (proxy)", "far.example.invalid"]
        got = _run(backend, _requests(1))
    assert got["k0"].text == "from far away"
    assert [r.target for r in proxy.requests] == ["http://far.example.invalid/v1/chat/completions"]
    assert backend.info()["proxies"] == {"http://far.example.invalid/v1": proxy_url}


def test_proxy_choice_alone(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "http://user:pw-secret-1@proxy.corp:3128")
    assert proxy_for("http://127.0.0.1:8000/v1") is None
    assert proxy_for("http://[::1]:8000/v1") is None
    p = proxy_for("https://api.example.com/v1")
    assert p.auth is not None and "pw-secret-1" not in repr(p)
    assert (p.url, p.host, p.shown) == ("http://proxy.corp:3128", "proxy.corp",
                                        "http://user:***@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert proxy_for("https://api.example.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.corp:1080")
    with pytest.raises(ConfigError, match="only http:// proxies"):
        proxy_for("https://other.example.com/v1")


# -- redirects ----------------------------------------------------------------------------------


def test_redirect_is_an_error_naming_the_target_and_is_not_followed():
    elsewhere = StubServer()
    with elsewhere as other_url:
        target = other_url + "/chat/completions"
        with StubServer(mode="redirect", redirect_to=target) as url:
            backend = load_backend("openai:m", _opts([url], max_retries=3))
            got = _run(backend, _requests(2))
    for c in got.values():
        assert c.finish_reason == "error" and c.attempts == 1  # not retried either
        assert "HTTP 307 redirect to " + target in c.error and "never follows redirects" in c.error
    assert elsewhere.requests == []  # the prompt never reached the other host


def test_models_lookup_does_not_follow_redirects():
    elsewhere = StubServer(max_model_len=999)
    with elsewhere as other_url:
        with StubServer(mode="redirect", redirect_to=other_url + "/models") as url:
            backend = load_backend("openai:m", _opts([url]))
            with pytest.raises(BackendError, match="redirect"):
                backend.context_length
    assert elsewhere.requests == []


# -- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pad", [150, 185, 190, 195, 205, 280, 295])
def test_key_echoed_near_the_cut_is_redacted_first(monkeypatch, caplog, pad):
    monkeypatch.setenv("CLUE_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    with StubServer(mode="echo_auth", echo_pad=pad) as url:
        backend = load_backend("openai:m", _opts([url], api_key_env="CLUE_TEST_KEY", max_retries=1))
        got = _run(backend, _requests(1))
    error = got["k0"].error
    assert got["k0"].finish_reason == "error" and "HTTP 500" in error
    for blob in (error, caplog.text):
        for k in range(8, len(KEY) + 1):  # no prefix of the key long enough to mean anything
            assert KEY[:k] not in blob


def test_url_passwords_and_query_keys_are_never_written(tmp_path, monkeypatch):
    from cluebench.run.runner import RunSettings, run

    with StubServer() as url:
        host = url.removeprefix("http://").removesuffix("/v1")
        base = f"http://alice:pw-Secret-77@{host}/v1?api-key=qk-Secret-88&mode=x"
        out = tmp_path / "run"
        run(RunSettings(model="openai:stub-model", tasks=["mednli"], limit=2, out=out,
                        progress=False, backend=_opts([base])))
    written = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()
                      and p.suffix in (".json", ".jsonl", ".html"))
    assert "pw-Secret-77" not in written and "qk-Secret-88" not in written
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["base_urls"] == [f"http://alice:***@{host}/v1?api-key=***&mode=***"]
    assert (out / "report.html").is_file()


def test_url_rules_alone():
    assert public_url("https://u:p@h:1/v1?key=abc&x=") == "https://u:***@h:1/v1?key=***&x=***"
    assert normalize_base_url("http://h:8000/?k=v") == "http://h:8000/v1?k=v"
    redact = Redactor(["s3cretvalue"])
    text = "x" * 10 + "s3cretvalue" + "y" * 10
    assert redact(text, 15) == "x" * 10 + "***yy…"
    for bad in ("http://127.0.0.1\\evil.com:8000/v1", "http://127.0.0.1\t:8000/v1",
                "http://exa mple.com/v1", "http://h:99999/v1", "http://h:port/v1", "http://[zz/v1"):
        with pytest.raises(ConfigError) as info:
            normalize_base_url(bad)
        assert "\n" not in str(info.value)


def test_bad_url_characters_are_one_line_at_the_cli(capsys):
    from cluebench.cli import main

    code = main(["run", "--model", "openai:m", "--base-url", "http://127.0.0.1\\x:8000/v1",
                 "--tasks", "meqsum"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not allowed in a URL" in err


def test_transport_status_policy_alone():
    t = Transport(timeout=5.0, headers={}, redact=Redactor([KEY]), connections=1, wait_cap=300)
    url = "http://h/v1/chat/completions"
    for cut in (190, 199, 200, 290, 299):
        with pytest.raises(Retryable) as info:
            t.check(Reply(503, ("x" * cut + KEY).encode(), None), url)
        assert all(KEY[:k] not in str(info.value) for k in range(8, len(KEY) + 1))
    with pytest.raises(Retryable) as info:
        t.check(Reply(429, b"", "3600"), url)
    assert info.value.retry_after == 5.0 and not info.value.endpoint_fault
    with pytest.raises(Fatal) as info:
        t.check(Reply(401, b"bad key " + KEY.encode(), None), url)
    assert "HTTP 401" in str(info.value) and KEY not in str(info.value)
    assert t.check(Reply(200, b"{}", None), url) == b"{}"
    assert issubclass(Redirect, Fatal)


# -- replies without an answer, fields that cannot be trusted -----------------------------------


def test_reply_validation_alone():
    def body(message, finish="stop", usage=None):
        return json.dumps({"choices": [{"message": message, "finish_reason": finish}],
                           "usage": usage}).encode()

    r = parse_chat_completion(body({"content": None}))
    assert (r.text, r.finish_reason) == ("", "stop")
    r = parse_chat_completion(body({"content": ""}, "content_filter"))
    assert r.finish_reason == "content_filter"
    r = parse_chat_completion(body({"content": "", "reasoning_content": "hmm"}, "length",
                                   {"completion_tokens_details": {"reasoning_tokens": 5}}))
    assert (r.text, r.reasoning, r.reasoning_tokens, r.finish_reason) == ("", "hmm", 5, "length")
    r = parse_chat_completion(body({"content": "a"}, usage={"prompt_tokens": "12",
                                   "completion_tokens": {"n": 1}}))
    assert (r.prompt_tokens, r.completion_tokens) == (None, None)
    r = parse_chat_completion(body({"content": [{"type": "text", "text": "x"}, "y"]}))
    assert r.text == "xy"
    r = parse_chat_completion(b'{"choices": [{"message": {"content": "a\\ud800b"}}]}')
    assert r.text == "a\ufffdb"
    r.text.encode("utf-8")  # storable
    for bad in (b"[]", b'{"choices": []}', b'{"choices": [{"message": "x"}]}',
                body({"content": 5}), body({"content": "a"}, finish=7), b"[" * 100000,
                body({"content": "a"}, finish="error")):
        with pytest.raises(MalformedReply):
            parse_chat_completion(bad)


@pytest.mark.parametrize("mode,finish,reasoning", [
    ("null_content", "stop", None),
    ("content_filter", "content_filter", None),
    ("reasoning_only", "length", "Let me think."),
])
def test_replies_without_an_answer_keep_their_finish_reason(mode, finish, reasoning):
    with StubServer(mode=mode) as url:
        got = _run(load_backend("openai:m", _opts([url])), _requests(2))
    for c in got.values():
        assert (c.text, c.finish_reason, c.attempts) == ("", finish, 1)
        if reasoning:
            assert c.reasoning.startswith(reasoning) and c.reasoning_tokens == 7


def test_empty_and_filtered_answers_are_flagged_and_counted_in_a_run(tmp_path):
    from cluebench.run.runner import RunSettings, run

    for mode, flag in (("content_filter", "content_filtered"), ("reasoning_only", "empty_answer"),
                       ("null_content", "empty_answer")):
        out = tmp_path / mode
        with StubServer(mode=mode) as url:
            outcome = run(RunSettings(model="openai:stub-model", tasks=["mednli"], limit=2,
                                      out=out, progress=False, write_report=False,
                                      backend=_opts([url])))
        rows = [json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()]
        assert all(r["flags"][flag] is True and r["flags"]["empty_answer"] for r in rows)
        assert {r["finish_reason"] for r in rows} == {"length" if mode == "reasoning_only" else
                                                     ("content_filter" if mode == "content_filter"
                                                      else "stop")}
        errors = outcome.results["tasks"]["mednli"]["errors"]
        assert errors[flag]["count"] == 2 and errors[flag]["rate"] == 100.0
        if mode == "reasoning_only":
            assert all(r["reasoning"].startswith("Let me think.") and r["reasoning_tokens"] == 7
                       for r in rows)


def test_bad_usage_and_surrogates_do_not_break_the_run(tmp_path):
    from cluebench.run.runner import RunSettings, run
    from cluebench.run.store import ResponseStore

    for mode in ("bad_usage", "surrogate"):
        out = tmp_path / mode
        with StubServer(mode=mode) as url:
            outcome = run(RunSettings(model="openai:stub-model", tasks=["mednli"], limit=3,
                                      out=out, progress=False, write_report=False,
                                      backend=_opts([url])))
        assert outcome.n_failed == 0
        rows = [json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()]
        if mode == "bad_usage":
            assert all(r["prompt_tokens"] is None and r["completion_tokens"] is None for r in rows)
        else:
            assert all(r["output"].startswith("\ufffd stub answer") for r in rows)
        with ResponseStore(out / "responses.sqlite") as store:
            assert store.count() == 3 and store.integrity_ok()


# -- waits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0])
def test_impossible_timeouts_are_refused_up_front(value, capsys):
    with pytest.raises(ConfigError, match="--timeout"):
        load_backend("openai:m", BackendOptions(base_urls=["http://127.0.0.1:9/v1"], timeout=value))
    from cluebench.cli import main

    assert main(["run", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1",
                 "--timeout", str(value)]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_retry_after_is_bounded_by_the_timeout():
    server = StubServer(fail_first=1, faults=("429",), retry_after=3600)
    with server as url:
        backend = load_backend("openai:m", _opts([url], timeout=0.5, max_retries=1))
        t0 = time.monotonic()
        got = _run(backend, _requests(1))
        took = time.monotonic() - t0
    assert got["k0"].finish_reason == "stop" and got["k0"].attempts == 2
    assert took < 5  # the server asked for an hour; the user allowed 0.5 s per wait
    assert parse_retry_after("nan") is None and parse_retry_after("inf") is None


def test_a_dripping_server_is_cut_off_at_the_timeout():
    with StubServer(mode="drip", drip_s=0.05) as url:
        backend = load_backend("openai:m", _opts([url], timeout=0.4, max_retries=1))
        t0 = time.monotonic()
        got = _run(backend, _requests(1))
        took = time.monotonic() - t0
    assert got["k0"].finish_reason == "error" and "within 0.4 s" in got["k0"].error
    assert took < 3


def test_models_lookup_is_bounded_by_the_timeout():
    with StubServer(latency_ms=3000) as url:  # /v1/models too slow
        backend = load_backend("openai:m", _opts([url], timeout=0.3))
        t0 = time.monotonic()
        with pytest.raises(Exception, match="within 0.3 s"):
            backend.context_length
        assert time.monotonic() - t0 < 2.5


# -- scheduling alone ---------------------------------------------------------------------------


def test_two_pools_schedule_independently_at_once():
    async def one(pool: EndpointPool, n: int) -> list[str]:
        order = []
        for _ in range(n):
            ep = await pool.acquire()
            order.append(ep.shown)
            await asyncio.sleep(0)
            await pool.release(ep, ok=True)
        return order

    async def both() -> tuple:
        def pool():
            return EndpointPool([Endpoint("a", "a", 1), Endpoint("b", "b", 1)],
                                drain_after_failures=2, drain_cooldown=5, rest_cap=1)
        p1, p2 = pool(), pool()
        return await asyncio.gather(one(p1, 4), one(p2, 4)), p1, p2

    (o1, o2), p1, p2 = asyncio.run(both())
    assert o1 == o2 == ["a", "b", "a", "b"]
    assert all(e.in_flight == 0 and e.served == 2 for p in (p1, p2) for e in p.endpoints)


def test_two_generate_calls_can_run_at_once():
    with StubServer(latency_ms=30) as url:
        backend = load_backend("openai:m", _opts([url]))
        results: list[dict] = [{}, {}]
        reqs = [_requests(6), [Request(f"j{i}", r.messages, r.decoding) for i, r in enumerate(_requests(6))]]
        threads = [threading.Thread(target=lambda i=i: results[i].update(_run(backend, reqs[i])))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    for i in range(2):
        assert len(results[i]) == 6 and all(c.finish_reason == "stop" for c in results[i].values())
        assert all(results[i][r.key].text == default_answer([dict(m) for m in r.messages], {})
                   for r in reqs[i])


def test_rest_after_429_is_capped():
    async def go() -> float:
        pool = EndpointPool([Endpoint("a", "a", 1)], drain_after_failures=5, drain_cooldown=5,
                            rest_cap=0.2)
        ep = await pool.acquire()
        await pool.release(ep, ok=False, retry_after=3600)
        t0 = asyncio.get_running_loop().time()
        await pool.acquire()
        return asyncio.get_running_loop().time() - t0

    assert asyncio.run(go()) < 1.0
