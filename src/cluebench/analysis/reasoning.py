"""Reasoning length and accuracy: what a thinking model spent per task, how often it never
finished, and whether longer reasoning went with better or worse answers.

Reads the per-sample fields `reasoning_tokens` and `flags.reasoning_unfinished` of
samples.jsonl (docs/run-files.md). Bins are quantiles of the reasoning length among answered
samples, so each holds about the same number of samples; the headline is the task's own
(LongHealth: the accuracy of whichever sub-task the prompt belongs to).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cluebench.analysis.aggregate import headline_components, is_failed, sample_value
from cluebench.records import SampleRecord, as_samples

N_BINS = 4


def per_sample_headline(samples: list[SampleRecord], headline: str, metric_names: list[str]) -> np.ndarray:
    """Each sample's headline value (NaN where it has none); for a headline made of sub-task
    metrics, the one sub-task metric that applies to the sample."""
    comps = headline_components(headline, metric_names)
    vals = np.array([[sample_value(s, c) for c in comps] for s in samples], dtype=float)
    if vals.size == 0:
        return np.zeros(0)
    vals = vals.reshape(len(samples), len(comps))
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(vals), -np.inf, vals).max(axis=1)
    return np.where(np.isfinite(filled), filled, np.nan)


def reasoning_summary(
    samples: list[SampleRecord] | list[dict], headline: str, metric_names: list[str], n_bins: int = N_BINS
) -> dict[str, Any] | None:
    """results.json's per-task `reasoning` entry; None when no sample carries reasoning tokens.
    `samples` are records or the runner's rows (samples.jsonl's dicts)."""
    rows = [
        s for s in as_samples(samples)
        if not is_failed(s) and isinstance(s.reasoning_tokens, (int, float))
    ]
    if not rows:
        return None
    tokens = np.array([float(s.reasoning_tokens) for s in rows])  # type: ignore[arg-type]
    unfinished = np.array([bool(s.flags.get("reasoning_unfinished")) for s in rows])
    values = per_sample_headline(rows, headline, metric_names)
    out: dict[str, Any] = {
        "n": len(rows),
        "headline": headline,
        "mean_tokens": float(tokens.mean()),
        "median_tokens": float(np.median(tokens)),
        "p90_tokens": float(np.percentile(tokens, 90)),
        "max_tokens": int(tokens.max()),
        "total_tokens": int(tokens.sum()),
        "unfinished": int(unfinished.sum()),
        "unfinished_rate": 100.0 * float(unfinished.mean()),
        "by_length": _by_length(tokens, values, unfinished, n_bins),
        "spearman": _spearman(tokens, values),
    }
    return out


def _by_length(
    tokens: np.ndarray, values: np.ndarray, unfinished: np.ndarray, n_bins: int
) -> list[dict]:
    """Headline mean per reasoning-length bin (quantile edges; equal values share one bin)."""
    if tokens.max() == tokens.min():
        edges = np.array([tokens.min(), tokens.max()])
    else:
        edges = np.unique(np.quantile(tokens, np.linspace(0, 1, n_bins + 1)))
    bins = []
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        last = k == len(edges) - 2
        inside = (tokens >= lo) & ((tokens <= hi) if last else (tokens < hi))
        v = values[inside]
        v = v[np.isfinite(v)]
        bins.append(
            {
                "tokens": [int(lo), int(hi)],
                "n": int(inside.sum()),
                "headline_mean": float(v.mean()) if v.size else None,
                "unfinished": int(unfinished[inside].sum()),
            }
        )
    return bins


def _spearman(tokens: np.ndarray, values: np.ndarray) -> float | None:
    """Rank correlation of reasoning length with the headline (None when either is constant)."""
    ok = np.isfinite(values)
    if ok.sum() < 3 or np.ptp(tokens[ok]) == 0 or np.ptp(values[ok]) == 0:
        return None
    from scipy.stats import spearmanr

    rho = spearmanr(tokens[ok], values[ok]).statistic
    return None if not np.isfinite(rho) else float(rho)
