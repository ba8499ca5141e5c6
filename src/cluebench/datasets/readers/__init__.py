"""One reader per task, each turning the exact upstream file into normalised rows.

Every reader takes the file's path and its bytes (read once by the caller, which also hashes
them) and returns a list of row dicts with a unique string ``id``; it raises
:class:`cluebench.errors.DataError` naming file, line and field for anything malformed.

A reader binds itself to its task id with :func:`reader`, which also says where the file comes
from (a public URL with its checksum, or the steps to obtain credentialed data). Every module of
this package is imported here, so a new task's reader is one new file and no table to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cluebench.util import import_if_present

Reader = Callable[[Path, bytes], list[dict]]
#: Writes the task's synthetic demo file at the path it is given (the protocol's `data_file`
#: under the demo folder), byte for byte the same on every run.
DemoWriter = Callable[[Path], None]


@dataclass(frozen=True)
class PublicSource:
    """Where a public data set is downloaded from (`clue data fetch`)."""

    task: str
    url: str
    sha256: str | None  # None: trust on first use, recorded in CHECKSUMS
    licence: str


@dataclass(frozen=True)
class ReaderEntry:
    task: str
    read: Reader
    source: PublicSource | None  # public: fetched and checksummed
    obtain: str | None  # credentialed: the steps to get the file ("{path}" is where it goes)
    # What `clue data check` says under its table where a row is not what the paper's n counts.
    rows_note: str | None = None


_ENTRIES: dict[str, ReaderEntry] = {}
_DEMOS: dict[str, DemoWriter] = {}


def reader(
    task: str,
    *,
    source: PublicSource | None = None,
    obtain: str | None = None,
    rows_note: str | None = None,
) -> Callable[[Reader], Reader]:
    """Register `fn` as `task`'s reader; exactly one of `source` / `obtain` says how to get it.
    `rows_note` (e.g. "rows are patients; ...") is for a reader whose rows are not the items the
    paper counts, so a row count next to the paper's n is not misread."""
    if (source is None) == (obtain is None):
        raise TypeError(f"reader {task!r}: give either a public source or the steps to obtain it")

    def decorate(fn: Reader) -> Reader:
        if task in _ENTRIES:
            raise ValueError(f"two readers for task {task!r}")
        _ENTRIES[task] = ReaderEntry(task, fn, source, obtain, rows_note)
        return fn

    return decorate


def demo_writer(task: str) -> Callable[[DemoWriter], DemoWriter]:
    """Register `fn` as the writer of `task`'s synthetic demo file, next to its reader."""

    def decorate(fn: DemoWriter) -> DemoWriter:
        if task in _DEMOS:
            raise ValueError(f"two demo writers for task {task!r}")
        _DEMOS[task] = fn
        return fn

    return decorate


def _load_all() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")


def reader_entry(task: str) -> ReaderEntry:
    """`task`'s registration, importing ``cluebench.datasets.readers.<task>`` if none is registered yet."""
    if task not in _ENTRIES and task.isidentifier():
        import_if_present(f"{__name__}.{task}")
    if task not in _ENTRIES:
        raise KeyError(f"no reader registered for task {task!r} (cluebench/datasets/readers/{task}.py)")
    return _ENTRIES[task]


def reader_for(task: str) -> Reader:
    """`task`'s reader (see :func:`reader_entry`)."""
    return reader_entry(task).read


def demo_writer_for(task: str) -> DemoWriter:
    """`task`'s demo writer, importing ``cluebench.datasets.readers.<task>`` if none is registered yet."""
    if task not in _DEMOS and task.isidentifier():
        import_if_present(f"{__name__}.{task}")
    if task not in _DEMOS:
        raise KeyError(
            f"no demo writer registered for task {task!r} (@demo_writer in cluebench/datasets/readers/{task}.py)"
        )
    return _DEMOS[task]


_load_all()

READERS: dict[str, Reader] = {t: e.read for t, e in _ENTRIES.items()}
ENTRIES: dict[str, ReaderEntry] = dict(_ENTRIES)

__all__ = [
    "ENTRIES",
    "READERS",
    "DemoWriter",
    "PublicSource",
    "Reader",
    "ReaderEntry",
    "demo_writer",
    "demo_writer_for",
    "reader",
    "reader_entry",
    "reader_for",
]
