"""The report says at the top, in its title and above the leaderboard, when the numbers come from
the synthetic demo set; a run on real data carries no such notice."""

from __future__ import annotations

import json
from pathlib import Path

from cluebench.report.html import write_report
from cluebench.run.runner import RunSettings, run


def _run(out: Path, **kw) -> Path:
    run(RunSettings(model="fake:demo", tasks=["mednli"], out=out, progress=False, write_report=False, **kw))
    return out


def test_demo_run_report_says_synthetic_demo_at_the_top(tmp_path: Path) -> None:
    out = _run(tmp_path / "demo")
    results = json.loads((out / "results.json").read_text())
    assert results["tasks"]["mednli"]["demo"] == {"limit": 6} and results["tasks"]["mednli"]["n"] == 6
    html = write_report([out], tmp_path / "r.html").read_text()
    assert "<title>SYNTHETIC DEMO — CLUE results" in html
    head, leaderboard = html.split('<section id="leaderboard">', 1)
    assert "Not real results." in head.split("<nav>", 1)[0]  # in the header, above everything
    assert "Not real results." in leaderboard.split("</table>", 1)[0]  # and above the leaderboard
    assert "demo&#39;s sizes and budgets" in html or "demo's sizes and budgets" in html


def test_full_demo_and_real_data(tmp_path: Path) -> None:
    full = _run(tmp_path / "full", full=True)
    results = json.loads((full / "results.json").read_text())
    assert "demo" not in results["tasks"]["mednli"] and results["tasks"]["mednli"]["n"] == 17
    html = write_report([full], tmp_path / "f.html").read_text()
    assert "Synthetic demo set" in html and "sizes and budgets" not in html

    data = tmp_path / "data" / "mednli"
    data.mkdir(parents=True)
    rows = [{"sentence1": f"Synthetic premise {i}.", "sentence2": "Synthetic hypothesis.",
             "gold_label": "neutral", "pairID": f"x{i}"} for i in range(8)]
    (data / "mli_test_v1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    real = _run(tmp_path / "real", data_dir=tmp_path / "data")
    results = json.loads((real / "results.json").read_text())
    assert results["tasks"]["mednli"]["n"] == 5 and "demo" not in results["tasks"]["mednli"]
    html = write_report([real], tmp_path / "real.html").read_text()
    assert "SYNTHETIC DEMO" not in html and "Not real results." not in html


def test_rerun_keeps_the_report_made_from_the_same_run_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    settings = dict(model="fake:demo", tasks=["mednli"], limit=2, out=out, progress=False)
    run(RunSettings(**settings))
    report = out / "report.html"
    first = report.stat().st_mtime_ns
    run(RunSettings(**settings))  # nothing changed: the report is not drawn again
    assert report.stat().st_mtime_ns == first
    run(RunSettings(**{**settings, "limit": 3}))  # other results: a new report
    assert report.stat().st_mtime_ns != first and "mednli" in report.read_text()
