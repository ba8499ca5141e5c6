"""The stub OpenAI server itself: answers, records, faults, concurrency, CLI."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from cluebench.testing.stub_openai import StubServer, default_answer, prompt_hash

MSGS = [{"role": "user", "content": "hello"}]


def test_answers_deterministically_and_records_headers():
    with StubServer() as url:
        server_reqs = []
        for _ in range(2):
            r = httpx.post(f"{url}/chat/completions", json={"model": "m", "messages": MSGS},
                           headers={"Authorization": "Bearer k1"})
            assert r.status_code == 200
            server_reqs.append(r.json())
        models = httpx.get(f"{url}/models").json()
    texts = [b["choices"][0]["message"]["content"] for b in server_reqs]
    assert texts[0] == texts[1] == f"stub answer {prompt_hash(MSGS)[:12]}"
    assert server_reqs[0]["id"] != server_reqs[1]["id"]
    assert models["data"][0]["max_model_len"] == 4096


def test_records_every_request():
    server = StubServer()
    with server as url:
        httpx.post(f"{url}/chat/completions", json={"model": "m", "messages": MSGS},
                   headers={"Authorization": "Bearer s3cret"})
        httpx.get(f"{url}/models")
    recs = server.requests
    assert [r.path for r in recs] == ["/v1/chat/completions", "/v1/models"]
    assert recs[0].headers["authorization"] == "Bearer s3cret"
    assert recs[0].body["messages"] == MSGS
    assert [r.request_id for r in recs] == ["req-0", "req-1"]


def test_max_tokens_truncates_with_length():
    with StubServer() as url:
        body = httpx.post(f"{url}/chat/completions",
                          json={"model": "m", "messages": MSGS, "max_tokens": 2}).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == " ".join(
        default_answer(MSGS, {}).split()[:2]
    )


@pytest.mark.parametrize("kind", ["500", "429", "malformed", "disconnect"])
def test_each_fault_kind(kind):
    server = StubServer(fail_first=1, faults=(kind,), retry_after=7)
    with server as url, httpx.Client() as client:
        post = lambda: client.post(f"{url}/chat/completions",
                                   json={"model": "m", "messages": MSGS})
        if kind == "disconnect":
            with pytest.raises(httpx.RemoteProtocolError):
                post()
        else:
            r = post()
            if kind == "500":
                assert r.status_code == 500
            elif kind == "429":
                assert r.status_code == 429 and r.headers["retry-after"] == "7"
            else:
                assert r.status_code == 200
                with pytest.raises(json.JSONDecodeError):
                    r.json()
        assert post().status_code == 200  # the second occurrence of the prompt is clean
    assert [r.fault for r in server.requests] == [kind, None]


def test_hang_outlasts_client_timeout():
    with StubServer(fail_first=1, faults=("hang",)) as url, pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/chat/completions", json={"model": "m", "messages": MSGS}, timeout=0.3)


def test_fault_rate_is_seeded_and_order_independent():
    prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(200)]

    def faults(order):
        server = StubServer(fault_rate=0.3, seed=5, faults=("500", "429", "malformed"))
        with server as url, httpx.Client() as client:
            for i in order:
                try:
                    client.post(f"{url}/chat/completions",
                                json={"model": "m", "messages": prompts[i]}, timeout=5)
                except httpx.HTTPError:
                    pass
        return {r.prompt_hash: r.fault for r in server.requests}

    a = faults(range(200))
    b = faults(reversed(range(200)))
    assert a == b
    rate = sum(f is not None for f in a.values()) / len(a)
    assert 0.2 < rate < 0.4
    assert {f for f in a.values() if f} == {"500", "429", "malformed"}


def test_sustains_256_concurrent_connections_with_latency():
    async def burst(url):
        limits = httpx.Limits(max_connections=256)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            return await asyncio.gather(*[
                client.post(f"{url}/chat/completions",
                            json={"model": "m", "messages": [{"role": "user", "content": str(i)}]})
                for i in range(256)
            ])

    with StubServer(latency_ms=200) as url:
        t0 = time.perf_counter()
        responses = asyncio.run(burst(url))
        took = time.perf_counter() - t0
    assert all(r.status_code == 200 for r in responses)
    # One after another would take 51 s; the bound leaves room for a loaded 2-core machine.
    assert took < 15.0, f"256 requests at 200 ms each took {took:.1f} s: not concurrent"


def test_command_line_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cluebench.testing.stub_openai", "--port", str(port),
         "--latency-ms", "10", "--fault-rate", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}/v1"
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                       json={"model": "m", "messages": MSGS})
        assert r.json()["choices"][0]["message"]["content"] == default_answer(MSGS, {})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
