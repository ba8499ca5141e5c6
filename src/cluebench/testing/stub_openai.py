"""A small OpenAI-compatible server for tests and load experiments, with seeded fault injection.

Serves `POST /v1/chat/completions` and `GET /v1/models` on 127.0.0.1 with the standard library's
asyncio streams (HTTP/1.1, keep-alive; no web framework, so it starts in milliseconds and holds
hundreds of concurrent connections). Answers are deterministic functions of the messages.

Faults are decided per request from (seed, hash of the messages, how many times these messages
were seen before), so a run is reproducible however the client interleaves its requests:
  "500"        HTTP 500 with a JSON error body
  "429"        HTTP 429 with Retry-After (seconds, or an HTTP date)
  "hang"       no answer for `hang_s` seconds (past any sane client timeout)
  "disconnect" headers and half the body, then the connection is closed
  "malformed"  HTTP 200 whose body is not valid JSON

A `mode` makes every chat request misbehave one way, as hostile or quirky servers do:
  "redirect"        HTTP 307 to `redirect_to` (a client that follows it re-posts the prompt there)
  "null_content"    HTTP 200, message.content null, finish_reason "stop"
  "content_filter"  HTTP 200, empty content, finish_reason "content_filter"
  "reasoning_only"  HTTP 200, content "" and the answer in `reasoning_content`, finish "length"
  "bad_usage"       HTTP 200, usage counts as a string, an object and a negative number
  "drip"            HTTP 200 headers, then the body one byte every `drip_s` seconds
  "echo_auth"       HTTP 500 whose body repeats the Authorization header after `echo_pad` chars
  "surrogate"       HTTP 200 whose content holds a lone surrogate (JSON "\ud800")
`model_meta` adds fields to the GET /v1/models entry (two stubs with the same model name but
different metadata are two different served models); `models_status` answers GET /v1/models
with that status instead (404: a server without the endpoint).

    with StubServer(latency_ms=200, fault_rate=0.1, seed=1) as url:   # url ends in /v1
        ...

    python -m cluebench.testing.stub_openai --port 8000 --latency-ms 200 --fault-rate 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("500", "429", "hang", "disconnect", "malformed")
MODES = ("redirect", "null_content", "content_filter", "reasoning_only", "bad_usage", "drip",
         "echo_auth", "surrogate")
_REASONS = {200: "OK", 307: "Temporary Redirect", 404: "Not Found", 400: "Bad Request",
            429: "Too Many Requests", 500: "Internal Server Error"}

AnswerFn = Callable[[list, dict], str]


def prompt_hash(messages: Any) -> str:
    return hashlib.sha256(
        json.dumps(messages, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def default_answer(messages: list, body: dict) -> str:
    """Deterministic: the same messages always get the same three-word answer."""
    return f"stub answer {prompt_hash(messages)[:12]}"


@dataclass
class RecordedRequest:
    seq: int
    request_id: str
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    received_at: float  # time.monotonic()
    prompt_hash: str | None = None
    fault: str | None = None


@dataclass
class StubConfig:
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: Sequence[str] = FAULT_KINDS
    fail_first: int = 0  # the first N requests for each prompt fault, whatever fault_rate says
    seed: int = 0
    retry_after: float = 1.0
    retry_after_as_date: bool = False
    hang_s: float = 3600.0
    model: str = "stub-model"
    max_model_len: int | None = 4096
    answer: AnswerFn = default_answer
    mode: str | None = None
    redirect_to: str = "http://127.0.0.1:9/v1/chat/completions"
    drip_s: float = 0.2
    echo_pad: int = 190
    model_meta: dict | None = None
    models_status: int = 200

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown or not self.faults:
            raise ValueError(f"fault kinds must be among {FAULT_KINDS}, got {list(self.faults)}")
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")


@dataclass
class _State:
    records: list[RecordedRequest] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class StubServer:
    """Start in a background thread; `with StubServer(...) as url:` gives `http://127.0.0.1:P/v1`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.host = host
        self.port = port
        self.config = StubConfig(**config)
        self._state = _State()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, self.host, self.port, backlog=2048)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="stub-openai", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.url

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.records)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection should close."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        path = path.split("?", 1)[0]  # a base URL may carry a query (api-version=, key=)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = self._record(method, path, headers, body)
        keep = headers.get("connection", "").lower() != "close"
        cfg = self.config
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)

        if method == "GET" and path.rstrip("/") == "/v1/models":
            if cfg.models_status != 200:
                err = {"error": {"message": "no models endpoint"}}
                return await self._send(writer, cfg.models_status, err, rec, keep)
            if cfg.mode == "redirect":
                return await self._send(writer, 307, {}, rec, keep, {"Location": cfg.redirect_to})
            entry: dict[str, Any] = {"id": cfg.model, "object": "model", "owned_by": "stub",
                                     "created": int(time.time())}
            if cfg.max_model_len:
                entry["max_model_len"] = cfg.max_model_len
            entry.update(cfg.model_meta or {})
            return await self._send(writer, 200, {"object": "list", "data": [entry]}, rec, keep)
        if method != "POST" or path.rstrip("/") != "/v1/chat/completions":
            return await self._send(writer, 404, {"error": {"message": "not found"}}, rec, keep)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return await self._send(writer, 400, {"error": {"message": "bad body"}}, rec, keep)

        if rec.fault == "500":
            err = {"error": {"message": "injected fault", "type": "server_error"}}
            return await self._send(writer, 500, err, rec, keep)
        if rec.fault == "429":
            after = (
                email.utils.formatdate(time.time() + cfg.retry_after, usegmt=True)
                if cfg.retry_after_as_date
                else f"{cfg.retry_after:g}"
            )
            err = {"error": {"message": "rate limited", "type": "rate_limit"}}
            return await self._send(writer, 429, err, rec, keep, {"Retry-After": after})
        if rec.fault == "hang":
            await asyncio.sleep(cfg.hang_s)
            return False
        payload = self._completion(body, rec)
        if cfg.mode is not None and rec.fault is None:
            return await self._misbehave(writer, cfg.mode, payload, headers, rec, keep)
        if rec.fault == "disconnect":
            data = json.dumps(payload).encode()
            writer.write(self._head(200, len(data), rec, keep) + data[: len(data) // 2])
            await writer.drain()
            return False
        if rec.fault == "malformed":
            return await self._send_raw(writer, 200, b'{"id": "x", "choices": [{"mess', rec, keep)
        return await self._send(writer, 200, payload, rec, keep)

    async def _misbehave(self, writer, mode, payload, headers, rec, keep) -> bool:  # type: ignore[no-untyped-def]
        cfg = self.config
        message = payload["choices"][0]["message"]
        if mode == "redirect":
            return await self._send(writer, 307, {}, rec, keep, {"Location": cfg.redirect_to})
        if mode == "echo_auth":
            body = "x" * cfg.echo_pad + " you sent: " + headers.get("authorization", "")
            return await self._send(writer, 500, {"error": {"message": body}}, rec, keep)
        if mode == "null_content":
            message["content"] = None
        elif mode == "content_filter":
            message["content"] = ""
            payload["choices"][0]["finish_reason"] = "content_filter"
        elif mode == "reasoning_only":
            message["reasoning_content"] = "Let me think. " + (message["content"] or "")
            message["content"] = ""
            payload["choices"][0]["finish_reason"] = "length"
            payload["usage"]["completion_tokens_details"] = {"reasoning_tokens": 7}
        elif mode == "bad_usage":
            payload["usage"] = {"prompt_tokens": "12", "completion_tokens": {"n": 3},
                                "total_tokens": -1}
        elif mode == "surrogate":
            data = json.dumps(payload).replace('"content": "', '"content": "\\ud800 ', 1)
            return await self._send_raw(writer, 200, data.encode(), rec, keep)
        elif mode == "drip":
            data = json.dumps(payload).encode()
            writer.write(self._head(200, len(data), rec, keep))
            for i in range(len(data)):
                writer.write(data[i : i + 1])
                await writer.drain()
                await asyncio.sleep(cfg.drip_s)
            return keep
        return await self._send(writer, 200, payload, rec, keep)

    def _record(self, method: str, path: str, headers: dict, body: Any) -> RecordedRequest:
        with self._state.lock:
            seq = len(self._state.records)
            rec = RecordedRequest(
                seq, f"req-{seq}", method, path, headers, body, time.monotonic()
            )
            if isinstance(body, dict) and isinstance(body.get("messages"), list):
                h = prompt_hash(body["messages"])
                n = self._state.seen.get(h, 0)
                self._state.seen[h] = n + 1
                rec.prompt_hash = h
                rec.fault = self._fault(h, n)
            self._state.records.append(rec)
        return rec

    def _fault(self, phash: str, occurrence: int) -> str | None:
        cfg = self.config
        digest = hashlib.sha256(f"{cfg.seed}:{phash}:{occurrence}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        if occurrence < cfg.fail_first or u < cfg.fault_rate:
            return list(cfg.faults)[int.from_bytes(digest[8:16], "big") % len(cfg.faults)]
        return None

    def _completion(self, body: dict, rec: RecordedRequest) -> dict:
        words = self.config.answer(body["messages"], body).split(" ")
        limit = body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and len(words) > limit:
            words, finish = words[:limit], "length"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        return {
            "id": f"chatcmpl-{rec.request_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.config.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(words)},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(words),
                "total_tokens": prompt_tokens + len(words),
            },
        }

    @staticmethod
    def _head(
        status: int, length: int, rec: RecordedRequest, keep: bool, extra: dict | None = None
    ) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
            f"X-Request-Id: {rec.request_id}",
            f"Connection: {'keep-alive' if keep else 'close'}",
        ] + [f"{k}: {v}" for k, v in (extra or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(self, writer, status, payload, rec, keep, extra=None) -> bool:  # type: ignore[no-untyped-def]
        return await self._send_raw(writer, status, json.dumps(payload).encode(), rec, keep, extra)

    async def _send_raw(self, writer, status, data, rec, keep, extra=None) -> bool:  # type: ignore[no-untyped-def]
        writer.write(self._head(status, len(data), rec, keep, extra) + data)
        await writer.drain()
        return keep


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--faults", default=",".join(FAULT_KINDS), help="comma-separated kinds")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--hang-s", type=float, default=3600.0)
    p.add_argument("--model", default="stub-model")
    p.add_argument("--max-model-len", type=int, default=4096)
    p.add_argument("--mode", choices=MODES, help="make every chat request misbehave this way")
    a = p.parse_args(argv)
    server = StubServer(
        host=a.host,
        port=a.port,
        latency_ms=a.latency_ms,
        fault_rate=a.fault_rate,
        faults=tuple(k for k in a.faults.split(",") if k),
        fail_first=a.fail_first,
        seed=a.seed,
        retry_after=a.retry_after,
        hang_s=a.hang_s,
        model=a.model,
        max_model_len=a.max_model_len,
        mode=a.mode,
    )
    print(server.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
