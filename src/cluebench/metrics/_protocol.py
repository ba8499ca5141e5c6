"""Read default settings from the packaged protocol file, so no regex is ever copied into code.

Metrics take their patterns as parameters; callers (tasks) pass what their protocol says. When a
caller passes nothing, the `clue-paper` protocol shipped with cluebench is the single source of the
default. Only the TOML data file is read; no cluebench module is imported.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import tomllib

_PROTOCOL = ("tasks", "protocol", "clue_paper.toml")


@functools.lru_cache(maxsize=1)
def _protocol() -> dict[str, Any]:
    resource = importlib.resources.files("cluebench").joinpath(*_PROTOCOL)
    return tomllib.loads(resource.read_text(encoding="utf-8"))


def task_setting(task: str, key: str) -> Any:
    """`[tasks.<task>.settings].<key>` of the packaged clue-paper protocol."""
    return _protocol()["tasks"][task]["settings"][key]
