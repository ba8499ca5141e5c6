"""compare_runs: matching, deltas, paired CIs, McNemar, permutation p, Holm, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom
from test_analysis_runfactory import (
    binary_samples,
    continuous_samples,
    sample,
    write_run,
)

from cluebench.analysis.compare import compare_runs
from cluebench.terminal import format_comparison
from cluebench.analysis.paired import holm, mcnemar_exact
from cluebench.errors import ClueError

BASE_SPEC = "hf:meta-llama/Llama-2-7b-hf"
CAND_SPEC = "llamacpp:/models/meditron-7b.Q4_K_M.gguf"


def _mcnemar_runs(
    tmp_path, b: int, c: int, concordant_right: int = 30, concordant_wrong: int = 20
):
    base = np.array([1] * b + [0] * c + [1] * concordant_right + [0] * concordant_wrong)
    cand = np.array([0] * b + [1] * c + [1] * concordant_right + [0] * concordant_wrong)
    rb = write_run(
        tmp_path / "base", BASE_SPEC, {"mednli": binary_samples("mednli", base)}
    )
    rc = write_run(
        tmp_path / "cand", CAND_SPEC, {"mednli": binary_samples("mednli", cand)}
    )
    return rb, rc, len(base)


def test_mcnemar_matches_hand_computation(tmp_path):
    rb, rc, n = _mcnemar_runs(tmp_path, b=10, c=2)
    res = compare_runs(rb, rc)
    acc = res["tasks"]["mednli"]["accuracy"]
    assert acc["p"] == pytest.approx(2 * binom.cdf(2, 12, 0.5)) and acc[
        "p"
    ] == pytest.approx(0.03857, abs=1e-4)
    assert acc["test"] == "mcnemar"
    assert acc["discordant"] == {"base_only": 10, "candidate_only": 2}
    assert acc["delta"] == pytest.approx(100 * (2 - 10) / n)
    assert acc["base"] == pytest.approx(100 * 40 / n) and acc[
        "candidate"
    ] == pytest.approx(100 * 32 / n)
    assert acc["n"] == n
    assert res["matched"]["mednli"] == {"n_base": n, "n_candidate": n, "n_matched": n}
    lo, hi = acc["ci"]
    assert lo < acc["delta"] < hi < 0  # 8 more errors out of 62: CI excludes 0
    # the lineage file knows Meditron-7B was built from Llama-2-7B
    assert res["pair"]["candidate"] == "epfl-llm/meditron-7b"
    assert res["pair"]["base"] == "meta-llama/Llama-2-7b-hf"
    assert res["pair"]["reversed"] is False


def test_mcnemar_function_edge_cases():
    p, b, c = mcnemar_exact(np.array([100.0, 0.0, np.nan]), np.array([100.0, 0.0, 0.0]))
    assert (p, b, c) == (1.0, 0, 0)
    p, b, c = mcnemar_exact(np.full(5, 100.0), np.zeros(5))
    assert (b, c) == (5, 0) and p == pytest.approx(2 * 0.5**5)


def test_continuous_ci_covers_true_delta_and_permutation_p(tmp_path):
    rng = np.random.default_rng(5)
    base = rng.normal(30, 10, 400)
    cand = base + 3.0 + rng.normal(0, 4, 400)  # true delta 3
    rb = write_run(
        tmp_path / "b", BASE_SPEC, {"meqsum": continuous_samples("meqsum", base)}
    )
    rc = write_run(
        tmp_path / "c", CAND_SPEC, {"meqsum": continuous_samples("meqsum", cand)}
    )
    m = compare_runs(rb, rc, seed=1)["tasks"]["meqsum"]["rougeL"]
    assert m["test"] == "sign-flip permutation"
    assert m["delta"] == pytest.approx(float(np.mean(cand - base)))
    assert m["ci"][0] < 3.0 < m["ci"][1]
    # paired SE = 4/sqrt(400) = 0.2 → CI half-width ≈ 0.4
    assert 0.6 < m["ci"][1] - m["ci"][0] < 1.0
    assert m["p"] == pytest.approx(1 / 10_001)  # no sign flip reaches a 15-SE effect


def test_no_difference_is_not_significant(tmp_path):
    rng = np.random.default_rng(9)
    base = rng.normal(30, 10, 300)
    cand = base + rng.normal(0, 5, 300)
    acc_b = rng.random(300) < 0.6
    flip = (
        rng.random(300) < 0.1
    )  # 10% of answers flip, in both directions equally often
    acc_c = np.where(flip, ~acc_b, acc_b)
    rb = write_run(
        tmp_path / "b",
        BASE_SPEC,
        {
            "meqsum": continuous_samples("meqsum", base),
            "mednli": binary_samples("mednli", acc_b),
        },
    )
    rc = write_run(
        tmp_path / "c",
        CAND_SPEC,
        {
            "meqsum": continuous_samples("meqsum", cand),
            "mednli": binary_samples("mednli", acc_c),
        },
    )
    res = compare_runs(rb, rc, seed=3)
    for task, metric in (("meqsum", "rougeL"), ("mednli", "accuracy")):
        m = res["tasks"][task][metric]
        assert m["p"] > 0.05 and m["ci"][0] < 0.0 < m["ci"][1], (task, m)
    same = compare_runs(rb, rb)["tasks"]["meqsum"]["rougeL"]
    assert same["delta"] == 0.0 and same["p"] == 1.0 and same["ci"] == [0.0, 0.0]


def test_mismatched_protocol_refused(tmp_path):
    s = {"mednli": binary_samples("mednli", np.array([1, 0, 1]))}
    rb = write_run(tmp_path / "b", BASE_SPEC, s)
    rc = write_run(
        tmp_path / "c", CAND_SPEC, s, protocol={"id": "clue-paper", "sha256": "f" * 64}
    )
    with pytest.raises(ClueError, match="different protocols") as e:
        compare_runs(rb, rc)
    assert "\n" not in str(e.value)


def test_mismatched_shots_refused(tmp_path):
    s = binary_samples("mednli", np.array([1, 0, 1]))
    rb = write_run(tmp_path / "b", BASE_SPEC, {"mednli": s})
    rc = write_run(
        tmp_path / "c",
        CAND_SPEC,
        {"mednli": s},
        shot_ids={"mednli": ["x1", "x2", "x3"]},
    )
    with pytest.raises(ClueError, match="mednli.*different few-shot examples"):
        compare_runs(rb, rc)


def test_holm_hand_computed():
    # sorted: 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 → monotone max 0.06
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_holm_applied_across_table_and_level_delta(tmp_path):
    rng = np.random.default_rng(4)
    nli_b = rng.random(200) < 0.5
    nli_c = np.where(rng.random(200) < 0.15, True, nli_b)
    sum_b = rng.normal(30, 10, 150)
    sum_c = sum_b + 2.0 + rng.normal(0, 6, 150)
    rb = write_run(
        tmp_path / "b",
        BASE_SPEC,
        {
            "mednli": binary_samples("mednli", nli_b),
            "meqsum": continuous_samples("meqsum", sum_b),
        },
    )
    rc = write_run(
        tmp_path / "c",
        CAND_SPEC,
        {
            "mednli": binary_samples("mednli", nli_c),
            "meqsum": continuous_samples("meqsum", sum_c),
            "medisumqa": continuous_samples("medisumqa", sum_c),
        },
    )
    res = compare_runs(rb, rc)
    cells = [m for t in res["tasks"].values() for m in t.values()]
    assert [c["p_holm"] for c in cells] == pytest.approx(holm([c["p"] for c in cells]))
    lv = res["levels"]["level1"]
    deltas = [
        res["tasks"]["mednli"]["accuracy"]["delta"],
        res["tasks"]["meqsum"]["rougeL"]["delta"],
    ]
    assert lv["delta"] == pytest.approx(np.mean(deltas)) and lv["n_tasks"] == 2
    assert lv["ci"][0] < lv["delta"] < lv["ci"][1]
    assert lv["p"] < 0.01
    assert any("medisumqa: only in the candidate run" in n for n in res["notes"])
    text = format_comparison(res)
    assert "mednli" in text and "Level 1" in text and f"{lv['delta']:.2f}" in text


def _lh(answers: np.ndarray, repeats: int, prompt_tag: str = "") -> list[dict]:
    out = []
    for q, a in enumerate(answers):
        for r in range(repeats):
            sid = f"p/q{q}/t1/r{r}"
            out.append(
                sample(
                    "longhealth",
                    sid,
                    {"accuracy": 100.0 * a},
                    cluster=f"p/q{q}",
                    subtask=1,
                    shot_ids=(),
                    prompt=sid + prompt_tag,
                )
            )
    return out


def test_paired_clustering_widens_ci(tmp_path):
    rng = np.random.default_rng(8)
    b = (rng.random(150) < 0.5).astype(int)
    c = np.where(rng.random(150) < 0.3, 1 - b, b)
    rb = write_run(tmp_path / "b", BASE_SPEC, {"longhealth": _lh(b, 5)})
    rc = write_run(tmp_path / "c", CAND_SPEC, {"longhealth": _lh(c, 5)})
    clustered = compare_runs(rb, rc)["tasks"]["longhealth"]["accuracy"]
    # the same data with every prompt its own cluster
    for d in (rb, rc):
        path = d / "longhealth" / "samples.jsonl"
        path.write_text(path.read_text().replace('"cluster": "p/q', '"cluster": "x/'))
    ib = [dict(s, cluster=s["id"]) for s in _lh(b, 5)]
    ic = [dict(s, cluster=s["id"]) for s in _lh(c, 5)]
    rb2 = write_run(tmp_path / "b2", BASE_SPEC, {"longhealth": ib})
    rc2 = write_run(tmp_path / "c2", CAND_SPEC, {"longhealth": ic})
    independent = compare_runs(rb2, rc2)["tasks"]["longhealth"]["accuracy"]
    assert clustered["delta"] == pytest.approx(independent["delta"])
    ratio = np.diff(clustered["ci"])[0] / np.diff(independent["ci"])[0]
    assert 1.8 < ratio < 2.7  # ≈ sqrt(5)


def test_prompt_hash_matching(tmp_path):
    b = np.array([1, 0, 1, 1])
    base = _lh(b, 1)
    cand = _lh(b, 1)
    cand[0] = sample(
        "longhealth",
        cand[0]["id"],
        {"accuracy": 0.0},
        cluster="p/q0",
        subtask=1,
        shot_ids=(),
        prompt="something else",
    )
    rb = write_run(tmp_path / "b", BASE_SPEC, {"longhealth": base})
    rc = write_run(tmp_path / "c", CAND_SPEC, {"longhealth": cand})
    res = compare_runs(rb, rc)
    assert res["matched"]["longhealth"]["n_matched"] == 3
    assert any("1 shared ids have different prompts" in n for n in res["notes"])
    # all prompts different (other tokenizer): matched by id, with a note
    rc2 = write_run(
        tmp_path / "c2", CAND_SPEC, {"longhealth": _lh(b, 1, prompt_tag="#other")}
    )
    res2 = compare_runs(rb, rc2)
    assert res2["matched"]["longhealth"]["n_matched"] == 4
    assert any("matched by id alone" in n for n in res2["notes"])


def test_level_deltas_are_the_papers_level_score_not_headline_only(tmp_path):
    """Level deltas average, per task, the deltas of all the metrics the paper publishes (MeQSum:
    ROUGE-L, -1, -2, BERTScore-F1), not the headline alone; the headline-only mean is kept under
    `headline_levels`, and a level built on an unrecorded BERTScore encoder says so."""

    def meqsum(shift: dict[str, float]) -> list[dict]:
        base = {"rougeL": 30.0, "rouge1": 35.0, "rouge2": 10.0, "bertscore_f1": 70.0}
        return [
            sample("meqsum", f"meqsum-{i:03d}", {k: v + shift.get(k, 0.0) + (i % 7) for k, v in base.items()})
            for i in range(60)
        ]

    rb = write_run(tmp_path / "b", BASE_SPEC, {"meqsum": meqsum({})})
    rc = write_run(tmp_path / "c", CAND_SPEC,
                   {"meqsum": meqsum({"rougeL": 4.0, "rouge1": 2.0, "rouge2": -2.0, "bertscore_f1": 8.0})})
    res = compare_runs(rb, rc)
    # paper's part of MeQSum: (4 + 2 - 2 + 8) / 4 = 3; headline only: 4
    assert res["levels"]["level1"]["delta"] == pytest.approx(3.0)
    assert res["paper_scores"]["meqsum"]["delta"] == pytest.approx(3.0)
    assert res["headline_levels"]["level1"]["delta"] == pytest.approx(4.0)
    lv = res["levels"]["level1"]
    assert not lv["comparable"]
    assert "meqsum: BERTScore encoder not recorded (the paper's: SciBERT (allenai/scibert_scivocab_uncased) layer 8)" in lv["not_comparable"]
    text = format_comparison(res)
    assert "Level 1 *" in text and "paper's score, 1 task" in text
    assert "not comparable to the published value: meqsum: BERTScore encoder not recorded" in text
