"""Reading a task's data file into a :class:`Dataset`, and choosing which file to read: the
user's data directory when it has the file, the bundled synthetic demo set otherwise."""

from __future__ import annotations

import errno
import hashlib
import os
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

from cluebench.datasets.readers import reader_for
from cluebench.errors import DataError
from cluebench.protocol import Protocol, load_protocol

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DATA_DIR_ENV = "CLUE_DATA_DIR"
#: Task id -> upstream path relative to a data directory (the protocol's `data_file`s), level order.
DATA_FILES: dict[str, str] = load_protocol().data_files
TASKS: tuple[str, ...] = tuple(DATA_FILES)


@dataclass
class Dataset:
    """A task's rows plus the facts results must carry: which file, its sha256, synthetic or not."""

    task: str
    path: Path
    rows: list[dict]
    sha256: str
    synthetic: bool


def _data_file(task: str, protocol: Protocol | None = None) -> str:
    """`task`'s upstream path relative to a data directory, from `protocol` (default: the paper's)."""
    files = DATA_FILES if protocol is None else protocol.data_files
    if task not in files:
        raise DataError(task, f"unknown task; expected one of {', '.join(files)}")
    return files[task]


def read_dataset(task: str, path: Path, synthetic: bool = False, protocol: Protocol | None = None) -> Dataset:
    """Read and validate `path` as `task`'s upstream file (bytes are read once and hashed)."""
    rel = _data_file(task, protocol)
    path = Path(path)
    _check_present(path, rel)
    if not path.is_file():
        raise DataError(path, "not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise DataError(path, "the file is empty")
    rows = reader_for(task)(path, raw)
    if not rows:
        raise DataError(path, "the file holds no rows")
    return Dataset(task=task, path=path, rows=rows, sha256=hashlib.sha256(raw).hexdigest(), synthetic=synthetic)


def _check_present(path: Path, rel: str) -> None:
    """A missing file is "not found"; a dangling symlink, a symlink loop or a path that cannot
    be looked at is an error of its own (never mistaken for absence)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise DataError(path, f"dangling symlink (it points to {os.readlink(path)}, which does not exist)") from None
        raise DataError(path, f"file not found (the file is expected at <data-dir>/{rel})") from None
    except OSError as exc:
        what = "symlink loop" if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror or exc}"
        raise DataError(path, what) from None


def _present(path: Path) -> bool:
    """Whether anything exists at `path` in any form (a broken symlink, an unreadable entry):
    only a path that is truly absent lets a run fall back to the demo data."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise DataError(path, f"cannot be looked at: {exc.strerror or exc}") from None
    return True


def demo_path(task: str, protocol: Protocol | None = None) -> Path:
    """The bundled synthetic file for `task`, at the same relative path as upstream."""
    return DEMO_DIR / _data_file(task, protocol)


DEMO_SETTINGS = DEMO_DIR / "demo_run.toml"


@lru_cache(maxsize=1)
def _demo_table() -> dict[str, dict]:
    import tomllib

    return tomllib.loads(DEMO_SETTINGS.read_text(encoding="utf-8"))


def demo_settings(task: str) -> dict:
    """The demo sizes of `task` on the synthetic demo set (`demo/demo_run.toml`): `limit`, and for
    LongHealth `budget_subtask1`/`budget_subtask23`. Not the paper's settings."""
    return dict(_demo_table().get(task, {}))


def resolve_data_dir(data_dir: Path | None) -> Path | None:
    """`data_dir`, else `$CLUE_DATA_DIR`, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else None


def resolve_dataset(task: str, data_dir: Path | None, protocol: Protocol | None = None) -> Dataset:
    """The task's real file from the data directory if present, else the synthetic demo file.

    A file that is present in any form but malformed, unreadable, a dangling symlink or a symlink
    loop raises; it never silently falls back to demo data.
    """
    rel = _data_file(task, protocol)
    root = resolve_data_dir(data_dir)
    if root is not None:
        candidate = root / rel
        if _present(candidate):
            return read_dataset(task, candidate, synthetic=False, protocol=protocol)
    return read_dataset(task, demo_path(task, protocol), synthetic=True, protocol=protocol)


def data_source_description(ds: Dataset) -> str:
    """One line for the CLI: which file, how many rows, its checksum, and whether it is demo data."""
    kind = "SYNTHETIC demo data (not for conclusions)" if ds.synthetic else "data"
    return f"{ds.task}: {kind} from {ds.path} ({len(ds.rows)} rows, sha256 {ds.sha256[:12]}…)"
