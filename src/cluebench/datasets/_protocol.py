"""Where each task's data file lives, read from the protocol file (the single place for it).

The protocol TOML belongs to `cluebench.tasks`, but this room may not import that package, so the
file is located on disk next to this package instead of being imported.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PROTOCOL_PATH = Path(__file__).resolve().parent.parent / "tasks" / "protocol" / "clue_paper.toml"


@lru_cache(maxsize=1)
def protocol() -> dict:
    """The parsed protocol file (cached: it is read by every reader and every check)."""
    with PROTOCOL_PATH.open("rb") as fh:
        return tomllib.load(fh)


def task_table(task: str) -> dict:
    """One task's table from the protocol file."""
    return protocol()["tasks"][task]


def task_settings(task: str) -> dict:
    """One task's `[tasks.<task>.settings]` table, empty when it has none."""
    return dict(task_table(task).get("settings", {}))


def data_files() -> dict[str, str]:
    """Task id -> upstream path relative to a data directory, in protocol (level) order."""
    tasks = protocol()["tasks"]
    order = [t for level in protocol()["levels"].values() for t in level]
    order += [t for t in tasks if t not in order]
    return {t: str(tasks[t]["data_file"]) for t in order}


DATA_FILES: dict[str, str] = data_files()
TASKS: tuple[str, ...] = tuple(DATA_FILES)
