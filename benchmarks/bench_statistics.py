"""Bootstrap CIs: cluebench's vectorised cluster bootstrap vs. a plain per-resample Python loop.

    python benchmarks/bench_statistics.py [--n 1500] [--boot 2000]

Both compute the 95% percentile CI of two metrics' means over N samples (LongHealth-like: five
samples per cluster) with the same number of resamples; the table prints wall times, the ratio,
and the two CIs (they differ only by Monte Carlo noise, since the random draws differ).
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from cluebench.analysis.aggregate import summarize_task


def naive_ci(samples: list[dict], metric: str, n_boot: int, seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    clusters: dict[str, list[float]] = {}
    for s in samples:
        clusters.setdefault(s["cluster"], []).append(s["metrics"][metric])
    groups = list(clusters.values())
    means = []
    for _ in range(n_boot):
        values = [v for _ in groups for v in rng.choice(groups)]
        means.append(sum(values) / len(values))
    means.sort()
    return means[int(0.025 * n_boot)], means[int(0.975 * n_boot) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--boot", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    samples = [
        {"id": f"s{i}", "cluster": f"q{i // 5}", "output": "x", "flags": {"failed": False},
         "metrics": {"rougeL": float(rng.random() * 100), "rouge1": float(rng.random() * 100)}}
        for i in range(args.n)
    ]
    summarize_task(samples[:50], level=1, headline="rougeL", metric_names=["rougeL"], n_boot=20)  # warm-up
    t0 = time.perf_counter()
    summary = summarize_task(samples, level=1, headline="rougeL", metric_names=["rougeL", "rouge1"], n_boot=args.boot)
    t_vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = {m: naive_ci(samples, m, args.boot, 0) for m in ("rougeL", "rouge1")}
    t_naive = time.perf_counter() - t0
    print(f"{args.n} samples in {args.n // 5} clusters, {args.boot} resamples, 2 metrics")
    print(f"{'side':<34}{'wall s':>9}{'ratio':>9}   rougeL 95% CI")
    print(f"{'naive Python loop':<34}{t_naive:>9.3f}{1.0:>9.2f}   [{naive['rougeL'][0]:.2f}, {naive['rougeL'][1]:.2f}]")
    ci = summary["metrics"]["rougeL"]["ci"]
    print(f"{'cluebench summarize_task':<34}{t_vec:>9.3f}{t_naive / t_vec:>8.1f}x   [{ci[0]:.2f}, {ci[1]:.2f}]")


if __name__ == "__main__":
    main()
