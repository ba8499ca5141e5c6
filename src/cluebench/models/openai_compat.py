"""`openai:MODEL` — chat completions from one or more OpenAI-compatible servers (vLLM, llama.cpp
server, TGI, hosted APIs), with `--base-url` given once per endpoint.

Why aiohttp directly rather than the `openai` SDK: every retry decision here is ours (which
failures retry, Retry-After as seconds or HTTP date, malformed bodies, draining an endpoint), and
the SDK would add its own retries/timeouts on top unless each is switched off. Why aiohttp rather
than httpx: at the concurrency a vLLM server wants, the client's own CPU per request bounds
throughput. httpx cost ~1.1-1.6 ms per request here and its pool is O(C^2) per request
(encode/httpx#3215), so it needed one client per slot and still reached only 0.87 of ideal at
C = 64; aiohttp's pool (one `ClientSession` per endpoint, `TCPConnector(limit=C)`) is cheap enough
to keep up (benchmarks/README.md). The one-off synchronous GET /v1/models still uses httpx.

Scheduling: `concurrency` requests in flight per endpoint; each attempt goes to the healthy
endpoint with the fewest outstanding requests. A request that fails (connection error, timeout,
5xx, 429, malformed body) is retried up to `max_retries` times after a full-jitter exponential
backoff (at least the server's Retry-After). An endpoint with `drain_after_failures` consecutive
failures rests for `drain_cooldown` seconds while the others take the traffic (with no other
endpoint up, nothing is drained: the per-request backoff paces the retries). Only after its
retries does a request give up, as a Completion with finish_reason "error".
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import os
import random
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cluebench.errors import ConfigError
from cluebench.models.approx import DESCRIPTION as APPROX_DESCRIPTION
from cluebench.models.approx import ApproxTokenizer, render_chatml
from cluebench.models.base import (
    Backend,
    BackendOptions,
    Completion,
    Message,
    OnCompletion,
    Request,
    Tokenizer,
    register,
)
from cluebench.models.chat import merge_system, template_sha256

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_LENGTH = 8192  # when neither --max-model-len nor the server's /v1/models says


class _Secret:
    """Holds the API key; its repr/str never show it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Secret('***')"

    __str__ = __repr__


class _Retryable(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None, endpoint_fault=True):
        super().__init__(message)
        self.retry_after = retry_after
        self.endpoint_fault = endpoint_fault  # counts toward draining the endpoint


class _Fatal(Exception):
    """A 4xx other than 408/429: the request itself is wrong; retrying cannot help."""


@dataclass(eq=False)
class _Endpoint:
    base_url: str
    capacity: int
    session: Any = field(default=None, repr=False)  # aiohttp.ClientSession, one per generate()
    chat_url: Any = None  # yarl.URL of /chat/completions, parsed once
    proxy: Any = None  # (proxy URL, BasicAuth | None) from HTTP(S)_PROXY / NO_PROXY, or None
    in_flight: int = 0
    served: int = 0
    failures: int = 0  # consecutive
    resting_until: float = 0.0


def normalize_base_url(url: str) -> str:
    """`http://h:8000` and `http://h:8000/` get `/v1`; any other path is taken as given."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--base-url '{url}': expected http(s)://HOST[:PORT][/PATH]")
    url = url.rstrip("/")
    return url + "/v1" if parts.path in ("", "/") else url


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost; no DNS lookup (that would be a connection)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as delay seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _ssl_context() -> ssl.SSLContext:
    """What httpx verified against, kept so https endpoints keep working the same way: certifi's
    bundle, unless SSL_CERT_FILE / SSL_CERT_DIR point elsewhere (OpenSSL reads those itself)."""
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _env_proxy(url: Any) -> Any:
    """The HTTP(S)_PROXY that applies to `url` (NO_PROXY honoured), as httpx's trust_env did.
    Looked up once per endpoint: aiohttp's own trust_env would also read ~/.netrc on every request
    (in a thread) and refuse a request carrying both netrc credentials and our Authorization."""
    from aiohttp.helpers import get_env_proxy_for_url

    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None


def backoff_delay(
    attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random
) -> float:
    """Full jitter (AWS architecture blog): U(0, min(cap, base * 2**attempt)), but never less
    than the server's Retry-After."""
    delay = rng.uniform(0.0, min(cap, base * (2**attempt)))
    return max(delay, retry_after) if retry_after is not None else delay


