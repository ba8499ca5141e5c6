"""`fetch_public` against a local HTTP server on 127.0.0.1: pinned and trust-on-first-use
checksums, mismatches that leave nothing behind, skipping present files, and instructions for
the credentialed sets."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from cluebench.datasets import DATA_FILES, PUBLIC_SOURCES, PublicSource, demo_path, fetch_public
from cluebench.datasets.fetch import read_checksums
from cluebench.errors import DataError
from conftest import SHARED_DATA

REAL_MEQSUM = SHARED_DATA / DATA_FILES["meqsum"]


class Server:
    """Serves a directory laid out like a data dir; counts GET requests per path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, task: str) -> str:
        return f"{self.base}/{DATA_FILES[task]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    for task in ("meqsum", "longhealth"):
        (root / DATA_FILES[task]).parent.mkdir(parents=True)
        shutil.copyfile(demo_path(task), root / DATA_FILES[task])
    server = Server(root)
    yield server
    server.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.name.endswith(".part")]


def pin_meqsum_to(monkeypatch, digest: str) -> None:
    monkeypatch.setitem(PUBLIC_SOURCES, "meqsum", PublicSource("meqsum", "http://unused.invalid/x", digest, "test"))


def test_pinned_checksum_ok_writes_file_and_manifest(tmp_path, mirror, monkeypatch):
    served = mirror.root / DATA_FILES["meqsum"]
    pin_meqsum_to(monkeypatch, sha(served))
    dest = tmp_path / "data"
    [result] = fetch_public(dest, ["meqsum"], urls={"meqsum": mirror.url("meqsum")})
    assert result.status == "downloaded" and result.sha256 == sha(served)
    assert (dest / DATA_FILES["meqsum"]).read_bytes() == served.read_bytes()
    assert read_checksums(dest) == {DATA_FILES["meqsum"]: sha(served)}
    assert (dest / "CHECKSUMS").read_text() == f"{sha(served)}  {DATA_FILES['meqsum']}\n"  # sha256sum -c format


def test_pinned_checksum_mismatch_raises_and_leaves_no_file(tmp_path, mirror):
    dest = tmp_path / "data"
    with pytest.raises(DataError) as info:
        fetch_public(dest, ["meqsum"], urls={"meqsum": mirror.url("meqsum")})
    msg = str(info.value)
    assert "checksum mismatch" in msg and PUBLIC_SOURCES["meqsum"].sha256 in msg
    assert sha(mirror.root / DATA_FILES["meqsum"]) in msg
    assert not (dest / DATA_FILES["meqsum"]).exists()
    assert leftovers(dest) == [] and not (dest / "CHECKSUMS").exists()


def test_trust_on_first_use_then_verified(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("CLUE_FETCH_BASE_URL", mirror.base)  # mirror laid out like a data dir
    dest = tmp_path / "data"
    served = mirror.root / DATA_FILES["longhealth"]
    [first] = fetch_public(dest, ["longhealth"])
    assert first.status == "downloaded" and first.sha256 == sha(served)
    assert "no pinned checksum" in first.message and sha(served) in first.message
    assert read_checksums(dest)[DATA_FILES["longhealth"]] == sha(served)

    [again] = fetch_public(dest, ["longhealth"])  # present and matching: skipped, no request
    assert again.status == "present" and "verified" in again.message
    assert mirror.requests == ["/" + DATA_FILES["longhealth"]]

    original = (dest / DATA_FILES["longhealth"]).read_bytes()
    served.write_bytes(served.read_bytes().replace(b"Holloway", b"Hollowey"))  # upstream changed
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_public(dest, ["longhealth"], force=True)
    assert (dest / DATA_FILES["longhealth"]).read_bytes() == original  # old verified file kept
    assert leftovers(dest) == []


def test_present_file_is_skipped_without_download(tmp_path, mirror, monkeypatch):
    dest = tmp_path / "data"
    target = dest / DATA_FILES["meqsum"]
    target.parent.mkdir(parents=True)
    shutil.copyfile(demo_path("meqsum"), target)
    pin_meqsum_to(monkeypatch, sha(target))
    [result] = fetch_public(dest, ["meqsum"], urls={"meqsum": mirror.url("meqsum")})
    assert result.status == "present" and mirror.requests == []

    pin_meqsum_to(monkeypatch, "0" * 64)  # the file on disk no longer matches the pin
    [result] = fetch_public(dest, ["meqsum"], urls={"meqsum": mirror.url("meqsum")})
    assert result.status == "mismatch" and "--force" in result.message and mirror.requests == []


def test_http_error_is_a_clear_error(tmp_path, mirror):
    dest = tmp_path / "data"
    with pytest.raises(DataError, match="download failed: HTTP 404"):
        fetch_public(dest, ["longhealth"], urls={"longhealth": mirror.base + "/nothing-here.json"})
    assert not (dest / DATA_FILES["longhealth"]).exists() and leftovers(dest) == []


def test_credentialed_sets_get_instructions(tmp_path):
    results = fetch_public(tmp_path, ["mednli", "problem_summary", "medisumqa", "medisumcode"])
    assert [r.status for r in results] == ["manual"] * 4
    by_task = {r.task: r.message for r in results}
    assert "https://physionet.org/content/mednli/1.0.0/" in by_task["mednli"]
    assert str(tmp_path / "mednli" / "mli_test_v1.jsonl") in by_task["mednli"]
    assert "https://physionet.org/content/medisumqa/1.0.0/" in by_task["medisumqa"]
    assert "clue generate medisumcode" in by_task["medisumcode"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not REAL_MEQSUM.exists(), reason="real MeQSum not present beside the checkout (../shared/data)")
def test_real_meqsum_matches_the_pinned_checksum(tmp_path):
    root = tmp_path / "mirror"
    (root / "meqsum").mkdir(parents=True)
    shutil.copyfile(REAL_MEQSUM, root / DATA_FILES["meqsum"])
    server = Server(root)
    try:
        [result] = fetch_public(tmp_path / "data", ["meqsum"], urls={"meqsum": server.url("meqsum")})
    finally:
        server.close()
    assert result.status == "downloaded" and result.sha256 == PUBLIC_SOURCES["meqsum"].sha256
