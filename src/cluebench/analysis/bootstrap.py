"""Cluster bootstrap and sign-flip permutation for means of per-sample metrics, vectorised.

Every statistic cluebench reports is a weighted sum of ratio means over clusters:
``sum_k a_k * (sum of values of component k) / (number of values of component k)``. A plain task
metric is one component; LongHealth's headline accuracy is three (one per sub-task, a_k = 1/3),
and a level average stacks the components of several tasks, each task being its own stratum.

Representing a statistic by its per-cluster sums and counts makes the bootstrap one matrix product:
a replicate is a vector of cluster multiplicities ``w`` (how often each cluster was drawn), and the
replicate's sums are ``w @ sums``. 2,000 replicates of 1,500 clusters take a fraction of a second.
Resampling whole clusters keeps LongHealth's five prompts per question together, so the CI reflects
that they are not independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ClusteredMean:
    """A statistic defined by per-cluster sums and counts of K components.

    sums, counts: (C, K) arrays; weights: (K,) coefficients a_k; strata: (C,) stratum of each
    cluster (clusters are resampled within their stratum, e.g. within their task).
    """

    sums: np.ndarray
    counts: np.ndarray
    weights: np.ndarray
    strata: np.ndarray

    @classmethod
    def from_samples(
        cls, clusters: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None
    ) -> ClusteredMean:
        """Build from integer cluster codes (n,) and values (n, K); NaN marks 'not applicable'.

        Components without any value are dropped (e.g. a LongHealth run limited to sub-task 1
        averages only that sub-task), and equal default weights are spread over the others.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        present = ~np.all(np.isnan(values), axis=0)
        if weights is None and present.any() and not present.all():
            values = values[:, present]
        n_clusters = int(clusters.max()) + 1 if clusters.size else 0
        valid = ~np.isnan(values)
        k = values.shape[1]
        sums = np.zeros((n_clusters, k))
        counts = np.zeros((n_clusters, k))
        for j in range(k):
            sums[:, j] = np.bincount(
                clusters,
                weights=np.where(valid[:, j], values[:, j], 0.0),
                minlength=n_clusters,
            )
            counts[:, j] = np.bincount(
                clusters, weights=valid[:, j], minlength=n_clusters
            )
        if weights is None:
            weights = np.full(k, 1.0 / k)
        return cls(
            sums,
            counts,
            np.asarray(weights, dtype=np.float64),
            np.zeros(n_clusters, int),
        )

    @property
    def n_clusters(self) -> int:
        return self.sums.shape[0]

    def value(self) -> float | None:
        """The point estimate; None when some component has no values at all."""
        totals = self.counts.sum(axis=0)
        if self.n_clusters == 0 or np.any(totals == 0):
            return None
        return float(self.weights @ (self.sums.sum(axis=0) / totals))

    def replicates(self, multiplicities: np.ndarray) -> np.ndarray:
        """Statistic under each row of cluster multiplicities (B, C); NaN where undefined."""
        num = multiplicities @ self.sums
        den = multiplicities @ self.counts
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        return means @ self.weights

    def sign_flips(self, signs: np.ndarray) -> np.ndarray:
        """Statistic with each cluster's values multiplied by +1/-1 per row of `signs` (P, C)."""
        totals = self.counts.sum(axis=0)
        return (signs @ self.sums / totals) @ self.weights


def combine(parts: list[ClusteredMean], weights: list[float]) -> ClusteredMean:
    """Weighted sum of independent statistics (e.g. a level average of tasks), block-stacked.

    Each part becomes its own stratum, so the bootstrap resamples each task's clusters separately.
    """
    n_c = sum(p.n_clusters for p in parts)
    n_k = sum(p.sums.shape[1] for p in parts)
    sums = np.zeros((n_c, n_k))
    counts = np.zeros((n_c, n_k))
    w = np.zeros(n_k)
    strata = np.zeros(n_c, dtype=int)
    r = c = 0
    for i, (part, a) in enumerate(zip(parts, weights)):
        pc, pk = part.sums.shape
        sums[r : r + pc, c : c + pk] = part.sums
        counts[r : r + pc, c : c + pk] = part.counts
        w[c : c + pk] = a * part.weights
        strata[r : r + pc] = i
        r += pc
        c += pk
    return ClusteredMean(sums, counts, w, strata)


def multiplicities(
    strata: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_boot, C) bootstrap multiplicities: within each stratum, draw its clusters with replacement."""
    n_c = strata.size
    out = np.zeros((n_boot, n_c))
    offsets = np.arange(n_boot, dtype=np.int64)[:, None]
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        m = members.size
        draws = rng.integers(0, m, size=(n_boot, m), dtype=np.int64)
        flat = (draws + offsets * m).ravel()
        out[:, members] = np.bincount(flat, minlength=n_boot * m).reshape(n_boot, m)
    return out


def percentile_ci(replicates: np.ndarray, level: float = 95.0) -> list[float] | None:
    """Percentile interval of the finite replicates; None when there are none."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return None
    tail = (100.0 - level) / 2.0
    lo, hi = np.percentile(finite, [tail, 100.0 - tail])
    return [float(lo), float(hi)]


def sign_flip_p(
    diff: ClusteredMean, *, seed: int = 0, n_perm: int = 10_000, chunk: int = 2_000
) -> float | None:
    """Two-sided paired permutation p-value: flip the sign of each cluster's differences.

    Under H0 (no difference) each matched cluster's difference is symmetric around 0. Uses the
    (1 + hits) / (1 + n_perm) estimate so a p-value is never exactly 0.
    """
    observed = diff.value()
    if observed is None:
        return None
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    tol = 1e-9 * max(1.0, abs(observed))
    while done < n_perm:
        m = min(chunk, n_perm - done)
        signs = (
            rng.integers(0, 2, size=(m, diff.n_clusters)).astype(np.float64) * 2.0 - 1.0
        )
        hits += int(
            np.count_nonzero(np.abs(diff.sign_flips(signs)) >= abs(observed) - tol)
        )
        done += m
    return (1 + hits) / (1 + n_perm)
