"""Shared parsing helpers for the readers: UTF-8 decoding, JSON / JSON-lines records with line
numbers, and field checks that raise one precise :class:`DataError` each.

Line numbers matter because the files are edited by hand or produced by other tools; an error
that says "line 812, field 'gold_label'" is fixed in a minute, "invalid data" is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cluebench.errors import DataError

_WS = " \t\r\n"
_DECODER = json.JSONDecoder()
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = "broken JSON: nested too deeply to read (hundreds of levels of lists or objects)"


def _check_surrogates(path: Path, source: str, value: Any, line: int) -> None:
    """JSON may write a lone UTF-16 surrogate (`"\\ud800"`), which no UTF-8 file can hold: it
    would fail only when the run writes its files. Found here, with its line (a valid pair
    decodes to one character and passes)."""
    if _SURROGATE_ESCAPE.search(source) is None:
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise DataError(path, "a lone UTF-16 surrogate escape (like \\ud800) is not text; "
                                "fix or remove it", line=line)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def decode_utf8(path: Path, raw: bytes) -> str:
    """Decode UTF-8 (a leading BOM is allowed and dropped), naming the line of a bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8",
            line=line,
        ) from None


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages a user understands."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _json_error(path: Path, exc: json.JSONDecodeError, base_line: int = 0) -> DataError:
    return DataError(path, f"broken JSON: {exc.msg} (column {exc.colno})", line=base_line + exc.lineno)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


class _LineCounter:
    """Maps character offsets to 1-based line numbers incrementally (offsets only grow)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def iter_json_top(path: Path, text: str) -> Iterator[tuple[str | int, Any, int]]:
    """Yield (key or index, value, line) for each member of a top-level JSON object or list.

    Parsed member by member so that each member's line is known and duplicate top-level keys
    (which `json.loads` silently collapses to the last one) are reported instead of lost.
    """
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] not in "[{":
        raise DataError(path, "expected a JSON list or object at the top level", line=1)
    is_obj = text[pos] == "{"
    close = "}" if is_obj else "]"
    lines = _LineCounter(text)
    seen: dict[str, int] = {}
    pos = _skip_ws(text, pos + 1)
    index = 0
    if pos < len(text) and text[pos] == close:
        return
    while True:
        line = lines.at(pos)
        try:
            if is_obj:
                key, pos = _DECODER.raw_decode(text, pos)
                if not isinstance(key, str):
                    raise DataError(path, "object keys must be strings", line=line)
                pos = _skip_ws(text, pos)
                if pos >= len(text) or text[pos] != ":":
                    raise DataError(path, "broken JSON: expected ':' after a key", line=lines.at(pos))
                pos = _skip_ws(text, pos + 1)
                if key in seen:
                    raise DataError(path, f"duplicate id {key!r} (first on line {seen[key]})", line=line)
                seen[key] = line
                start = pos
                value, pos = _DECODER.raw_decode(text, pos)
                _check_surrogates(path, text[start:pos], [key, value], line)
                yield key, value, line
            else:
                start = pos
                value, pos = _DECODER.raw_decode(text, pos)
                _check_surrogates(path, text[start:pos], value, line)
                yield index, value, line
        except json.JSONDecodeError as exc:
            raise _json_error(path, exc) from None
        except RecursionError:
            raise DataError(path, _TOO_DEEP, line=line) from None
        index += 1
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == close:
            break
        raise DataError(path, f"broken JSON: expected ',' or '{close}'", line=lines.at(min(pos, len(text))))
    if _skip_ws(text, pos + 1) != len(text):
        raise DataError(path, "broken JSON: extra data after the top-level value", line=lines.at(pos + 1))


def iter_jsonl(path: Path, text: str) -> Iterator[tuple[int, Any, int]]:
    """Yield (index, value, line) for each non-blank line of a JSON-lines file.

    Lines end at ``\n`` (a preceding ``\r`` is dropped), never at the other Unicode line
    boundaries ``str.splitlines`` knows: a raw U+2028, U+0085 or form feed inside a JSON string is
    valid JSON (``json.loads`` and the reference read it), not the end of a line.
    """
    index = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"broken JSON line: {exc.msg} (column {exc.colno})", line=lineno) from None
        except RecursionError:
            raise DataError(path, _TOO_DEEP, line=lineno) from None
        _check_surrogates(path, line, value, lineno)
        yield index, value, lineno
        index += 1


def looks_like_json_list(text: str) -> bool:
    """True for a file holding one JSON list, False for JSON lines (one object per line)."""
    pos = _skip_ws(text, 0)
    return pos < len(text) and text[pos] == "["


def iter_records(path: Path, text: str) -> Iterator[tuple[int, Any, int]]:
    """Records of a file that is either one JSON list or JSON lines (the reference's generator
    writes lines, its evaluator reads a list; both are accepted)."""
    if looks_like_json_list(text):
        yield from iter_json_top(path, text)  # type: ignore[misc]
    else:
        yield from iter_jsonl(path, text)


def require_object(path: Path, value: Any, line: int | None, what: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(path, f"{what} must be a JSON object, got {type_name(value)}", line=line)
    return value


def require_str(
    path: Path, obj: dict, key: str, line: int | None, *, field: str | None = None, allow_empty: bool = True
) -> str:
    """obj[key] as a string, or a DataError naming the field (missing, wrong type, or empty)."""
    name = field or key
    if key not in obj:
        raise DataError(path, "missing field", line=line, field=name)
    value = obj[key]
    if not isinstance(value, str):
        raise DataError(path, f"expected a string, got {type_name(value)}", line=line, field=name)
    if not allow_empty and not value.strip():
        raise DataError(path, "empty value", line=line, field=name)
    return value


def optional_id(path: Path, obj: dict, key: str, line: int | None) -> str | None:
    """An optional id field: a string or an integer (MIMIC ids are integers), as a string."""
    if key not in obj or obj[key] is None:
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(path, f"expected a string or integer id, got {type_name(value)}", line=line, field=key)
    text = str(value).strip()
    if not text:
        raise DataError(path, "empty id", line=line, field=key)
    return text


class IdRegistry:
    """Remembers ids and where they were first seen, to report duplicates precisely."""

    def __init__(self, path: Path, field: str) -> None:
        self.path = path
        self.field = field
        self.seen: dict[str, int | None] = {}

    def add(self, ident: str, line: int | None) -> None:
        if ident in self.seen:
            first = self.seen[ident]
            where = f" (first on line {first})" if first is not None else ""
            raise DataError(self.path, f"duplicate id {ident!r}{where}", line=line, field=self.field)
        self.seen[ident] = line
