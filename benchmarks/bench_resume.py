"""Resume cost: a finished `clue run` run again asks the backend nothing and rewrites the same files.

    python benchmarks/bench_resume.py [--latency-ms 500] [--concurrency 4]

Runs `cluebench.run.runner.run(RunSettings(...))` twice on the same output directory, each in a
fresh Python process as two `clue run` commands would be (both pay the imports): tasks
mednli, meqsum and medisumcode on the bundled synthetic demo set, model `openai:stub-model`
against the stub server in its own process (answering in `--latency-ms`). The server counts
what it receives, so the backend calls of each run are counted where they arrive. Prints both
runs' wall times (the whole process, and the run() call alone), the rerun's share of the first run, the chat requests each run sent (the rerun
must send 0) and whether results.json and every samples.jsonl are byte-identical across runs.
The rerun still reads the store, scores every sample and writes the report: its wall time is
those fixed costs (mostly loading the BERTScore encoder), never generation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = ["mednli", "meqsum", "medisumcode"]


def digest(out: Path) -> dict[str, str]:
    """sha256 of results.json and each task's samples.jsonl."""
    files = [out / "results.json"] + [out / t / "samples.jsonl" for t in TASKS]
    return {
        str(f.relative_to(out)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
    }


def one_run(out: Path, url: str, concurrency: int) -> dict:
    """Child-process side: one `clue run` through the runner's public entry point."""
    from cluebench.models.base import BackendOptions
    from cluebench.run.runner import RunSettings, run

    settings = RunSettings(
        model="openai:stub-model",
        tasks=list(TASKS),
        data_dir=None,  # the bundled synthetic demo set
        out=out,
        backend=BackendOptions(base_urls=[url], concurrency=concurrency, max_retries=2),
        progress=False,
    )
    t0 = time.perf_counter()
    outcome = run(settings)
    wall = time.perf_counter() - t0
    n = sum(int(t["n"]) for t in outcome.results["tasks"].values())
    return {"run_s": wall, "n": n, "n_failed": outcome.n_failed}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--one-run":
        out, url, concurrency = sys.argv[2:5]
        print(json.dumps(one_run(Path(out), url, int(concurrency))))
        return 0
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--latency-ms", type=float, default=500.0)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from bench_openai_throughput import StubProcess, print_table

    rows, hashes, chat_counts, walls = [], [], [], []
    with (
        tempfile.TemporaryDirectory(prefix="clue-bench-resume-") as tmp,
        StubProcess(args.latency_ms) as stub,
    ):
        out = Path(tmp) / "run"
        for label in ("first run", "rerun (finished)"):
            cmd = [
                sys.executable,
                __file__,
                "--one-run",
                str(out),
                stub.url,
                str(args.concurrency),
            ]
            chat0, all0 = stub.count(), stub.count(chat_only=False)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            chat = stub.count() - chat0
            other = stub.count(chat_only=False) - all0 - chat
            chat_counts.append(chat)
            hashes.append(digest(out))
            walls.append((got["run_s"], wall))
            rows.append([label, got["n"], got["n_failed"], chat, other])

    for row, (run_s, proc_s) in zip(rows, walls):
        row += [
            round(run_s, 2),
            f"{100 * run_s / walls[0][0]:.1f}%",
            round(proc_s, 2),
            f"{100 * proc_s / walls[0][1]:.1f}%",
        ]
    same = hashes[0] == hashes[1]
    print(
        f"clue run on the demo set ({', '.join(TASKS)}), openai:stub-model, stub latency "
        f"{args.latency_ms:g} ms, concurrency {args.concurrency}; {os.cpu_count()} CPU(s); "
        "each run its own process"
    )
    header = ["run", "samples", "failed", "chat requests", "other HTTP"]
    header += ["run() s", "of first", "process s", "of first"]
    print_table(header, rows)
    print(
        f"rerun backend calls: {chat_counts[1]} (must be 0); rerun process wall = "
        f"{100 * walls[1][1] / walls[0][1]:.1f}% of the first run's; results.json and "
        "samples.jsonl " + ("byte-identical" if same else "DIFFER")
    )
    return 0 if chat_counts[1] == 0 and chat_counts[0] > 0 and same else 1


if __name__ == "__main__":
    sys.exit(main())
