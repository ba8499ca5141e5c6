"""write_report: one self-contained HTML file built from run files only."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from test_analysis_runfactory import (
    binary_samples,
    continuous_samples,
    sample,
    write_run,
)

from cluebench.analysis.compare import compare_runs
from cluebench.analysis.runfiles import Run
from cluebench.report.html import write_report

BASE = "hf:meta-llama/Llama-2-7b-hf"
CAND = "llamacpp:/models/meditron-7b.Q4_K_M.gguf"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    rng = np.random.default_rng(0)
    acc = rng.random(120) < 0.6
    rl = rng.normal(30, 10, 80)
    nli_b = binary_samples("mednli", acc)
    nli_b[0]["output"] = "<script>alert('x')</script> ENTAILMENT"
    b = write_run(
        root / "base",
        BASE,
        {"mednli": nli_b, "meqsum": continuous_samples("meqsum", rl)},
    )
    c = write_run(
        root / "cand",
        CAND,
        {
            "mednli": binary_samples(
                "mednli", np.where(rng.random(120) < 0.2, ~acc, acc)
            ),
            "meqsum": continuous_samples("meqsum", rl + 4 + rng.normal(0, 3, 80)),
        },
    )
    return b, c


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "report.html"
    write_report(list(runs), out)
    return out.read_text(encoding="utf-8")


def test_self_contained_with_figures(report):
    assert report.startswith("<!DOCTYPE html>")
    assert len(re.findall(r"<svg\b", report)) >= 3  # forest plot + one figure per task
    # nothing is fetched: no external src/href, no stylesheet or script links
    assert not re.search(r'(src|href)="(https?:)?//', report)
    assert "<script" not in report.replace("&lt;script&gt;", "")
    assert "<link" not in report
    # figure ids are unique across the inline SVGs (clip paths must not collide)
    ids = re.findall(r'\bid="([^"]+)"', report)
    assert len(ids) == len(set(ids))


def test_leaderboard_and_deltas_match_run_files(runs, report):
    b, c = runs
    for run_dir in runs:
        res = json.loads((run_dir / "results.json").read_text())
        for task in ("mednli", "meqsum"):
            m = res["tasks"][task]["metrics"][res["tasks"][task]["headline"]]
            assert f"{m['mean']:.2f}" in report
            assert f"[{m['ci'][0]:.2f}, {m['ci'][1]:.2f}]" in report
    comp = compare_runs(b, c)
    d = comp["tasks"]["meqsum"]["rougeL"]["delta"]
    assert f"{d:+.2f}" in report
    assert "meditron-7b" in report and "Llama-2-7b-hf" in report
    assert "verified lineage" in report  # detected from the lineage file


def test_outputs_are_escaped(report):
    assert "<script>alert" not in report
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in report
    assert "Question about &lt;mednli-0000&gt; &amp; more" in report


def test_redaction_omits_credentialed_texts(runs, tmp_path):
    out = write_report(
        list(runs), tmp_path / "r.html", redact=True, title="Redacted <demo>"
    )
    html = out.read_text()
    assert "<title>Redacted &lt;demo&gt;</title>" in html
    assert (
        "Question about &lt;mednli-" not in html
    )  # mednli is credentialed (protocol file)
    assert "reference for mednli-" not in html
    assert "Question about &lt;meqsum-" in html  # meqsum is public
    assert "credentialed texts redacted" in html


def test_no_secrets_from_config(runs, tmp_path):
    b, c = runs
    for d in (b, c):
        shutil.copytree(d, tmp_path / d.name)
    cfg_path = tmp_path / b.name / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(
        {
            "api_key": "plain-secret-value",
            "backend": {"headers": {"Authorization": "abc123"}},
            "comment": "sk-proj-ABCDEFGHIJKLMNOP1234",
            "env": {"HOME": "/root"},
            "api_key_env": "OPENAI_API_KEY",
            "n_ctx": 8192,
        }
    )
    cfg_path.write_text(json.dumps(cfg))
    html = write_report(
        [tmp_path / b.name, tmp_path / c.name], tmp_path / "r.html"
    ).read_text()
    for secret in (
        "plain-secret-value",
        "abc123",
        "sk-proj-ABCDEFGHIJKLMNOP1234",
        "/root",
    ):
        assert secret not in html
    assert "8192" in html and "[removed]" in html


def test_missing_pieces_do_not_crash(runs, tmp_path):
    b, _ = runs
    # a run without config.json and without results.json (e.g. interrupted): computed from samples
    partial = tmp_path / "partial"
    (partial / "meqsum").mkdir(parents=True)
    shutil.copy(b / "meqsum" / "samples.jsonl", partial / "meqsum" / "samples.jsonl")
    # a run with a task the others lack and a task with only failed samples
    other = write_run(
        tmp_path / "other",
        "openai:gpt-4o-mini",
        {
            "medisumcode": [sample("medisumcode", "x1", {}, output=None)],
            "longhealth": [
                sample(
                    "longhealth",
                    "p/q0/t1/r0",
                    {"accuracy": 100.0},
                    cluster="p/q0",
                    subtask=1,
                    shot_ids=(),
                )
            ],
        },
    )
    out = write_report([b, partial, other], tmp_path / "sub" / "r.html")
    html = out.read_text()
    assert "medisumcode" in html and "longhealth" in html
    ours = Run.load(partial)
    assert ours.tasks == ["meqsum"]
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "r.html"
    ]  # no temp file left
    assert out.stat().st_mode & 0o044  # readable by others, unlike a mkstemp file


def test_two_unrelated_runs_first_is_base_and_protocol_mismatch_is_a_note(tmp_path):
    rng = np.random.default_rng(1)
    s = {"mednli": binary_samples("mednli", rng.random(50) < 0.5)}
    a = write_run(tmp_path / "a", "openai:model-a", s)
    b = write_run(tmp_path / "b", "openai:model-b", s)
    html = write_report([a, b], tmp_path / "r.html").read_text()
    assert "first run as base" in html and "model-b − model-a" in html
    c = write_run(
        tmp_path / "c",
        "openai:model-c",
        s,
        protocol={"id": "other", "sha256": "0" * 64},
    )
    html = write_report([a, c], tmp_path / "r2.html").read_text()
    assert "different protocols" in html and "No pair to compare" in html


def test_published_rows_and_differences_from_published(report, runs):
    """The paper's v3 rows stand in the leaderboard, marked as published; a run of a model the
    paper evaluated gets its difference from the published value per task and level, with the
    reason wherever the number is not comparable."""
    from cluebench.report import collect

    assert report.count('<span class="sub pill">published, v3</span>') == 25
    assert "Meta-Llama-3-70B-Instruct" in report and "52.36" in report and "56.00" in report
    assert "dadaamin/CLUE-website" in report
    loaded = [Run.load(r) for r in runs]
    diffs = collect.published_differences(loaded, ["Llama-2-7b-hf", "meditron-7b"])
    assert [d["published_name"] for d in diffs] == ["llama2-7b-hf", "meditron-7b"]
    rows = {r["what"]: r for r in diffs[1]["rows"]}
    mednli = Run.load(runs[1]).task_entry("mednli")["metrics"]["accuracy"]["mean"]
    assert rows["mednli"]["published"] == 2.39
    assert rows["mednli"]["delta"] == pytest.approx(mednli - 2.39)
    assert rows["mednli"]["comparable"]
    # the synthetic MeQSum has ROUGE-L/-1 only and no recorded BERTScore encoder
    assert not rows["meqsum"]["comparable"]
    assert any("no value for rouge2, bertscore_f1" in r for r in rows["meqsum"]["reasons"])
    assert rows["Level 1"]["published"] == 11.46 and not rows["Level 1"]["comparable"]
    assert "beside the published</span> meditron-7b" in report
    assert "not comparable to the published value" in report
