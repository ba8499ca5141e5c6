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

The pieces: `urls` (accepted URLs, loopback, what may be written of a URL, redaction),
`http_transport` (proxy/SSL/redirect policy, timeouts, Retry-After, backoff), `endpoints` (the
scheduler), `openai_reply` (validating what a server sends); this module joins them.

Scheduling: `concurrency` requests in flight per endpoint; each attempt goes to the healthy
endpoint with the fewest outstanding requests. A request that fails (connection error, timeout,
5xx, 429, malformed body) is retried up to `max_retries` times after a full-jitter exponential
backoff (at least the server's Retry-After). An endpoint with `drain_after_failures` consecutive
failures rests for `drain_cooldown` seconds while the others take the traffic (with no other
endpoint up, nothing is drained: the per-request backoff paces the retries). Only after its
retries does a request give up, as a Completion with finish_reason "error".

Identity: a model name means nothing across servers (llama.cpp server and Ollama take any name),
so the model id in every cache key carries a fingerprint of what GET /v1/models says about the
served model (volatile fields such as `created` left out). Replicas listed together must report
the same model and so share answers; the runner also records the endpoints, and refuses to mix a
run directory's answers with another server's (see `runner.check_run_identity`).

Tenacity was considered for the retry loop and not used: each attempt releases its endpoint and
may go to another one, and the wait depends on the server's Retry-After and the endpoint's rest,
so the loop is the scheduling itself, not a decorator around one call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Sequence
from typing import Any

from cluebench.errors import BackendError, ConfigError
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
from cluebench.models.endpoints import Endpoint, EndpointPool
from cluebench.models.http_transport import (
    Fatal,
    Redirect,
    Retryable,
    Transport,
    backoff_delay,
    endpoint_url,
    proxy_for,
    proxy_secrets,
)
from cluebench.models.openai_reply import MalformedReply, parse_chat_completion, parse_models
from cluebench.models.urls import Redactor, Secret, host_of, is_loopback, normalize_base_url
from cluebench.models.urls import public_url, url_secrets

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_LENGTH = 8192  # when neither --max-model-len nor the server's /v1/models says
# Fields of a /v1/models entry that change while the same model is served (vLLM's `created` is
# the time of the request, llama.cpp's `status` says whether it is loaded right now).
_VOLATILE = frozenset({"created", "permission", "status", "loaded", "expires_at"})


def check_options(options: BackendOptions) -> None:
    """Impossible settings are refused before anything runs: a NaN timeout would disable the
    bound on every wait, an infinite one overflows the event loop's clock."""
    if options.concurrency < 1 or options.max_retries < 0:
        raise ConfigError("--concurrency >= 1 and --max-retries >= 0 expected")
    for name, value in (
        ("--timeout", options.timeout),
        ("retry_backoff_base", options.retry_backoff_base),
        ("retry_backoff_max", options.retry_backoff_max),
        ("retry_after_max", options.retry_after_max),
        ("drain_cooldown", options.drain_cooldown),
    ):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite number of seconds, got {value!r}")
    if options.timeout <= 0:
        raise ConfigError(f"--timeout must be positive seconds, got {options.timeout!r}")


def served_fingerprint(entries: list[dict], model: str) -> tuple[str | None, dict | None]:
    """(sha256, the entry) identifying what a server serves as `model`: its /v1/models entry
    for that id (else all its entries), volatile fields dropped. (None, None) when it lists
    nothing."""
    ours = [e for e in entries if e.get("id") == model] or entries
    if not ours:
        return None, None
    stable = [{k: v for k, v in e.items() if k not in _VOLATILE} for e in ours]
    stable.sort(key=lambda e: json.dumps(e, sort_keys=True, default=str))
    blob = json.dumps(stable, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "replace")).hexdigest(), stable[0]


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
        check_options(options)
        self._urls = [normalize_base_url(u) for u in options.base_urls]  # may hold credentials
        self.base_urls = [public_url(u) for u in self._urls]  # what is written anywhere
        self._proxies = {u: proxy_for(u) for u in self._urls}  # env only; a bad proxy fails now
        self._key: Secret | None = None
        if options.api_key_env:
            value = os.environ.get(options.api_key_env)
            if not value:
                raise ConfigError(
                    f"--api-key-env {options.api_key_env}: that environment variable is not set"
                )
            self._key = Secret(value)
        secrets = [s for u in self._urls for s in url_secrets(u)] + proxy_secrets(self._urls)
        self._redact = Redactor(secrets + ([self._key.reveal()] if self._key else []))
        self._context_length = options.max_model_len
        self._context_source = "--max-model-len" if options.max_model_len else None
        self._served: dict | None = None  # filled by _probe(): fingerprint, entry, context
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

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_urls={self.base_urls!r})"

    # -- the interface ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        fingerprint = self._probe()["fingerprint"]
        return f"openai:{self.model}" + (f"@{fingerprint[:16]}" if fingerprint else "")

    def identity(self) -> dict:
        served = self._probe()
        return {
            "model_id": self.model_id,
            "served_model": served["entry"],
            "endpoints": sorted(self.base_urls),
        }

    @property
    def context_length(self) -> int:
        if self._context_length is None:
            served = self._probe()
            if served["context_length"]:
                self._context_length, self._context_source = served["context_length"]
            else:
                log.warning(
                    "context length of %s unknown (no --max-model-len, server does not report "
                    "it); assuming %d tokens", self.model, DEFAULT_CONTEXT_LENGTH,
                )
                self._context_length, self._context_source = DEFAULT_CONTEXT_LENGTH, "default"
        return self._context_length

    def _probe(self) -> dict:
        """GET /v1/models on every endpoint, once, only when first needed (after the data-
        protection check): the served model's fingerprint and context length. Replicas listed
        together must serve the same model."""
        if self._served is None:
            self._served = asyncio.run(self._ask_models())
        return self._served

    async def _ask_models(self) -> dict:
        found: list[tuple[str, str | None, dict | None, tuple[int, str] | None]] = []
        errors: list[str] = []
        blocking = False  # an endpoint unreachable or redirecting (not merely without the route)
        transport = Transport(
            timeout=self.options.timeout, headers=self._headers(), redact=self._redact,
            connections=1, wait_cap=self.options.retry_after_max,
        )
        async with transport:
            for url, shown in zip(self._urls, self.base_urls):
                target = endpoint_url(url, "models")
                try:
                    reply = await transport.send("GET", target)
                    entries = parse_models(transport.check(reply, target))
                except (Retryable, Fatal) as exc:
                    errors.append(f"{shown}: {exc}")
                    blocking = blocking or isinstance(exc, (Retryable, Redirect))
                    continue
                fingerprint, entry = served_fingerprint(entries, self.model)
                found.append((shown, fingerprint, entry, self._context_from(entries, shown)))
        if not found and blocking:
            raise BackendError(
                f"no --base-url endpoint answered GET /models: {'; '.join(errors)}"
            )
        if errors:  # a server without the route (or refusing it) still serves completions
            log.warning("GET /models failed: %s", "; ".join(errors))
        prints = {fp for _, fp, _, _ in found if fp is not None}
        if len(prints) > 1:
            listed = "; ".join(f"{shown} reports {json.dumps(e, default=str)[:200]}"
                               for shown, fp, e, _ in found if fp is not None)
            raise ConfigError(
                "the --base-url endpoints serve different models, so their answers cannot be "
                f"pooled: {listed}. List only replicas of one model in one run"
            )
        known = [f for f in found if f[1] is not None]
        return {
            "fingerprint": known[0][1] if known else None,
            "entry": known[0][2] if known else None,
            "context_length": next((c for *_, c in found if c), None),
        }

    def _context_from(self, entries: list[dict], shown: str) -> tuple[int, str] | None:
        """vLLM reports `max_model_len`, others `context_length`/`context_window`."""
        ours = [e for e in entries if e.get("id") == self.model]
        for entry in ours or entries[:1]:
            for key in ("max_model_len", "context_length", "context_window"):
                value = entry.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value, f"{shown}/models"
        return None

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
        """Where the bytes go: every non-loopback endpoint, and the proxy it would go through
        (a proxy is a third party that sees the prompt). Loopback endpoints never use a proxy."""
        hosts: set[str] = set()
        for url in self._urls:
            host = host_of(url)
            if is_loopback(host):
                continue
            hosts.add(host)
            proxy = self._proxies[url]
            if proxy is not None:
                hosts.add(f"{proxy.host} (proxy)")
        return sorted(hosts)

    def info(self) -> dict:
        import aiohttp

        return {
            "backend": self.name,
            "spec": self.spec,
            # info() opens no connection: the fingerprint is shown once something asked for it
            "model_id": self.model_id if self._served is not None else f"openai:{self.model}",
            "base_urls": list(self.base_urls),
            "proxies": {
                shown: p.shown for shown, p in zip(self.base_urls, self._proxies.values()) if p
            },
            "served_model": self._served["entry"] if self._served else None,
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
            "versions": {"aiohttp": aiohttp.__version__},
        }

    # -- generation --------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        """Runs an event loop in the calling thread; completions are handed over as they finish."""
        if requests:
            asyncio.run(self._generate(list(requests), on_completion))

    async def _generate(self, requests: list[Request], on_completion: OnCompletion) -> None:
        opts = self.options
        pool = EndpointPool(
            [Endpoint(u, shown, opts.concurrency) for u, shown in zip(self._urls, self.base_urls)],
            drain_after_failures=opts.drain_after_failures,
            drain_cooldown=opts.drain_cooldown,
            rest_cap=min(opts.retry_after_max, opts.timeout),
        )
        pending: asyncio.Queue[Request] = asyncio.Queue()
        for r in requests:
            pending.put_nowait(r)
        done: asyncio.Queue[Completion] = asyncio.Queue()
        n_workers = min(len(requests), opts.concurrency * len(pool.endpoints))
        workers: list[asyncio.Task] = []
        transport = Transport(
            timeout=opts.timeout, headers=self._headers(), redact=self._redact,
            connections=opts.concurrency, wait_cap=opts.retry_after_max,
        )
        async with transport:
            try:
                workers = [
                    asyncio.create_task(self._worker(pool, transport, pending, done))
                    for _ in range(n_workers)
                ]
                for _ in range(len(requests)):
                    on_completion(await done.get())
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(
        self, pool: EndpointPool, transport: Transport, pending: asyncio.Queue, done: asyncio.Queue
    ) -> None:
        while True:
            try:
                req = pending.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            try:
                completion = await self._complete(pool, transport, req)
            except Exception as exc:
                log.exception("request %s failed unexpectedly", req.key[:12])
                completion = Completion.failed(
                    req.key, self._redact(repr(exc), 500), latency_s=time.perf_counter() - start
                )
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

    async def _complete(self, pool: EndpointPool, transport: Transport, req: Request) -> Completion:
        opts = self.options
        start = time.perf_counter()
        body = self._body(req)
        error = "no attempt made"
        backoff_cap = min(opts.retry_backoff_max, opts.timeout)
        for attempt in range(opts.max_retries + 1):
            ep = await pool.acquire()
            url = endpoint_url(ep.url, "chat/completions")
            try:
                reply = await transport.send("POST", url, body)
                try:
                    parsed = parse_chat_completion(transport.check(reply, url))
                except MalformedReply as exc:
                    raise Retryable(f"malformed response ({exc})") from None
            except Fatal as exc:
                await pool.release(ep, ok=True)
                error = self._redact(str(exc))
                log.warning("request %s rejected by %s: %s", req.key[:12], ep.shown, error)
                return Completion.failed(
                    req.key, error, latency_s=time.perf_counter() - start, attempts=attempt + 1
                )
            except Retryable as exc:
                await pool.release(
                    ep, ok=False, retry_after=exc.retry_after, endpoint_fault=exc.endpoint_fault
                )
                error = self._redact(f"{ep.shown}: {exc}")
                if attempt == opts.max_retries:
                    break
                delay = backoff_delay(
                    attempt, opts.retry_backoff_base, backoff_cap, exc.retry_after, self._rng
                )
                log.info(
                    "request %s attempt %d failed (%s); retrying in %.2f s",
                    req.key[:12], attempt + 1, error, delay,
                )
                await asyncio.sleep(delay)
                continue
            await pool.release(ep, ok=True)
            return Completion(
                key=req.key,
                text=parsed.text,
                finish_reason=parsed.finish_reason,
                prompt_tokens=parsed.prompt_tokens,
                completion_tokens=parsed.completion_tokens,
                latency_s=time.perf_counter() - start,
                attempts=attempt + 1,
                reasoning=parsed.reasoning,
                reasoning_tokens=parsed.reasoning_tokens,
            )
        log.warning("request %s gave up after %d attempts: %s", req.key[:12], attempt + 1, error)
        return Completion.failed(
            req.key, error, latency_s=time.perf_counter() - start, attempts=opts.max_retries + 1
        )
