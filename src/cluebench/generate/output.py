"""Writing a generated dataset and its manifest, atomically, with their digests.

A manifest is the dataset's receipt: which inputs (by sha256), which seed and settings, what was
dropped and why. It carries no timestamp, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import cluebench
from cluebench.util import write_json_atomic, write_text_atomic


def manifest_path(out: Path) -> Path:
    """`MeDiSumCode.json` -> `MeDiSumCode.manifest.json`, next to the dataset."""
    out = Path(out)
    return out.with_name(f"{out.stem}.manifest.json")


def write_jsonl(out: Path, rows: Iterable[dict]) -> dict:
    """Write JSON lines atomically; return {path, sha256, rows} for the manifest."""
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    text = "".join(lines)
    write_text_atomic(Path(out), text)
    return {"path": str(out), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "rows": len(lines)}


def write_manifest(out: Path, manifest: dict) -> Path:
    path = manifest_path(out)
    write_json_atomic(path, {"created_by": {"package": "cluebench", "version": cluebench.__version__}, **manifest})
    return path
