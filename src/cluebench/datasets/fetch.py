"""`clue data fetch`: download the public sets (MeQSum, LongHealth) with checksums; print exact
instructions for the credentialed ones, which cannot be fetched on the user's behalf.

Checksum policy
---------------
* A source with a pinned sha256 (MeQSum, pinned to an upstream commit) is verified against it.
* A source without one (LongHealth: its sha256 could not be learned when this was written, so
  the URL pins the `main` branch) is verified against the `CHECKSUMS` manifest in the destination
  directory if that lists it; otherwise the file is accepted, its sha256 is reported and written
  to `CHECKSUMS` ("trust on first use"), and every later fetch or `clue data check` of that
  directory is verified against it. Delete the line from `CHECKSUMS` to accept a new upstream
  version on purpose.
* `CHECKSUMS` uses `sha256sum` format (`<sha256>  <relative path>`), so `sha256sum -c CHECKSUMS`
  works in the data directory. Every fetched file is listed there.
* Downloads go to a temporary file next to the target and are renamed into place only after the
  checksum passed; a mismatch leaves no file behind.

Mirrors: `urls={task: url}` or `$CLUE_FETCH_BASE_URL` (files are then expected at
`<base>/<task>/<upstream file name>`, the data-directory layout) replace the upstream URLs.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from cluebench.datasets.dataset import DATA_FILES
from cluebench.datasets.readers import ENTRIES, PublicSource
from cluebench.errors import DataError
from cluebench.util import atomic_writer, write_bytes_atomic

CHECKSUMS_NAME = "CHECKSUMS"
BASE_URL_ENV = "CLUE_FETCH_BASE_URL"


#: Public data sets (fetched, checksummed) and the steps to obtain each credentialed one: both are
#: declared by the task's reader (`cluebench.datasets.readers`), the one home of a data set's facts.
PUBLIC_SOURCES: dict[str, PublicSource] = {
    t: ENTRIES[t].source for t in DATA_FILES if t in ENTRIES and ENTRIES[t].source is not None  # type: ignore[misc]
}
_CREDENTIALED: dict[str, str] = {
    t: ENTRIES[t].obtain for t in DATA_FILES if t in ENTRIES and ENTRIES[t].obtain is not None  # type: ignore[misc]
}

FetchStatus = Literal["downloaded", "present", "mismatch", "manual"]


@dataclass
class FetchResult:
    task: str
    path: Path
    status: FetchStatus
    sha256: str | None = None
    message: str = ""


def credentialed_instructions(task: str, dest: Path) -> str:
    """Exact steps to obtain a credentialed task's file and where to put it."""
    return _CREDENTIALED[task].format(path=Path(dest) / DATA_FILES[task])


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_checksums(dest: Path) -> dict[str, str]:
    """Relative path -> sha256 from `dest/CHECKSUMS` (empty when absent)."""
    manifest = Path(dest) / CHECKSUMS_NAME
    if not manifest.exists():
        return {}
    out: dict[str, str] = {}
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(manifest, "expected '<sha256>  <relative path>'", line=lineno)
        out[parts[1].strip().lstrip("*")] = parts[0].lower()
    return out


def record_checksum(dest: Path, rel: str, sha256: str) -> None:
    """Add or replace one entry of `dest/CHECKSUMS` (atomically)."""
    entries = read_checksums(dest)
    entries[rel] = sha256
    text = "".join(f"{digest}  {path}\n" for path, digest in sorted(entries.items()))
    write_bytes_atomic(Path(dest) / CHECKSUMS_NAME, text.encode("utf-8"))


def expected_sha256(dest: Path, task: str) -> tuple[str | None, str]:
    """(sha256 the task's file must have, where that expectation comes from) — pinned, else the
    destination's CHECKSUMS manifest, else (None, "")."""
    source = PUBLIC_SOURCES.get(task)
    if source is not None and source.sha256:
        return source.sha256, "pinned upstream sha256"
    recorded = read_checksums(dest).get(DATA_FILES[task])
    if recorded:
        return recorded, f"sha256 recorded in {Path(dest) / CHECKSUMS_NAME}"
    return None, ""


