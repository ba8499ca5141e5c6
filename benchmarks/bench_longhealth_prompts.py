"""LongHealth prompt building: per-document token caching vs. re-tokenizing every document for
every prompt (what the reference `eval_LongHealth.py` does), side by side in one process.

    python benchmarks/bench_longhealth_prompts.py [--patients 6] [--docs 5] [--rounds 3]

Both sides use the same tokenizer and chat template (the embedded SmolLM2 GGUF through the
llama.cpp backend, context 8,192), the same seeds and the same synthetic benchmark_v5 data
(written by this script into a temporary file and read back), and must build byte-identical
prompts. Each side runs on a fresh task instance, so the cached side pays for its first encode
of every document inside the timing. Prints prompts per second for both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=6)
    ap.add_argument("--docs", type=int, default=5, help="letters per patient")
    ap.add_argument("--rounds", type=int, default=3, help="timed builds per side (median reported)")
    args = ap.parse_args()

    from longhealth_synthetic import make_benchmark

    from cluebench.models import load_backend
    from cluebench.models.base import BackendOptions
    from cluebench.run.budget import BackendBudget
    from cluebench.tasks.base import PromptBudget
    from cluebench.tasks.longhealth import LongHealthTask
    from cluebench.protocol import load_protocol

    class NaiveLongHealthTask(LongHealthTask):
        """Re-encodes a document every time a prompt needs its tokens (no cache)."""

        def token_ids(self, budget: PromptBudget, text: str) -> Sequence[int]:
            return tuple(budget.encode(text))

    protocol = load_protocol()
    spec = protocol.task("longhealth")
    with tempfile.TemporaryDirectory(prefix="clue-lh-bench-") as tmp:
        path = Path(tmp) / "benchmark_v5.json"
        path.write_text(json.dumps(make_benchmark(args.patients, args.docs)), encoding="utf-8")
        data = json.loads(path.read_text(encoding="utf-8"))
    rows = [{"id": pid, **patient} for pid, patient in data.items()]

    backend = load_backend(None, BackendOptions(plain_template=protocol.plain_template.as_dict()))
    budget = BackendBudget(backend)
    n_docs = sum(len(p["texts"]) for p in data.values())
    n_questions = sum(len(p["questions"]) for p in data.values())
    doc_tokens = sum(len(budget.encode(t)) for p in data.values() for t in p["texts"].values())
    print(
        f"data: {len(rows)} patients, {n_docs} letters ({doc_tokens:,} tokens), {n_questions} questions;"
        f" model {Path(backend.spec or 'embedded').name}, context {budget.context_length}"
    )

    def timed(cls: type[LongHealthTask]) -> tuple[float, list]:
        times, samples = [], []
        for _ in range(args.rounds):
            task = cls(spec, protocol)
            t0 = time.perf_counter()
            samples, _ = task.build_samples(rows, budget)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), samples

    t_cached, cached = timed(LongHealthTask)
    t_naive, naive = timed(NaiveLongHealthTask)
    same = [(s.id, s.messages, s.extra) for s in cached] == [(s.id, s.messages, s.extra) for s in naive]
    n = len(cached)
    print(f"{'':26}{'cached':>12}{'naive':>12}{'ratio':>9}")
    print(f"{'seconds per build':26}{t_cached:12.3f}{t_naive:12.3f}{t_naive / t_cached:8.2f}x")
    print(f"{'prompts per second':26}{n / t_cached:12.1f}{n / t_naive:12.1f}{t_naive / t_cached:8.2f}x")
    print(f"{n} prompts per build, median of {args.rounds} builds; identical prompts: {same}")
    backend.close()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
