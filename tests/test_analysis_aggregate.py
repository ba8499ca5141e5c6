"""summarize_task / level_averages: means, cluster-bootstrap CIs, LongHealth sub-tasks, errors."""

from __future__ import annotations


import numpy as np
import pytest
from test_analysis_runfactory import binary_samples, continuous_samples, sample

from cluebench.analysis.aggregate import level_averages, level_ci, summarize_task

LH_METRICS = [f"task{k}_accuracy" for k in (1, 2, 3)]


def test_mean_ci_and_determinism():
    values = np.array([10.0, 20.0, 30.0, 40.0, 50.0] * 20)
    samples = continuous_samples("meqsum", values)
    r = summarize_task(
        samples, level=1, headline="rougeL", metric_names=["rouge1", "rougeL"], seed=7
    )
    m = r["metrics"]["rougeL"]
    assert m["mean"] == pytest.approx(30.0)
    assert r["metrics"]["rouge1"]["mean"] == pytest.approx(35.0)
    lo, hi = m["ci"]
    # SE of the mean = sd/sqrt(n) = 14.14/10 ≈ 1.41 → 95% CI half-width ≈ 2.8
    assert lo < 30.0 < hi
    assert 2.0 < (hi - lo) / 2 < 3.6
    again = summarize_task(
        samples, level=1, headline="rougeL", metric_names=["rougeL"], seed=7
    )
    assert again["metrics"]["rougeL"]["ci"] == m["ci"]
    other = summarize_task(
        samples, level=1, headline="rougeL", metric_names=["rougeL"], seed=8
    )
    assert other["metrics"]["rougeL"]["ci"] != m["ci"]
    assert (r["level"], r["headline"], r["n"]) == (1, "rougeL", 100)


def test_failed_samples_excluded_and_counted():
    samples = binary_samples("mednli", np.array([1, 1, 0, 0]))
    samples.append(sample("mednli", "f1", {}, output=None))
    samples.append(
        sample("mednli", "t1", {"accuracy": 100.0}, flags={"truncated": True})
    )
    r = summarize_task(samples, level=1, headline="accuracy", metric_names=["accuracy"])
    assert r["n"] == 6 and r["n_failed"] == 1 and r["n_truncated"] == 1
    assert r["metrics"]["accuracy"]["mean"] == pytest.approx(60.0)  # 3 of 5 answered
    assert r["errors"]["failed"] == {"count": 1, "rate": pytest.approx(100 / 6), "n": 6}
    # parse_failed applies only to samples with an output
    assert r["errors"]["parse_failed"]["n"] == 5


def _longhealth(acc: dict[int, list[int]], repeats: int = 1) -> list[dict]:
    out = []
    for k, answers in acc.items():
        for q, a in enumerate(answers):
            for r in range(repeats):
                out.append(
                    sample(
                        "longhealth",
                        f"p1/q{q}/t{k}/r{r}",
                        {"accuracy": 100.0 * a},
                        cluster=f"p1/q{q}",
                        subtask=k,
                        flags={"hallucination": bool(k == 3 and not a)}
                        if k == 3
                        else {},
                    )
                )
    return out


def test_longhealth_headline_is_mean_of_subtasks():
    # sub-task 1: 4/4 right, 2: 1/2, 3: 0/1 (unequal sizes: pooled mean would be 5/7 = 71.4)
    samples = _longhealth({1: [1, 1, 1, 1], 2: [1, 0], 3: [0]})
    r = summarize_task(samples, level=2, headline="accuracy", metric_names=LH_METRICS)
    assert r["metrics"]["task1_accuracy"]["mean"] == pytest.approx(100.0)
    assert r["metrics"]["task2_accuracy"]["mean"] == pytest.approx(50.0)
    assert r["metrics"]["task3_accuracy"]["mean"] == pytest.approx(0.0)
    assert r["metrics"]["accuracy"]["mean"] == pytest.approx(50.0)
    assert r["errors"]["hallucination"] == {"count": 1, "rate": 100.0, "n": 1}


