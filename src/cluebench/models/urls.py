"""URL and secret rules for remote model servers: which URLs are accepted, which hosts are this
machine, what of a URL may be written down, and how secrets are kept out of every message.

Why a module of its own: the data-protection guard, the transport, config.json and the report
all need the same answers ("is this loopback?", "what may be shown of this URL?"), and one rule
in one place cannot drift apart from itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cluebench.errors import ConfigError

HIDDEN = "***"
# Characters no URL may hold raw: whitespace/control characters (Python's urlsplit silently
# deletes tabs and newlines, so "h\tost" would quietly become another host) and the backslash
# (which some parsers read as a path separator, others as part of the host).
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_CHARS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)$")


class Secret:
    """Holds a secret value; its repr/str never show it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def check_url(url: str, what: str = "--base-url") -> None:
    """One clear ConfigError for anything that is not a plain http(s)://HOST[:PORT][/PATH]."""
    bad = _BAD_CHARS.search(url)
    if bad:
        raise ConfigError(
            f"{what} {public_url(url)!r}: character {bad.group()!r} at position {bad.start()} is "
            "not allowed in a URL (percent-encode it or remove it)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(f"{what} {public_url(url)!r}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} {public_url(url)!r}: expected http(s)://HOST[:PORT][/PATH]")
    host = parts.netloc.rpartition("@")[2]
    if port is not None or host.endswith(":"):
        host = host.rsplit(":", 1)[0]
    if not _HOST_CHARS.match(host):
        raise ConfigError(f"{what} {public_url(url)!r}: the host {host!r} is not a valid host name")


def normalize_base_url(url: str) -> str:
    """`http://h:8000` and `http://h:8000/` get `/v1`; any other path is taken as given."""
    check_url(url)
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))
    if parts.path in ("", "/"):
        base = urlunsplit((parts.scheme, parts.netloc, "/v1", parts.query, ""))
    return base


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost; no DNS lookup (that would be a connection)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def public_url(url: str) -> str:
    """What may be written of a URL: the userinfo password and every query value become `***`
    (an API key in `?key=...` is as secret as one in a header). Never raises."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{HIDDEN}@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
        query = "&".join(
            f"{k}={HIDDEN}" for k, _ in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<unparseable URL>"


def url_secrets(url: str) -> list[str]:
    """The secret pieces of a URL (password, query values), for redaction of error texts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    found += [v for _, v in parse_qsl(parts.query, keep_blank_values=True) if v]
    return found


class Redactor:
    """Replaces every known secret with `***`, then cuts: in that order, so that a secret
    straddling the cut can never leave a prefix of itself behind."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole. Very short values
        # (a `?v=1` query) are not secrets worth mangling every message for.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str, limit: int | None = None) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        if limit is not None and len(text) > limit:
            text = text[:limit] + "…"
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"
