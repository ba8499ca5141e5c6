"""Loading the protocol file: the one place where prompts and task settings live."""

from __future__ import annotations

import hashlib
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from cluebench.errors import ConfigError

DEFAULT_PROTOCOL = "clue_paper"


def protocol_path(name: str = DEFAULT_PROTOCOL) -> Path:
    path = Path(str(resources.files("cluebench.tasks") / "protocol" / f"{name}.toml"))
    if not path.is_file():
        raise ConfigError(f"unknown protocol '{name}': no file {path.name} in cluebench/tasks/protocol")
    return path


@lru_cache(maxsize=4)
def load_protocol(name: str = DEFAULT_PROTOCOL) -> dict:
    """The parsed protocol plus its identity (`_sha256`, `_path`) so results can say what made them."""
    path = protocol_path(name)
    raw = path.read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    data["_sha256"] = hashlib.sha256(raw).hexdigest()
    data["_path"] = str(path)
    return data


def task_ids(protocol: dict | None = None) -> list[str]:
    protocol = protocol or load_protocol()
    return list(protocol["tasks"])


def expand_task_selection(selection: str | None, protocol: dict | None = None) -> list[str]:
    """`all`, `level1`, `level2` or a comma list → task ids in protocol order (level 1 first)."""
    protocol = protocol or load_protocol()
    known = task_ids(protocol)
    if selection is None:
        return known
    chosen: list[str] = []
    for part in (p.strip() for p in selection.split(",")):
        if not part:
            continue
        if part == "all":
            names = known
        elif part in protocol["levels"]:
            names = protocol["levels"][part]
        elif part in known:
            names = [part]
        else:
            raise ConfigError(
                f"unknown task '{part}' in --tasks: expected one of {', '.join(known)}, "
                f"or all, {', '.join(protocol['levels'])}"
            )
        chosen.extend(n for n in names if n not in chosen)
    if not chosen:
        raise ConfigError(
            f"--tasks {selection!r} names no task: expected task ids ({', '.join(known)}) "
            f"or all, {', '.join(protocol['levels'])}, separated by commas"
        )
    return [t for t in known if t in chosen]
