"""The command line: clear one-line errors for user mistakes, and each command's real output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cluebench.cli import main
from cluebench.run.runner import RunSettings, run


def clue(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cluebench.cli", *args], capture_output=True, text=True, timeout=600)


def assert_clean_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("clue: error: "), res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["run", "--tasks", "medqa"], ["unknown task 'medqa'", "mednli"]),
        (["run", "--model", "foo:bar"], ["foo", "llamacpp:"]),
        (["run", "--model", "llamacpp:/nonexistent/model.gguf"], ["/nonexistent/model.gguf"]),
        (["run", "--data-dir", "/nonexistent/dir"], ["/nonexistent/dir"]),
        (["run", "--base-url", "http://127.0.0.1:9/v1"], ["--base-url", "openai:"]),
        (["run", "--model", "openai:x"], ["--base-url"]),
        (["run", "--limit", "0"], ["--limit"]),
        (["run", "--model", "openai:x", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "CLUE_NO_SUCH_VAR"], ["CLUE_NO_SUCH_VAR"]),
        (["score", "--task", "mednli", "--predictions", "/nonexistent.jsonl"], ["/nonexistent.jsonl"]),
        (["report", "/nonexistent-run"], ["not a run directory"]),
    ],
)
def test_user_mistakes_get_one_clear_line(args: list[str], needles: list[str]) -> None:
    assert_clean_error(clue(*args), *needles)


def test_score_json_mednli_pairs_hand_computed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    preds = tmp_path / "p.jsonl"
    rows = [
        {"prediction": "ENTAILMENT", "reference": "entailment"},           # ref ✓ strict ✓
        {"prediction": "neutral, not contradiction", "reference": "neutral"},  # ref ✓ strict ✓
        {"prediction": "CONTRADICTION", "reference": "entailment"},        # ref ✗ strict ✗
        {"prediction": "entailment or neutral or contradiction", "reference": "contradiction"},  # ref ✓ strict ✗
    ]
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", "--task", "mednli", "--predictions", str(preds), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "mednli" and out["n"] == 4
    assert out["metrics"]["accuracy"] == pytest.approx(75.0)
    assert out["metrics"]["accuracy_strict"] == pytest.approx(50.0)
    assert out["metrics"]["parse_failed_rate"] == pytest.approx(0.0)


def test_score_json_medisumcode_pairs_hand_computed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    preds = tmp_path / "p.jsonl"
    # predicted {I10, E119, Z9999X}; gold {I10, E119, N179}: exact P = R = 2/3; categories {I10, E11, Z99} vs {I10, E11, N17}
    preds.write_text(json.dumps({"prediction": "ICD-10 Codes: I10, E11.9, Z99.99X", "reference": "I10, E119, N179"}) + "\n")
    assert main(["score", "--task", "medisumcode", "--predictions", str(preds), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["metrics"]
    assert m["icd_exact_p"] == pytest.approx(200 / 3) and m["icd_exact_r"] == pytest.approx(200 / 3)
    assert m["icd_exact_f1"] == pytest.approx(200 / 3)
    assert m["icd_approx_f1"] == pytest.approx(200 / 3)
    assert m["icd_valid_ratio"] == pytest.approx(200 / 3)  # Z9999X is not an ICD-10-CM code


def test_score_by_id_against_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cluebench.datasets import resolve_dataset
    from cluebench.run.score import _NoLimitBudget
    from cluebench.tasks.registry import get_task

    samples, _ = get_task("mednli").build_samples(resolve_dataset("mednli", None).rows, _NoLimitBudget())
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": s.id, "prediction": s.gold.upper()}) + "\n" for s in samples))
    assert main(["score", "--task", "mednli", "--predictions", str(preds), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == len(samples) and out["metrics"]["accuracy"] == 100.0

    preds.write_text(json.dumps({"id": "no-such-id", "prediction": "NEUTRAL"}) + "\n")
    res = clue("score", "--task", "mednli", "--predictions", str(preds))
    assert_clean_error(res, "no-such-id", "line 1")


def test_score_rejects_a_broken_line(tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"prediction": "a", "reference": "b"}\n{"prediction": \n')
    assert_clean_error(clue("score", "--task", "meqsum", "--predictions", str(preds)), str(preds), "line 2")


def test_data_check_names_what_is_missing(tmp_path: Path) -> None:
    res = clue("data", "check", "--data-dir", str(tmp_path))
    assert res.returncode == 1
    assert "mednli/mli_test_v1.jsonl" in res.stdout and "medisumcode/MeDiSumCode.json" in res.stdout


def test_compare_report_and_models_on_real_run_directories(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for name in ("base", "cand"):
        run(RunSettings(model=f"fake:{name}", tasks=["mednli", "medisumcode"], limit=5,
                        out=tmp_path / name, progress=False, write_report=False))
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "cand"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    acc = result["tasks"]["mednli"]["accuracy"]
    assert acc["n"] == 5 and acc["delta"] == pytest.approx(acc["candidate"] - acc["base"])
    assert set(result["levels"]) >= {"level1", "level2"}
    report = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "base"), str(tmp_path / "cand"), "--out", str(report)]) == 0
    html = report.read_text()
    assert "<svg" in html and "mednli" in html and "http://" not in html.split("<body", 1)[0]
    assert main(["models"]) == 0
    assert "BioMistral" in capsys.readouterr().out


@pytest.mark.slow
def test_clue_run_on_the_embedded_model(tmp_path: Path) -> None:
    res = clue("run", "--tasks", "mednli,medisumcode", "--limit", "2", "--out", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr
    assert "CLUE results" in res.stdout and "report:" in res.stdout and "synthetic" in res.stdout.lower()
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["tasks"]["mednli"]["n"] == 2 and results["tasks"]["medisumcode"]["n"] == 2
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["backend"] == "llamacpp" and config["model"]["system_role"] == "native"
    assert (tmp_path / "run" / "report.html").stat().st_size > 10_000


def test_malformed_dataset_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data" / "mednli"
    data.mkdir(parents=True)
    good = json.dumps({"sentence1": "Synthetic premise.", "sentence2": "Synthetic hypothesis.", "gold_label": "neutral", "pairID": "a"})
    (data / "mli_test_v1.jsonl").write_text(good + "\n" + '{"sentence1": "broken\n')
    res = clue("run", "--tasks", "mednli", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run"))
    assert_clean_error(res, "mli_test_v1.jsonl", "line 2")
    assert not (tmp_path / "run" / "results.json").exists()

    (data / "mli_test_v1.jsonl").write_text(good.replace("neutral", "maybe") + "\n")
    assert_clean_error(clue("run", "--tasks", "mednli", "--data-dir", str(tmp_path / "data")), "gold_label", "maybe")


def test_generate_medisumqa_refuses_a_remote_endpoint(tmp_path: Path) -> None:
    notes = tmp_path / "discharge.csv"
    notes.write_text("note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text\n"
                     "1,2,3,DS,1,,,SYNTHETIC note. You were admitted to the hospital.\n")
    res = clue("generate", "medisumqa", "--notes", str(notes), "--out", str(tmp_path / "qa.json"),
               "--model", "openai:x", "--base-url", "https://api.example.invalid/v1")
    assert_clean_error(res, "--allow-remote-credentialed-data", "api.example.invalid")
    assert not (tmp_path / "qa.json").exists()
