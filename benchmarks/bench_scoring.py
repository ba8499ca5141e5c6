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
families — then each family alone on the same pairs (with a fresh entity cache) for the shares.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
    from cluebench.tasks.protocol import load_protocol
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
    t0 = time.perf_counter()
    scorers.bertscore._load()
    t_bert_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    scorers.entities.extract("aspirin")  # builds or unpickles the lexicon
    t_entity_load = time.perf_counter() - t0

    # The runner's call: all metrics and flags together.
    t0 = time.perf_counter()
    scores = task.score(samples, predictions, scorers)
    t_task = time.perf_counter() - t0
    assert len(scores) == len(samples)
    names = task.metric_names(scorers)
    missing = [n for n in names if n not in scores[0].metrics]
    assert not missing, f"metrics missing from the task's scores: {missing}"

    # Each metric family alone on the same pairs (a fresh entity text cache).
    t0 = time.perf_counter()
    rouge_scores(predictions, references)
    t_rouge = time.perf_counter() - t0
    t0 = time.perf_counter()
    scorers.bertscore.score(predictions, references)
    t_bert = time.perf_counter() - t0
    extractor = get_extractor(scorers.entities.name)
    t0 = time.perf_counter()
    entity_scores(predictions, references, extractor)
    t_entity = time.perf_counter() - t0
    t_parts = t_rouge + t_bert + t_entity

    n = len(predictions)
    mean = {
        m: sum(s.metrics[m] for s in scores) / n for m in ("rougeL", "bertscore_f1")
    }
    entity_f1 = f"{scorers.entity_prefix}_f1"
    mean[entity_f1] = sum(s.metrics[entity_f1] for s in scores) / n
    print(
        f"scoring {n} MeQSum pairs; data: {described}; {os.cpu_count()} CPU(s), "
        f"torch threads {torch.get_num_threads()}, no GPU"
    )
    print(
        f"BERTScore encoder: {scorers.bertscore.model_name} layer {scorers.bertscore.num_layers}; "
        f"entities: {scorers.entities.name}; means: "
        + ", ".join(f"{k} {v:.1f}" for k, v in mean.items())
    )
    rows = [
        ("load: BERTScore encoder", round(t_bert_load, 2), "", ""),
        ("load: entity vocabulary", round(t_entity_load, 2), "", ""),
        ("score: task.score (runner's call)", round(t_task, 2), "100%", round(n / t_task, 1)),
        ("  ROUGE-1/2/L alone", round(t_rouge, 2), f"{100 * t_rouge / t_parts:.1f}%",
         round(n / t_rouge, 1)),
        ("  BERTScore alone", round(t_bert, 2), f"{100 * t_bert / t_parts:.1f}%",
         round(n / t_bert, 1)),
        ("  entity P/R/F1 alone", round(t_entity, 2), f"{100 * t_entity / t_parts:.1f}%",
         round(n / t_entity, 1)),
        ("  flags and bookkeeping (task - parts)", round(max(0.0, t_task - t_parts), 2), "", ""),
    ]  # fmt: skip
    print_table(["stage", "seconds", "share of parts", "pairs/s"], rows)
    total = t_bert_load + t_entity_load + t_task
    print(f"total (load + runner's scoring): {total:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