def test_clustering_widens_ci_for_repeated_prompts():
    rng = np.random.default_rng(0)
    answers = (rng.random(200) < 0.5).astype(int).tolist()
    clustered = _longhealth(
        {1: answers}, repeats=5
    )  # each question's 5 prompts answered alike
    independent = [dict(s, cluster=s["id"]) for s in clustered]
    kw = {
        "level": 2,
        "headline": "accuracy",
        "metric_names": ["task1_accuracy"],
        "n_boot": 2000,
    }
    w_c = np.diff(summarize_task(clustered, **kw)["metrics"]["accuracy"]["ci"])[0]
    w_i = np.diff(summarize_task(independent, **kw)["metrics"]["accuracy"]["ci"])[0]
    # perfectly correlated clusters of 5: width ratio ≈ sqrt(5) = 2.24
    assert 1.9 < w_c / w_i < 2.6


def test_ci_coverage_of_true_mean():
    rng = np.random.default_rng(11)
    hits = 0
    for rep in range(80):
        s = binary_samples("mednli", rng.random(300) < 0.3)
        ci = summarize_task(
            s, level=1, headline="accuracy", metric_names=[], seed=rep, n_boot=400
        )["metrics"]["accuracy"]["ci"]
        hits += ci[0] <= 30.0 <= ci[1]
    assert 68 <= hits <= 80  # nominal 95% of 80 = 76


def test_error_flags_applicability_and_invalid_codes():
    s = [
        sample(
            "medisumcode",
            "a",
            {"icd_exact_f1": 50.0},
            flags={"invalid_codes": 2, "increasing_digits": False},
        ),
        sample(
            "medisumcode",
            "b",
            {"icd_exact_f1": 20.0},
            flags={"invalid_codes": 0, "increasing_digits": True},
        ),
        sample(
            "medisumcode",
            "c",
            {"icd_exact_f1": 0.0},
            flags={"invalid_codes": 1, "loop": True},
            finish_reason="length",
        ),
        sample("medisumcode", "d", {}, output=None),
    ]
    e = summarize_task(
        s, level=2, headline="icd_exact_f1", metric_names=["icd_exact_f1"]
    )["errors"]
    assert e["invalid_codes"] == {"count": 2, "rate": pytest.approx(200 / 3), "n": 3}
    assert e["increasing_digits"]["count"] == 1 and e["increasing_digits"]["n"] == 2
    assert e["length_capped"] == {"count": 1, "rate": 25.0, "n": 4}
    assert e["loop"]["count"] == 1
    assert "hallucination" not in e


def test_level_averages_and_ci():
    tasks = {
        "mednli": {"headline": "accuracy", "metrics": {"accuracy": {"mean": 60.0}}},
        "meqsum": {"headline": "rougeL", "metrics": {"rougeL": {"mean": 30.0}}},
        "longhealth": {"headline": "accuracy", "metrics": {"accuracy": {"mean": None}}},
    }
    levels = {
        "level1": ["mednli", "meqsum", "problem_summary"],
        "level2": ["longhealth"],
    }
    out = level_averages(tasks, levels)
    assert out["level1"] == {
        "mean": 45.0,
        "tasks": ["mednli", "meqsum"],
        "complete": False,
    }
    assert out["level2"] == {"mean": None, "tasks": [], "complete": False}

    rng = np.random.default_rng(2)
    by_task = {
        "mednli": binary_samples("mednli", rng.random(200) < 0.6),
        "meqsum": continuous_samples("meqsum", rng.normal(30, 10, 200)),
    }
    entries = {
        "mednli": {"headline": "accuracy", "metrics": {"accuracy": {}}},
        "meqsum": {"headline": "rougeL", "metrics": {"rougeL": {}}},
    }
    ci = level_ci(by_task, entries, ["mednli", "meqsum"])
    mean = (
        np.mean([s["metrics"]["accuracy"] for s in by_task["mednli"]])
        + np.mean([s["metrics"]["rougeL"] for s in by_task["meqsum"]])
    ) / 2
    assert ci[0] < mean < ci[1]
    # SE ≈ sqrt(SE1² + SE2²)/2 = sqrt(3.46² + 0.71²)/2 ≈ 1.77 → width ≈ 6.9
    assert 5.0 < ci[1] - ci[0] < 9.0
