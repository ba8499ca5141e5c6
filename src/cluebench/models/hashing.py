"""sha256 of model files, cached in a sidecar so a 40 GB GGUF is hashed once, not every run.

The cache key is (real path, size, mtime_ns): a file replaced in place gets a new mtime and is
rehashed. The digest is what identifies a local model in cache keys (two copies of the same file
share cached answers; a re-quantised file with the same name does not).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cluebench.util import atomic_writer, cache_dir


def _sidecar() -> Path:
    return cache_dir() / "file-sha256.json"


def _load() -> dict:
    try:
        return json.loads(_sidecar().read_text())
    except (OSError, ValueError):
        return {}


def _store(entries: dict) -> None:
    path = _sidecar()
    try:
        with atomic_writer(path) as fh:  # atomic: concurrent runs lose at most an entry, never the file
            json.dump(entries, fh, indent=0, sort_keys=True)
    except OSError:
        pass  # an unwritable cache only costs a rehash next time


def file_sha256(path: str | os.PathLike[str], *, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, served from the sidecar cache when size and mtime still match."""
    real = os.path.realpath(path)
    st = os.stat(real)
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    entries = _load()
    hit = entries.get(real)
    if isinstance(hit, dict) and all(hit.get(k) == v for k, v in stamp.items()):
        return str(hit["sha256"])
    digest = hashlib.sha256()
    with open(real, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    hexdigest = digest.hexdigest()
    entries = _load()  # re-read: another process may have added entries while we hashed
    entries[real] = {**stamp, "sha256": hexdigest}
    _store(entries)
    return hexdigest


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model")


def model_dir_sha256(path: str | os.PathLike[str]) -> str:
    """One digest for a local model directory: sha256 over (file name, file sha256) of its
    weights, config and tokenizer files, so a changed file changes the id."""
    root = Path(path)
    names = sorted(
        p.name
        for p in root.iterdir()
        if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name in TOKENIZER_FILES)
    )
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}\0{file_sha256(root / name)}\n".encode())
    return digest.hexdigest()
