"""A forward HTTP proxy on loopback that records what reaches it, for tests of the proxy rules.

It never forwards anything: a plain-HTTP request in proxy form (`POST http://host/... HTTP/1.1`)
is recorded and answered with a canned chat completion (or model list), as if the far host had
answered; a CONNECT (for https) is recorded and refused. So a test can show both that loopback
traffic never reaches a proxy and that remote traffic does (and that the guard counted it).

    with RecordingProxy() as proxy_url:       # http://127.0.0.1:PORT
        ...
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class ProxiedRequest:
    method: str
    target: str  # the absolute URI (or host:port for CONNECT)
    headers: dict[str, str]
    body: bytes


class RecordingProxy:
    def __init__(self, answer: str = "proxied answer") -> None:
        self.answer = answer
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="recording-proxy")
        self.port = 0

    def __enter__(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _body_for(self, target: str, body: bytes) -> dict[str, Any]:
        if target.rstrip("/").endswith("/models"):
            return {"object": "list", "data": [{"id": "proxied-model", "object": "model"}]}
        return {
            "id": "chatcmpl-proxy",
            "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.answer}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2},
        }

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                with self._lock:
                    self.requests.append(ProxiedRequest(method, target, headers, body))
                if method == "CONNECT":
                    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    return
                data = json.dumps(self._body_for(target, body)).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ValueError):
            pass
        finally:
            writer.close()