@register("openai")
class OpenAIBackend(Backend):
    name = "openai"
    option_names = (
        "base_urls", "concurrency", "timeout", "max_retries", "api_key_env", "tokenizer", "max_model_len",
        "trust_remote_code", "retry_backoff_base", "retry_backoff_max", "retry_after_max",
        "drain_after_failures", "drain_cooldown",
    )

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        self.model = spec.partition(":")[2]
        if not options.base_urls:
            raise ConfigError(f"model spec '{spec}' needs at least one --base-url")
        if options.concurrency < 1 or options.max_retries < 0 or options.timeout <= 0:
            raise ConfigError("--concurrency >= 1, --max-retries >= 0 and --timeout > 0 expected")
        self.base_urls = [normalize_base_url(u) for u in options.base_urls]
        self._key: _Secret | None = None
        if options.api_key_env:
            value = os.environ.get(options.api_key_env)
            if not value:
                raise ConfigError(
                    f"--api-key-env {options.api_key_env}: that environment variable is not set"
                )
            self._key = _Secret(value)
        self._context_length = options.max_model_len
        self._context_source = "--max-model-len" if options.max_model_len else None
        self._rng = random.Random()
        self._system_role = "native"
        self._template_source: str | None = None
        self._hf_tok: Any = None
        if options.tokenizer:
            from cluebench.models.hf_common import (
                HFTokenizer,
                hf_renderer,
                load_hf_tokenizer,
            )

            self._hf_tok = load_hf_tokenizer(
                options.tokenizer, trust_remote_code=options.trust_remote_code
            )
            self._render, self._system_role, self._template_source = hf_renderer(
                self._hf_tok,
                options.plain_template,
                override=options.chat_template,
                extra=lambda: self.options.chat_template_kwargs,
            )
            self._tokenizer: Tokenizer = HFTokenizer(self._hf_tok)
        else:
            self._render = render_chatml
            self._tokenizer = ApproxTokenizer()

    # -- secrets -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}

    def _redact(self, text: str) -> str:
        return text.replace(self._key.reveal(), "***") if self._key else text

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_urls={self.base_urls!r})"

    # -- the interface ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return f"openai:{self.model}"

    @property
    def context_length(self) -> int:
        if self._context_length is None:
            self._context_length, self._context_source = self._ask_context_length()
        return self._context_length

    def _ask_context_length(self) -> tuple[int, str]:
        """vLLM reports `max_model_len` in /v1/models; asked once, only when first needed."""
        import httpx

        for base in self.base_urls:
            try:
                resp = httpx.get(f"{base}/models", headers=self._headers(), timeout=10.0)
                entries = resp.json().get("data") or []
            except (httpx.HTTPError, ValueError, AttributeError):
                continue
            ours = [e for e in entries if isinstance(e, dict) and e.get("id") == self.model]
            for entry in ours or entries[:1]:
                for key in ("max_model_len", "context_length", "context_window"):
                    if isinstance(entry.get(key), int) and entry[key] > 0:
                        return entry[key], f"{base}/models"
        log.warning(
            "context length of %s unknown (no --max-model-len, server does not report it); "
            "assuming %d tokens",
            self.model,
            DEFAULT_CONTEXT_LENGTH,
        )
        return DEFAULT_CONTEXT_LENGTH, "default"

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def render(self, messages: Sequence[Message]) -> str:
        return self._render(messages)

    def chat_template(self) -> str | None:
        return self._template_source

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        if self._hf_tok is not None:
            from cluebench.models.hf_common import prompt_ids

            return len(prompt_ids(self._hf_tok, self.render(messages), self._system_role))
        return len(self._tokenizer.encode(self.render(messages)))

    def remote_hosts(self) -> list[str]:
        hosts = {urlsplit(u).hostname or "" for u in self.base_urls}
        return sorted(h for h in hosts if not is_loopback(h))

    def info(self) -> dict:
        import aiohttp
        import httpx

        return {
            **super().info(),
            "base_urls": list(self.base_urls),
            "chat_template_sha256": template_sha256(self._template_source),
            "system_role": self._system_role,
            "tokenizer": (
                f"exact: {self.options.tokenizer}" if self._hf_tok is not None
                else APPROX_DESCRIPTION
            ),
            "context_length": self._context_length,
            "context_length_source": self._context_source,
            "concurrency_per_endpoint": self.options.concurrency,
            "timeout_s": self.options.timeout,
            "max_retries": self.options.max_retries,
            "api_key_env": self.options.api_key_env,
            "versions": {"aiohttp": aiohttp.__version__, "httpx (GET /models)": httpx.__version__},
        }

    # -- generation --------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        """Runs an event loop in the calling thread; completions are handed over as they finish."""
        if requests:
            asyncio.run(self._generate(list(requests), on_completion))

    async def _generate(self, requests: list[Request], on_completion: OnCompletion) -> None:
        endpoints = [_Endpoint(base, self.options.concurrency) for base in self.base_urls]
        self._endpoints = endpoints
        self._cond = asyncio.Condition()
        pending: asyncio.Queue[Request] = asyncio.Queue()
        for r in requests:
            pending.put_nowait(r)
        done: asyncio.Queue[Completion] = asyncio.Queue()
        n_workers = min(len(requests), self.options.concurrency * len(endpoints))
        workers: list[asyncio.Task] = []
        try:
            self._open_sessions(endpoints)
            workers = [asyncio.create_task(self._worker(pending, done)) for _ in range(n_workers)]
            for _ in range(len(requests)):
                on_completion(await done.get())
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for ep in endpoints:
                if ep.session is not None:
                    await ep.session.close()
            self._endpoints = []  # nothing of this run's sockets outlives generate()

    def _open_sessions(self, endpoints: list[_Endpoint]) -> None:
        """One pooled session per endpoint, at most `concurrency` connections (the slots in
        `_acquire` already keep it there; the limit is a backstop). Sessions are made inside the
        running loop and live for one generate() call, so nothing connects at construction."""
        import aiohttp
        from yarl import URL

        opts = self.options
        ssl_ctx = _ssl_context() if any(u.startswith("https:") for u in self.base_urls) else True
        headers = self._headers()
        for ep in endpoints:
            ep.chat_url = URL(f"{ep.base_url}/chat/completions")
            ep.proxy = _env_proxy(ep.chat_url)
            ep.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=ep.capacity, limit_per_host=0, ssl=ssl_ctx),
                timeout=aiohttp.ClientTimeout(total=opts.timeout),
                headers=headers,
                trust_env=False,  # proxies resolved once above (see _env_proxy)
                raise_for_status=False,
            )

    async def _worker(self, pending: asyncio.Queue[Request], done: asyncio.Queue) -> None:
        while True:
            try:
                req = pending.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                completion = await self._complete(req)
            except Exception as exc:
                log.exception("request %s failed unexpectedly", req.key[:12])
                completion = self._failed(req, self._redact(repr(exc)), time.perf_counter(), 1)
            await done.put(completion)

    def _body(self, req: Request) -> dict:
        messages = [dict(m) for m in req.messages]
        if self._system_role == "merged":
            messages = merge_system(messages, (self.options.plain_template or {})["merged_system"])
        d = req.decoding
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": d.max_tokens,
            "temperature": d.temperature,
            "top_p": d.top_p,
            "seed": d.seed,
            # The template's thinking switch (vLLM, SGLang and llama.cpp server pass these to the
            # chat template); sent only when the reasoning policy set any.
            **(
                {"chat_template_kwargs": dict(self.options.chat_template_kwargs)}
                if self.options.chat_template_kwargs
                else {}
            ),
        }

    async def _complete(self, req: Request) -> Completion:
        opts = self.options
        start = time.perf_counter()
        body = self._body(req)
        error = "no attempt made"
        for attempt in range(opts.max_retries + 1):
            ep = await self._acquire()
            try:
                text, finish, usage = await self._post(ep, body)
            except _Fatal as exc:
                await self._release(ep, ok=True)
                error = self._redact(str(exc))
                log.warning("request %s rejected by %s: %s", req.key[:12], ep.base_url, error)
                return self._failed(req, error, start, attempt + 1)
            except _Retryable as exc:
                await self._release(ep, ok=False, fault=exc)
                error = self._redact(f"{ep.base_url}: {exc}")
                if attempt == opts.max_retries:
                    break
                delay = backoff_delay(
                    attempt,
                    opts.retry_backoff_base,
                    opts.retry_backoff_max,
                    exc.retry_after,
                    self._rng,
                )
                log.info(
                    "request %s attempt %d failed (%s); retrying in %.2f s",
                    req.key[:12], attempt + 1, error, delay,
                )
                await asyncio.sleep(delay)
                continue
            await self._release(ep, ok=True)
            return Completion(
                key=req.key,
                text=text,
                finish_reason=finish,
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                latency_s=time.perf_counter() - start,
                attempts=attempt + 1,
            )
        log.warning("request %s gave up after %d attempts: %s", req.key[:12], attempt + 1, error)
        return self._failed(req, error, start, opts.max_retries + 1)

    @staticmethod
    def _failed(req: Request, error: str, start: float, attempts: int) -> Completion:
        return Completion(
            key=req.key,
            text="",
            finish_reason="error",
            latency_s=time.perf_counter() - start,
            error=error,
            attempts=attempts,
        )

    async def _acquire(self) -> _Endpoint:
        """The rested endpoint with a free slot and the fewest requests outstanding."""
        loop = asyncio.get_running_loop()
        async with self._cond:
            while True:
                now = loop.time()
                free = [
                    e for e in self._endpoints
                    if e.resting_until <= now and e.in_flight < e.capacity
                ]
                if free:
                    ep = min(free, key=lambda e: (e.in_flight, e.served))
                    ep.in_flight += 1
                    ep.served += 1
                    return ep
                rests = [e.resting_until - now for e in self._endpoints if e.resting_until > now]
                try:
                    await asyncio.wait_for(self._cond.wait(), min(rests) if rests else None)
                except TimeoutError:
                    pass

    async def _release(self, ep: _Endpoint, *, ok: bool, fault: _Retryable | None = None) -> None:
        now = asyncio.get_running_loop().time()
        async with self._cond:
            ep.in_flight -= 1
            if ok:
                ep.failures = 0
            elif fault is not None:
                if fault.retry_after is not None:  # 429: the server asked everyone to wait
                    pause = min(fault.retry_after, self.options.retry_after_max)
                    ep.resting_until = max(ep.resting_until, now + pause)
                if fault.endpoint_fault:
                    ep.failures += 1
                    # Draining shifts traffic to the others; with no other endpoint up, resting
                    # would only stall the run, so the per-request backoff alone applies then.
                    others_up = any(
                        e is not ep and e.resting_until <= now for e in self._endpoints
                    )
                    if (
                        others_up
                        and ep.failures >= self.options.drain_after_failures
                        and ep.resting_until <= now
                    ):
                        ep.resting_until = now + self.options.drain_cooldown
                        log.warning(
                            "endpoint %s drained for %g s after %d consecutive failures",
                            ep.base_url, self.options.drain_cooldown, ep.failures,
                        )
            self._cond.notify_all()

    async def _post(self, ep: _Endpoint, body: dict) -> tuple[str, str, dict]:
        """One POST on `ep`'s pooled session; the whole attempt (connecting, sending, reading the
        body) is bounded by the session's ClientTimeout(total=--timeout)."""
        import aiohttp

        proxy, proxy_auth = ep.proxy or (None, None)
        try:
            async with ep.session.post(
                ep.chat_url, json=body, proxy=proxy, proxy_auth=proxy_auth
            ) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                raw = await resp.read()
        except TimeoutError:  # aiohttp's total timeout (and its Server/ConnectionTimeoutError)
            raise _Retryable(f"no complete response within {self.options.timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:  # refused, reset, truncated body, bad HTTP
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        if status == 429:
            after = parse_retry_after(retry_after)
            if after is not None:
                after = min(after, self.options.retry_after_max)
            raise _Retryable("HTTP 429 (rate limited)", retry_after=after, endpoint_fault=False)
        if status >= 500 or status == 408:
            raise _Retryable(f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}")
        if status >= 400:
            raise _Fatal(
                f"HTTP {status} from {ep.base_url}: {raw[:500].decode('utf-8', 'replace')}"
            )
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            if not isinstance(text, str):
                raise TypeError("content is not a string")
            usage = data.get("usage") or {}
            if not isinstance(usage, dict):
                usage = {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise _Retryable(f"malformed response ({type(exc).__name__}: {exc})") from None
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return text, finish, usage
