"""Small helpers every room may use (imports only the standard library): atomic file writes, the
cache folder, installed package versions and number formatting. One home each, so that five
rooms do not grow five copies."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

CACHE_DIR_ENV = "CLUEBENCH_CACHE_DIR"

# ---------------------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], *, binary: bool = False, suffix: str = ".tmp", shared: bool = False
) -> Iterator[IO[Any]]:
    """A file handle whose contents replace `path` only when the block ends without an exception.

    The data goes to a temporary file beside `path` (same file system, so the final rename is
    atomic): a crash, an error or a reader at any moment sees the old file or the new one, never
    half of either, and no temporary file is left behind. `shared=True` gives the file the usual
    umask permissions (a temporary file is private to its owner; a report is meant to be shared).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if shared:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, shared: bool = False) -> None:
    with atomic_writer(path, binary=True, shared=shared) as fh:
        fh.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, shared: bool = False) -> None:
    with atomic_writer(path, shared=shared) as fh:
        fh.write(text)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[dict]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def remove_stale_temps(root: Path, depth: int = 2) -> list[Path]:
    """Delete the temporary files of atomic writes that a kill -9 interrupted (`.NAME.*.tmp`,
    `.report-*.html`).

    Only call this while holding the directory's lock: then no writer is alive that could own
    them. They never hold data of their own (the rename that would have published them did not
    happen; the old file, or none, is still in place), so deleting them loses nothing.
    """
    removed: list[Path] = []
    root = Path(root)
    names = (".*.tmp", ".report-*.html")  # atomic_writer's names, and older reports' ones
    patterns = ["*/" * level + name for level in range(depth) for name in names]
    for pattern in patterns:
        for tmp in root.glob(pattern):
            if tmp.is_file() and not tmp.is_symlink():
                try:
                    tmp.unlink()
                    removed.append(tmp)
                except FileNotFoundError:
                    pass
    return removed


# ---------------------------------------------------------------------------------- registries


def import_if_present(module: str) -> bool:
    """Import `module` when it exists (False when it does not); errors inside it propagate.

    The task and reader registries use it to find ``<package>.<task id>`` on first use, so the
    file named after a task is its binding and no table lists the tasks."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return False
    return True


# ---------------------------------------------------------------------------------- machine state


def cache_dir() -> Path:
    """Where derived, rebuildable data is kept: $CLUEBENCH_CACHE_DIR, else $XDG_CACHE_HOME/cluebench,
    else ~/.cache/cluebench. Losing it only costs time."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cluebench"


def package_version(dist: str) -> str | None:
    """The installed version of distribution `dist`, None when it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------------- numbers


def fmt_number(x: float | None, nd: int = 2) -> str:
    """A score for a table: `nd` decimals, an en dash when there is none."""
    return "–" if x is None else f"{x:.{nd}f}"


def fmt_ci(ci: Sequence[float] | None, empty: str = "–", nd: int = 2) -> str:
    """A confidence interval for a table, `[lo, hi]` at `nd` decimals; `empty` when there is none."""
    return empty if not ci else f"[{ci[0]:.{nd}f}, {ci[1]:.{nd}f}]"


def fmt_p(p: float | None) -> str:
    """A p-value for a table: three decimals, "<0.001" below that, an en dash when there is none."""
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"
