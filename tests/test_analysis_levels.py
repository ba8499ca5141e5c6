"""The paper's level scores: per task the mean of the metrics the paper publishes, then the mean
over the level's tasks; fed every published model's task values, they give its published
Level 1 / Level 2 (CLUE v3 website table, shipped in analysis/published_data/)."""

from __future__ import annotations

import re

import pytest

from cluebench.analysis.aggregate import level_averages, level_scores, paper_task_score
from cluebench.analysis.published import by_hf_id, find_published, v3_models, v3_source, v5_deltas
from cluebench.protocol import load_protocol

PROTOCOL = load_protocol()
LEVELS = {k: list(v) for k, v in PROTOCOL.levels.items()}
PAPER = PROTOCOL.paper_levels.as_dict()
PAPER_BERT = {"bertscore": {"paper_setting": True, "model": "allenai/scibert_scivocab_uncased", "num_layers": 8}}


def entry(metrics: dict[str, float], headline: str, scorers: dict | None = None) -> dict:
    return {"headline": headline, "metrics": {k: {"mean": v, "ci": None} for k, v in metrics.items()},
            "scorers": scorers if scorers is not None else PAPER_BERT}


@pytest.mark.parametrize("model", [m for m in v3_models() if m.level1 is not None], ids=lambda m: m.name)
def test_every_published_model_reproduces_its_published_levels(model):
    levels = level_scores(model.entries(), LEVELS, PAPER)
    assert levels["level1"]["mean"] == pytest.approx(model.level1, abs=0.01)
    assert levels["level1"]["complete"] and levels["level1"]["comparable"]
    if model.level2 is None:
        assert levels["level2"]["mean"] is None
    else:
        assert levels["level2"]["mean"] == pytest.approx(model.level2, abs=0.01)
        assert levels["level2"]["comparable"]


def test_published_table_counts_and_source():
    models = v3_models()
    assert len(models) == 26
    assert sum(m.level1 is not None for m in models) == 25
    assert sum(m.level2 is not None for m in models) == 18
    assert "dadaamin/CLUE-website" in v3_source()["address"]
    llama = by_hf_id("meta-llama/Meta-Llama-3-70B-Instruct")
    assert (llama.level1, llama.level2) == (52.36, 56.0)
    rows = {r["model"]: r for r in v5_deltas()}
    assert rows["BioMistral-7B"]["hf_id"] == "BioMistral/BioMistral-7B"
    assert (rows["Med42-70B"]["level1_delta"], rows["Med42-70B"]["level2_delta"]) == (-7.57, -15.14)


def test_llama3_70b_paper_formula_against_headline_only():
    """The issue's example: the paper's formula 52.36 / 56.00, headline-only 47.12 / 43.21."""
    model = by_hf_id("meta-llama/Meta-Llama-3-70B-Instruct")
    entries = model.entries()
    headlines = {"mednli": "accuracy", "meqsum": "rougeL", "problem_summary": "rougeL",
                 "medisumqa": "rougeL", "medisumcode": "icd_exact_f1"}
    for t, h in headlines.items():
        entries[t]["headline"] = h
    lh = entries["longhealth"]["metrics"]
    lh["accuracy"] = {"mean": (81.65 + 77.9 + 91.7) / 3}
    entries["longhealth"]["headline"] = "accuracy"
    paper = level_scores(entries, LEVELS, PAPER)
    headline = level_averages(entries, LEVELS)
    assert paper["level1"]["mean"] == pytest.approx(52.36, abs=0.01)
    assert paper["level2"]["mean"] == pytest.approx(56.00, abs=0.01)
    # (79.37 + 36.57 + 25.43) / 3 and (83.75 + 26.20 + 19.65) / 3
    assert headline["level1"]["mean"] == pytest.approx(47.123, abs=0.001)
    assert headline["level2"]["mean"] == pytest.approx(43.2, abs=0.01)


