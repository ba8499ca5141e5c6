"""Scoring cost: 1,000 MeQSum prediction/reference pairs through the summarisation scorer the runner
uses (ROUGE-1/2/L + BERTScore with the offline encoder + entity F1), with model loading timed
apart from scoring.

    python benchmarks/bench_scoring.py [--n 1000] [--data-dir /work/shared/data]

References are MeQSum's gold summaries (the real set when `--data-dir` has it, else the bundled
synthetic demo set repeated to n). Predictions imitate model outputs of realistic length: for
even items the first 30 words of the consumer's message (a model that copies), for odd items the
gold summary of another item (a fluent but wrong answer), seeded. Scored with
`get_task("problem_summary").score(samples, predictions, Scorers())` — exactly the runner's call,
and problem_summary is the summarisation task whose protocol entry lists all three metric
families — then each part alone on the same pairs (with a fresh entity cache) for the shares,
given in CPU seconds (all threads) as well as wall seconds, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
T = TypeVar("T")


def pairs(
    n: int, data_dir: Path | None, seed: int = 0
) -> tuple[list[str], list[str], str]:
    """(predictions, references, description of the data)."""
    from cluebench.datasets import resolve_dataset

    dataset = resolve_dataset("meqsum", data_dir)
    rows = [r for r in dataset.rows if str(r.get("Summary", "")).strip()]
    rows = (rows * (n // len(rows) + 1))[:n]
    rng = random.Random(seed)
    others = [str(r["Summary"]) for r in rows]
    rng.shuffle(others)
    predictions = []
    for i, row in enumerate(rows):
        if i % 2 == 0:
            message = str(row["CHQ"]).split("MESSAGE:", 1)[-1]
            predictions.append(" ".join(message.split()[:30]))
        else:
            predictions.append(others[i])
    kind = "synthetic demo, repeated" if dataset.synthetic else "real"
    return predictions, [str(r["Summary"]) for r in rows], f"{dataset.path} ({kind})"


def timed(fn: Callable[[], T]) -> tuple[T, tuple[float, float]]:
    """fn()'s result and its (wall, process CPU) seconds; CPU time counts every thread (torch
    uses several) and is less disturbed than wall time by other processes on the machine."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, (time.perf_counter() - wall0, time.process_time() - cpu0)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1000)
    default_data = os.environ.get("CLUE_DATA_DIR", "/work/shared/data")
    ap.add_argument("--data-dir", default=default_data)
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    import torch
    from bench_openai_throughput import print_table

    from cluebench.metrics.entities import entity_scores, get_extractor
    from cluebench.metrics.rouge import rouge_scores
    from cluebench.tasks.base import Sample
    from cluebench.protocol import load_protocol
    from cluebench.tasks.registry import get_task
    from cluebench.tasks.scorers import Scorers

    data_dir = Path(args.data_dir) if Path(args.data_dir).is_dir() else None
    predictions, references, described = pairs(args.n, data_dir)
    task = get_task("problem_summary", load_protocol())
    samples = [
        Sample(id=str(i), messages=[], reference=ref, max_tokens=256)
        for i, ref in enumerate(references)
    ]
    scorers = Scorers()

    # Loading, timed apart: the encoder, then the entity extractor's vocabulary.
    _, bert_load = timed(scorers.bertscore._load)
    _, entity_load = timed(
        lambda: scorers.entities.extract("aspirin")
    )  # builds/unpickles

    # The runner's call: all metrics and flags together.
    scores, task_t = timed(lambda: task.score(samples, predictions, scorers))
    assert len(scores) == len(samples)
    names = task.metric_names(scorers)
    missing = [n for n in names if n not in scores[0].metrics]
    assert not missing, f"metrics missing from the task's scores: {missing}"

    # Each part alone on the same pairs (the entity extractor with a fresh text cache).
    extractor = get_extractor(scorers.entities.name)
    parts = {
        "ROUGE-1/2/L": timed(lambda: rouge_scores(predictions, references))[1],
        "BERTScore": timed(lambda: scorers.bertscore.score(predictions, references))[1],
        "entity P/R/F1": timed(
            lambda: entity_scores(predictions, references, extractor)
        )[1],
        "flags": timed(lambda: [task.flags(o) for o in predictions])[1],
    }
    parts_cpu = sum(cpu for _, cpu in parts.values())

    n = len(predictions)
    means = {
        m: sum(s.metrics[m] for s in scores) / n for m in ("rougeL", "bertscore_f1")
    }
    entity_f1 = f"{scorers.entity_prefix}_f1"
    means[entity_f1] = sum(s.metrics[entity_f1] for s in scores) / n
    print(
        f"scoring {n} MeQSum pairs; data: {described}; {os.cpu_count()} CPU(s), "
        f"torch threads {torch.get_num_threads()}, no GPU"
    )
    print(
        f"BERTScore encoder: {scorers.bertscore.model_name} layer {scorers.bertscore.num_layers}; "
        f"entities: {scorers.entities.name}; means: "
        + ", ".join(f"{k} {v:.1f}" for k, v in means.items())
    )
    rows = [
        ["load: BERTScore encoder", *bert_load, "", ""],
        ["load: entity vocabulary", *entity_load, "", ""],
        ["score: task.score (runner's call)", *task_t, "", n / task_t[0]],
    ]
    for name, (wall, cpu) in parts.items():
        rows.append(
            [f"  {name} alone", wall, cpu, f"{100 * cpu / parts_cpu:.1f}%", n / wall]
        )
    print_table(
        ["stage", "wall s", "CPU s", "share (CPU)", "pairs/s"],
        [
            [r[0], round(r[1], 2), round(r[2], 2), r[3], r[4] and round(r[4], 1)]
            for r in rows
        ],
    )
    total = bert_load[0] + entity_load[0] + task_t[0]
    print(f"total wall (load + runner's scoring): {total:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
