"""HTTP to OpenAI-compatible servers, with the policy that keeps prompts where they belong.

The policy, in one place:
- **Proxies never carry loopback traffic.** A server on this machine is reached directly whatever
  HTTP_PROXY/HTTPS_PROXY/ALL_PROXY say; a remote server goes through the proxy those variables name
  (NO_PROXY honoured), and that proxy is reported as a host the bytes go to (`proxy_for`), so the
  data-protection guard counts it.
- **Redirects are never followed.** A 3xx is an error naming its target: following it would
  re-send the prompt (and the API key) to a host nobody checked.
- **Every wait is bounded by the user's timeout**: one attempt (connect, send, read) by
  `ClientTimeout(total=timeout)`, a server's Retry-After and the backoff by `min(cap, timeout)`.
- Error bodies are redacted before they are cut (see `urls.Redactor`).

Why aiohttp rather than httpx, and why no `trust_env`: see `openai_compat`'s docstring; proxies
are resolved here once per endpoint, so that aiohttp never reads ~/.netrc or the proxy variables
on its own and the rule above is the only one that applies.
"""

from __future__ import annotations

import base64
import email.utils
import os
import random
import ssl
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from cluebench.errors import ConfigError
from cluebench.models.urls import Redactor, Secret, is_loopback, public_url, url_secrets

ERROR_BODY_CHARS = 300  # how much of a server's error body a message keeps (after redaction)


class Retryable(Exception):
    """A failure another attempt may cure: connection trouble, timeout, 5xx, 408, 429, a
    malformed body."""

    def __init__(self, message: str, *, retry_after: float | None = None, endpoint_fault=True):
        super().__init__(message)
        self.retry_after = retry_after
        self.endpoint_fault = endpoint_fault  # counts toward draining the endpoint


class Fatal(Exception):
    """The request itself is wrong (4xx other than 408/429) or must not be followed (3xx)."""


class Redirect(Fatal):
    """A 3xx: the server wants the request re-sent elsewhere, which is never done."""


@dataclass(frozen=True)
class Proxy:
    """A proxy an endpoint's requests go through: the URL without credentials, its auth, and
    its host (a host the data goes to, for the guard)."""

    url: str
    auth: Secret | None  # the Proxy-Authorization header value, when the URL had credentials
    host: str
    shown: str  # public_url of the proxy, for messages and config.json

    def headers(self) -> dict[str, str] | None:
        return {"Proxy-Authorization": self.auth.reveal()} if self.auth else None


def _env_proxies() -> dict[str, str]:
    """The proxy variables as urllib reads them (lower case wins, HTTP_PROXY ignored under CGI)."""
    return urllib.request.getproxies_environment()


def proxy_for(url: str) -> Proxy | None:
    """The proxy requests to `url` go through, or None. Loopback never goes through a proxy."""
    host = urlsplit(url).hostname or ""
    if is_loopback(host):
        return None
    proxies = _env_proxies()
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    scheme = urlsplit(url).scheme
    raw = proxies.get(scheme) or proxies.get("all")
    if not raw:
        return None
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    variable = f"{scheme.upper()}_PROXY" if proxies.get(scheme) else "ALL_PROXY"
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(
            f"{variable}={public_url(raw)!r}: only http:// proxies can carry requests to "
            f"{public_url(url)}; unset it or add {host} to NO_PROXY"
        )
    auth = None
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = Secret("Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii"))
    bare = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    return Proxy(url=bare, auth=auth, host=parts.hostname, shown=public_url(raw))


def proxy_secrets(urls: list[str]) -> list[str]:
    """Passwords of the proxies these URLs would use, so error texts can be redacted of them."""
    out: list[str] = []
    for u in urls:
        try:
            p = proxy_for(u)
        except ConfigError:
            continue
        if p is not None and p.auth is not None:
            out.append(p.auth.reveal().split(" ", 1)[1])
    out += [s for v in _env_proxies().values() for s in url_secrets(v if "://" in v else "http://" + v)]
    return out


def ssl_context() -> ssl.SSLContext:
    """certifi's bundle, unless SSL_CERT_FILE / SSL_CERT_DIR point elsewhere (OpenSSL reads those)."""
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as delay seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random
) -> float:
    """Full jitter (AWS architecture blog): U(0, min(cap, base * 2**attempt)), but never less
    than the server's Retry-After (which the caller has already bounded)."""
    delay = rng.uniform(0.0, min(cap, base * (2 ** min(attempt, 60))))
    return max(delay, retry_after) if retry_after is not None else delay


