"""The report renders in a real headless browser: figures present, no console errors, a screenshot.

Skipped only when no Chromium is installed (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_analysis_runfactory import (
    binary_samples,
    continuous_samples,
    sample,
    write_run,
)

from cluebench.report.html import write_report

CHROMIUM = next(
    (
        shutil.which(n)
        for n in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(n)
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console_errors(stderr: str) -> list[str]:
    """Console output of the page. The report has no JavaScript, so any console line (Chromium
    logs them as `INFO:CONSOLE:1]` or `CONSOLE(1)`) or uncaught exception is a defect."""
    return [
        line
        for line in stderr.splitlines()
        if "Uncaught" in line or re.search(r"CONSOLE[:(]\d+", line)
    ]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("chromium")
    rng = np.random.default_rng(7)
    acc = rng.random(150) < 0.55
    rl = rng.normal(28, 9, 100)
    lh = [
        sample(
            "longhealth",
            f"p/q{q}/t{k}/r{r}",
            {"accuracy": 100.0 * (rng.random() < 0.5)},
            cluster=f"p/q{q}",
            subtask=k,
            shot_ids=(),
        )
        for q in range(20)
        for k in (1, 2, 3)
        for r in range(5)
    ]
    base = write_run(
        root / "base",
        "hf:meta-llama/Llama-2-7b-hf",
        {
            "mednli": binary_samples("mednli", acc),
            "meqsum": continuous_samples("meqsum", rl),
            "longhealth": lh,
        },
    )
    cand = write_run(
        root / "cand",
        "llamacpp:/models/meditron-7b.Q4_K_M.gguf",
        {
            "mednli": binary_samples(
                "mednli", np.where(rng.random(150) < 0.15, ~acc, acc)
            ),
            "meqsum": continuous_samples("meqsum", rl + rng.normal(1, 4, 100)),
            "longhealth": [
                dict(s, metrics={"accuracy": 100.0 * (rng.random() < 0.45)}) for s in lh
            ],
        },
    )
    return write_report([base, cand], root / "report.html")


def test_renders_without_console_errors_and_screenshot(report_file, tmp_path):
    shot = tmp_path / "report.png"
    proc = _chromium(
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1400,2000",
        report_file.as_uri(),
    )
    assert shot.exists(), proc.stderr[-2000:]
    assert _png_size(shot) == (1400, 2000)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    assert _console_errors(proc.stderr) == []


def test_dom_has_figures_and_sections(report_file, tmp_path):
    proc = _chromium(tmp_path, "--dump-dom", report_file.as_uri())
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        len(re.findall(r"<svg\b", dom)) >= 4
    )  # forest plot + mednli, meqsum, longhealth figures
    for anchor in (
        "leaderboard",
        "deltas",
        "tasks",
        "errors",
        "truncation",
        "examples",
        "runs",
    ):
        assert f'id="{anchor}"' in dom
    assert "meditron-7b − Llama-2-7b-hf" in dom
    assert _console_errors(proc.stderr) == []


def test_console_error_detection_works(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<html><body><script>console.error('boom'); undefinedFn();</script></body></html>"
    )
    errors = _console_errors(_chromium(tmp_path, "--dump-dom", page.as_uri()).stderr)
    assert any("Uncaught ReferenceError" in e for e in errors) and any(
        "boom" in e for e in errors
    )
