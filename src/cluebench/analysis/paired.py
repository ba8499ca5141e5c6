"""Paired tests for two models on the same samples: exact McNemar and Holm's correction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest


def is_binary(values: np.ndarray) -> bool:
    """True when every finite value is 0 or 100 (an accuracy-type, per-sample right/wrong metric)."""
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all((finite == 0.0) | (finite == 100.0)))


def mcnemar_exact(base: np.ndarray, candidate: np.ndarray) -> tuple[float, int, int]:
    """Exact two-sided McNemar test on paired 0/100 outcomes (NaN pairs ignored).

    Returns (p, b, c) with b = right→wrong and c = wrong→right discordant pairs; p is the binomial
    test of c successes in b + c trials at 0.5 (1.0 when there are no discordant pairs).
    """
    ok = np.isfinite(base) & np.isfinite(candidate)
    b_right = base[ok] == 100.0
    c_right = candidate[ok] == 100.0
    b = int(np.count_nonzero(b_right & ~c_right))
    c = int(np.count_nonzero(~b_right & c_right))
    if b + c == 0:
        return 1.0, b, c
    return float(binomtest(c, b + c, 0.5, alternative="two-sided").pvalue), b, c


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None entries are skipped and stay None)."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    order = sorted(idx, key=lambda i: pvalues[i])  # type: ignore[arg-type, return-value]
    m = len(order)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        adj = min(1.0, (m - rank) * float(pvalues[i]))  # type: ignore[arg-type]
        running = max(running, adj)
        out[i] = running
    return out