def test_task_score_by_hand_with_substitute_and_other_encoder():
    # Problem Summary with the lexicon entity F1 and MiniLM: (20 + 30 + 10 + 60 + 15) / 5 = 27
    ps = entry({"rougeL": 20, "rouge1": 30, "rouge2": 10, "bertscore_f1": 60, "entity_f1": 15}, "rougeL",
               {"bertscore": {"paper_setting": False, "model": "sentence-transformers/all-MiniLM-L6-v2",
                              "num_layers": 6}, "entities": {"extractor": "lexicon"}})
    part = paper_task_score(ps, PAPER["metrics"]["problem_summary"], PAPER["substitutes"])
    assert part["mean"] == pytest.approx(27.0)
    assert part["metrics"] == ["rougeL", "rouge1", "rouge2", "bertscore_f1", "entity_f1"]
    assert part["substituted"] == {"umls_f1": "entity_f1"}
    assert part["not_comparable"] == [
        "entity_f1 (lexicon entity extractor) stands in for the paper's umls_f1 (scispaCy UMLS linker)",
        "BERTScore with sentence-transformers/all-MiniLM-L6-v2 layer 6, not the paper's SciBERT "
        "(allenai/scibert_scivocab_uncased) layer 8",
    ]
    # MedNLI 60; MeQSum (40 + 50 + 20 + 70) / 4 = 45 with SciBERT layer 8 -> Level 1 = 44
    entries = {
        "mednli": entry({"accuracy": 60.0, "accuracy_strict": 10.0}, "accuracy"),
        "meqsum": entry({"rougeL": 40, "rouge1": 50, "rouge2": 20, "bertscore_f1": 70, "bertscore_p": 1}, "rougeL"),
        "problem_summary": ps,
    }
    lv = level_scores(entries, LEVELS, PAPER)["level1"]
    assert lv["mean"] == pytest.approx((60 + 45 + 27) / 3)
    assert lv["task_scores"] == pytest.approx({"mednli": 60.0, "meqsum": 45.0, "problem_summary": 27.0})
    assert lv["complete"] and not lv["comparable"]
    assert all(r.startswith("problem_summary: ") for r in lv["not_comparable"])
    # only two of three tasks: mean of two, not comparable, says why
    lv = level_scores({k: entries[k] for k in ("mednli", "meqsum")}, LEVELS, PAPER)["level1"]
    assert lv["mean"] == pytest.approx(52.5) and not lv["complete"] and not lv["comparable"]
    assert lv["not_comparable"] == ["only 2 of the level's 3 tasks were run"]


def test_longhealth_and_medisumcode_parts_by_hand():
    lh = entry({"task1_accuracy": 80, "task2_accuracy": 70, "task3_accuracy": 30, "task1_accuracy_lenient": 99}, "accuracy")
    code = entry({"icd_exact_f1": 20, "icd_approx_f1": 40, "icd_valid_ratio": 90, "icd_exact_f1_dedup": 1}, "icd_exact_f1")
    qa = entry({"rougeL": 25, "rouge1": 30, "rouge2": 10, "bertscore_f1": 70, "umls_f1": 15}, "rougeL")
    lv = level_scores({"longhealth": lh, "medisumcode": code, "medisumqa": qa}, LEVELS, PAPER)["level2"]
    # (80 + 70 + 30) / 3 = 60; (20 + 40 + 90) / 3 = 50; (25 + 30 + 10 + 70 + 15) / 5 = 30
    assert lv["task_scores"] == pytest.approx({"longhealth": 60.0, "medisumqa": 30.0, "medisumcode": 50.0})
    assert lv["mean"] == pytest.approx(140 / 3) and lv["comparable"]


def test_runs_are_matched_to_published_models_by_spec():
    assert find_published("vllm:meta-llama/Meta-Llama-3-70B-Instruct").name == "Meta-Llama-3-70B-Instruct"
    assert find_published("hf:/models/Mistral-7B-Instruct-v0.1").name == "Mistral-7B-Instruct-v0.1"
    assert find_published("llamacpp:/m/Llama3-OpenBioLLM-8B.Q4_K_M.gguf").name == "Llama3-OpenBioLLM-8B"
    assert find_published("openai:Llama-2-70b-chat-hf").name == "Llama-2-70b-chat"
    assert find_published("vllm:meta-llama/Llama-2-70b-hf").name == "Llama-2-70b"
    assert find_published("default") is None


def test_clue_models_shows_published_levels_and_v5_deltas(capsys):
    from cluebench.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    def row(candidate: str) -> str:
        return next(ln for ln in out.splitlines() if re.match(rf"│\s*\d+\s*│ {re.escape(candidate)} ", ln))

    line = row("BioMistral/BioMistral-7B")
    # BioMistral-7B v3 40.57 / 23.83, its base Mistral-7B-Instruct-v0.1 40.31 / 23.12, v5 Table 3 +0.26 / +0.71
    assert "40.57 / 23.83" in line and "40.31 / 23.12" in line and "+0.26 / +0.71" in line
    line = row("m42-health/Llama3-Med42-70B")
    assert "52.36 / 56.00" in line and "-7.57 / -15.14" in line
    assert "dadaamin/CLUE-website" in out
