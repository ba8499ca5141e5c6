"""Atomic file writes: a crash leaves the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_jsonl_atomic(path: Path, rows: Iterable[dict]) -> None:
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
    names = (".*.tmp", ".report-*.html")  # write_text_atomic's and the report's temp names
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