def source_url(task: str, urls: dict[str, str] | None = None) -> str:
    """The URL to fetch `task` from: an explicit override, a mirror base URL, or upstream."""
    if urls and task in urls:
        return urls[task]
    base = os.environ.get(BASE_URL_ENV, "").strip()
    if base:
        return f"{base.rstrip('/')}/{DATA_FILES[task]}"
    return PUBLIC_SOURCES[task].url


def _download(client: httpx.Client, url: str, target: Path, expected: str | None, origin: str) -> str:
    """Stream `url` to a temp file beside `target`, verify, rename; return the sha256."""
    digest = hashlib.sha256()
    with atomic_writer(target, binary=True, suffix=".part") as fh:
        try:
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise DataError(url, f"download failed: HTTP {response.status_code}")
                for chunk in response.iter_bytes(1 << 20):
                    digest.update(chunk)
                    fh.write(chunk)
        except httpx.HTTPError as exc:
            raise DataError(url, f"download failed: {exc.__class__.__name__}: {exc}") from None
        actual = digest.hexdigest()
        if expected is not None and actual != expected:  # raising here leaves the old file alone
            raise DataError(url, f"checksum mismatch: got sha256 {actual}, expected {expected} ({origin}); "
                                 f"nothing was written to {target}")
    return actual


def fetch_public(
    dest: Path,
    tasks: list[str] | None = None,
    *,
    force: bool = False,
    urls: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> list[FetchResult]:
    """Fetch the public sets into `dest/<task>/<file>`; credentialed tasks get instructions.

    `tasks` defaults to all six. A file already present and matching its expected checksum is
    skipped; one that does not match is reported (status "mismatch") and only replaced with
    `force=True`, which re-downloads but still verifies against the pinned or recorded sha256. A failed download or checksum mismatch raises :class:`DataError` and leaves no
    file behind.
    """
    dest = Path(dest)
    chosen = list(tasks) if tasks else list(DATA_FILES)
    unknown = [t for t in chosen if t not in DATA_FILES]
    if unknown:
        raise DataError(", ".join(unknown), f"unknown task; expected one of {', '.join(DATA_FILES)}")
    results: list[FetchResult] = []
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=30.0), follow_redirects=True) as client:
        for task in chosen:
            target = dest / DATA_FILES[task]
            if task not in PUBLIC_SOURCES:
                status: FetchStatus = "present" if target.exists() else "manual"
                msg = "already present (credentialed; not verified here: run `clue data check`)" \
                    if target.exists() else credentialed_instructions(task, dest)
                results.append(FetchResult(task, target, status, message=msg))
                continue
            results.append(_fetch_one(client, dest, task, target, force=force, urls=urls))
    return results


def _fetch_one(client: httpx.Client, dest: Path, task: str, target: Path, *, force: bool,
               urls: dict[str, str] | None) -> FetchResult:
    rel = DATA_FILES[task]
    expected, origin = expected_sha256(dest, task)
    if target.exists() and not force:
        actual = _sha256_file(target)
        if expected is None:
            record_checksum(dest, rel, actual)
            return FetchResult(task, target, "present", actual,
                               f"already present; no pinned checksum, recorded sha256 {actual} in {CHECKSUMS_NAME}")
        if actual != expected:
            return FetchResult(task, target, "mismatch", actual,
                               f"present but sha256 {actual} differs from the {origin} {expected}; "
                               "rerun with --force to replace it")
        return FetchResult(task, target, "present", actual, "already present, checksum verified")
    url = source_url(task, urls)
    actual = _download(client, url, target, expected, origin)
    record_checksum(dest, rel, actual)
    if expected is None:
        message = (f"downloaded from {url}; no pinned checksum: sha256 {actual} recorded in "
                   f"{dest / CHECKSUMS_NAME} and verified on later fetches and checks")
    else:
        message = f"downloaded from {url}; sha256 verified"
    return FetchResult(task, target, "downloaded", actual, message)
