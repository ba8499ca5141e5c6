"""Reading a chat-completion body, trusting nothing in it.

A server is a program somebody else wrote: counts come as strings or objects, `content` as null
or a list of parts, text with lone surrogates that no UTF-8 file can hold. Each field is checked
here; what cannot be an answer raises `MalformedReply` (the request is retried), what is merely
odd is dropped (a count that is not a count becomes None) so one server quirk never stops a run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Finish reasons other servers use for the same three facts.
_FINISH_ALIASES = {
    "stop": "stop", "eos": "stop", "eos_token": "stop", "end_turn": "stop",
    "stop_sequence": "stop", "tool_calls": "stop", "function_call": "stop",
    "length": "length", "max_tokens": "length", "model_length": "length",
    "content_filter": "content_filter", "safety": "content_filter", "recitation": "content_filter",
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,39}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedReply(ValueError):
    """The body is not a chat completion we can read; another attempt may get a good one."""


@dataclass
class ChatReply:
    text: str
    finish_reason: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning: str | None = None
    reasoning_tokens: int | None = None


def clean_text(text: str) -> str:
    """Lone surrogates (JSON `"\\ud800"`) become U+FFFD: nothing downstream can encode them."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def count(value: Any) -> int | None:
    """A token count as a non-negative int, or None for anything else (bool, str, object, -1)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 2**53:
        return value
    return None


def _content(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: [{"type": "text", "text": "..."}]
        texts = []
        for part in value:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
            else:
                raise MalformedReply("message.content holds a part that is not text")
        return "".join(texts)
    raise MalformedReply(f"message.content is a {type(value).__name__}, not text")


def finish_reason(value: Any) -> str:
    """The server's finish reason: the three we know under their usual names, any other plain
    identifier as sent, null as "stop" (older servers omit it)."""
    if value is None:
        return "stop"
    if not isinstance(value, str) or not _IDENT.match(value):
        raise MalformedReply(f"finish_reason {str(value)[:40]!r} is not a finish reason")
    if value in ("error", "abort"):
        raise MalformedReply(f"the server ended generation with finish_reason {value!r}")
    return _FINISH_ALIASES.get(value, value)


def parse_chat_completion(raw: bytes) -> ChatReply:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedReply(f"body is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise MalformedReply("body is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply("no choices[0] object")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedReply("choices[0].message is not an object")
    text = clean_text(_content(message.get("content")))
    reasoning = message.get("reasoning_content", message.get("reasoning"))
    reasoning = clean_text(reasoning) if isinstance(reasoning, str) and reasoning else None
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("completion_tokens_details")
    details = details if isinstance(details, dict) else {}
    return ChatReply(
        text=text,
        finish_reason=finish_reason(choice.get("finish_reason")),
        prompt_tokens=count(usage.get("prompt_tokens")),
        completion_tokens=count(usage.get("completion_tokens")),
        reasoning=reasoning,
        reasoning_tokens=count(details.get("reasoning_tokens")),
    )


def parse_models(raw: bytes) -> list[dict]:
    """The `data` list of a GET /v1/models body (only its object entries); [] when unreadable."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    entries = data.get("data") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