def endpoint_url(base: str, suffix: str) -> str:
    """`base` (which may carry a query, e.g. `?api-version=...`) with `/suffix` added to its path."""
    parts = urlsplit(base)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + suffix, parts.query, "")
    )


@dataclass
class Reply:
    status: int
    body: bytes
    retry_after: str | None


class Transport:
    """Pooled sessions (one per base URL, at most `connections` sockets each) for one batch.

    Made and closed inside one running event loop (`async with Transport(...)`), so two batches
    can run at once and nothing of one outlives it.
    """

    def __init__(
        self,
        *,
        timeout: float,
        headers: dict[str, str],
        redact: Redactor,
        connections: int,
        wait_cap: float,
    ) -> None:
        self.timeout = timeout
        self.headers = headers
        self.redact = redact
        self.connections = connections
        self.wait_cap = min(wait_cap, timeout)  # the longest Retry-After honoured per attempt
        self._sessions: dict[str, Any] = {}
        self._proxies: dict[str, Proxy | None] = {}

    async def __aenter__(self) -> "Transport":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for s in sessions.values():
            await s.close()

    def _session(self, url: str) -> Any:
        import aiohttp

        origin = urlsplit(url)
        key = f"{origin.scheme}://{origin.netloc}"
        session = self._sessions.get(key)
        if session is None:
            ssl_ctx: Any = ssl_context() if origin.scheme == "https" else True
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.connections, limit_per_host=0, ssl=ssl_ctx
                ),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers=self.headers,
                trust_env=False,  # proxies are decided by proxy_for, never by aiohttp
                raise_for_status=False,
            )
            self._sessions[key] = session
            self._proxies[key] = proxy_for(url)
        return session, self._proxies[key]

    async def send(self, method: str, url: str, body: dict | None = None) -> Reply:
        """One attempt, bounded by the total timeout, redirects not followed. Raises Retryable
        for what another attempt may cure; returns every other status for `check` to judge."""
        import aiohttp
        from yarl import URL

        session, proxy = self._session(url)
        try:
            async with session.request(
                method,
                URL(url, encoded=True),
                json=body,
                proxy=proxy.url if proxy else None,
                proxy_headers=proxy.headers() if proxy else None,
                allow_redirects=False,
            ) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                location = resp.headers.get("Location")
                raw = await resp.read()
        except TimeoutError:  # aiohttp's total timeout (and its Server/ConnectionTimeoutError)
            raise Retryable(f"no complete response within {self.timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:  # refused, reset, truncated body, bad HTTP
            raise Retryable(self.redact(f"{type(exc).__name__}: {exc}", ERROR_BODY_CHARS)) from None
        except ValueError as exc:  # a request aiohttp refuses to build: no retry can cure it
            raise Fatal(self.redact(f"{public_url(url)}: {exc}", ERROR_BODY_CHARS)) from None
        if 300 <= status < 400:
            target = public_url(location) if location else "no Location given"
            raise Redirect(
                f"HTTP {status} redirect to {self.redact(target)} from {public_url(url)} refused: "
                "cluebench never follows redirects (the prompt would go to a host nobody "
                "checked); give the final address as --base-url"
            )
        return Reply(status, raw, retry_after)

    def check(self, reply: Reply, url: str) -> bytes:
        """The body of a 2xx reply; Retryable/Fatal for the other statuses, bodies redacted
        first and cut after."""
        status = reply.status
        text = reply.body.decode("utf-8", "replace")
        if status == 429:
            after = parse_retry_after(reply.retry_after)
            if after is not None:
                after = min(after, self.wait_cap)
            raise Retryable("HTTP 429 (rate limited)", retry_after=after, endpoint_fault=False)
        if status >= 500 or status == 408:
            raise Retryable(f"HTTP {status}: {self.redact(text, ERROR_BODY_CHARS)}")
        if status >= 400 or status < 200:
            raise Fatal(f"HTTP {status} from {public_url(url)}: {self.redact(text, ERROR_BODY_CHARS)}")
        return reply.body
