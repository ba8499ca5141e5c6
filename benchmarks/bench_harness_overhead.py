"""Harness overhead: `clue run` on N MeQSum samples with the embedded model vs. bare
llama-cpp-python calls on the same rendered prompts, measured side by side in one process.

    python benchmarks/bench_harness_overhead.py [--n 20] [--data-dir ../shared/data]

Prints three wall times and two ratios:
  * generation stage: cluebench's runner (prompt building, token counting, cache keys, store
    commits, progress) vs. the bare loop — the harness overhead proper (target <= 1.05);
  * whole `clue run` (plus scoring with ROUGE + BERTScore, results, report) vs. the bare loop.
Each side loads the model once; the bare loop reuses the exact prompts cluebench rendered, the
same decoding (greedy, seeded, the protocol's max tokens) and the same threads and context.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="MeQSum samples")
    ap.add_argument("--reps", type=int, default=2, help="alternating repetitions of each side; the minimum counts")
    ap.add_argument("--data-dir", default=os.environ.get("CLUE_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data")))
    args = ap.parse_args()

    import llama_cpp

    from cluebench.models import default_model_path, load_backend
    from cluebench.models.base import BackendOptions, Decoding
    from cluebench.run.budget import BackendBudget
    from cluebench.run.cached import generate_missing, keyed_requests
    from cluebench.run.runner import RunSettings, run
    from cluebench.run.store import ResponseStore
    from cluebench.datasets import resolve_dataset
    from cluebench.protocol import load_protocol
    from cluebench.tasks.registry import get_task

    data_dir = Path(args.data_dir) if Path(args.data_dir).is_dir() else None
    protocol = load_protocol()
    opts = BackendOptions(plain_template=protocol.plain_template.as_dict())
    work = Path(tempfile.mkdtemp(prefix="clue-bench-"))
    try:
        backend = load_backend(None, opts)
        task = get_task("meqsum", protocol)
        dataset = resolve_dataset("meqsum", data_dir)
        ctx = backend.context_length
        info = backend.info()
        threads = info.get("n_threads") or os.cpu_count()
        sampler = info.get("sampler") or {}
        llm = llama_cpp.Llama(str(default_model_path()), n_ctx=ctx, n_threads=threads, verbose=False)

        def stage(rep: int) -> tuple[float, list, dict]:
            """Side A1: the runner's generation stage (prompts, counts, keys, fresh store, commits)."""
            t0 = time.perf_counter()
            samples, _ = task.build_samples(dataset.rows, BackendBudget(backend), args.n)
            decoding = Decoding(max_tokens=samples[0].max_tokens, temperature=0.0, seed=protocol.default_seed)
            requests, rendered = keyed_requests(backend, [s.messages for s in samples], [decoding] * len(samples))
            with ResponseStore(work / f"stage{rep}.sqlite") as store:
                done = generate_missing(backend, store, requests)
            return time.perf_counter() - t0, rendered, {r.key: done[r.key].text for r in requests} | {"_order": [r.key for r in requests]}

        def bare(rendered: list[str], max_tokens: int, seed: int) -> tuple[float, list[str]]:
            """Side B: bare llama-cpp-python on the same rendered prompts and sampler settings."""
            t0 = time.perf_counter()
            texts = []
            for prompt in rendered:
                out = llm.create_completion(prompt=prompt, max_tokens=max_tokens, temperature=0.0, top_p=1.0,
                                            seed=seed, top_k=sampler.get("top_k", 0), min_p=sampler.get("min_p", 0.0),
                                            repeat_penalty=sampler.get("repeat_penalty", 1.0))
                texts.append(out["choices"][0]["text"])
            return time.perf_counter() - t0, texts

        max_tokens = protocol.task("meqsum").max_new_tokens
        stage_times, bare_times = [], []
        for rep in range(args.reps):  # alternate the order so background load hits both sides alike
            if rep % 2 == 0:
                t, rendered, answers = stage(rep)
                stage_times.append(t)
                tb, bare_texts = bare(rendered, max_tokens, protocol.default_seed)
                bare_times.append(tb)
            else:
                tb, bare_texts = bare(rendered, max_tokens, protocol.default_seed)
                bare_times.append(tb)
                t, rendered, answers = stage(rep)
                stage_times.append(t)
        same = sum(1 for k, b in zip(answers["_order"], bare_texts) if answers[k] == b)
        t_stage, t_bare = min(stage_times), min(bare_times)
        llm.close()
        backend.close()

        # Side A2: the whole `clue run` (fresh run directory, loads its own model).
        t0 = time.perf_counter()
        run(RunSettings(model=None, tasks=["meqsum"], limit=args.n, data_dir=data_dir, out=work / "run", progress=False))
        t_run = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"MeQSum samples: {len(rendered)}  data: {dataset.path}  ({'synthetic demo' if dataset.synthetic else 'real'})")
    print(f"outputs identical to the bare loop: {same}/{len(rendered)}; repetitions: {args.reps} (minimum wall time counts)")
    print(f"  stage runs: {', '.join(f'{t:.2f}' for t in stage_times)} s; bare runs: {', '.join(f'{t:.2f}' for t in bare_times)} s")
    print(f"{'side':<44}{'wall s':>10}{'ratio':>10}")
    print(f"{'bare llama-cpp-python (same prompts)':<44}{t_bare:>10.2f}{1.0:>10.3f}")
    print(f"{'cluebench generation stage':<44}{t_stage:>10.2f}{t_stage / t_bare:>10.3f}")
    print(f"{'cluebench whole clue run (+scoring, report)':<44}{t_run:>10.2f}{t_run / t_bare:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
