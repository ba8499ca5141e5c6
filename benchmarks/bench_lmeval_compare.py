"""cluebench's `openai:` backend vs. lm-evaluation-harness's `local-chat-completions`, same workload,
same stub server, side by side in one run.

    python benchmarks/bench_lmeval_compare.py [--levels 8,64] [--latency-ms 200] [--repeats 2]

Both sides send the same M distinct chats (`bench_openai_throughput.workload`, M = 25 * C) with
max 16 new tokens to one stub server process answering in `--latency-ms`, at concurrency C:
  * cluebench: keyed_requests -> generate_missing -> a fresh ResponseStore (store commits
    included), in this process;
  * lm-eval: `lm_eval.models.openai_completions.LocalChatCompletion(base_url=.../v1/chat/completions,
    num_concurrent=C, tokenized_requests=False, tokenizer_backend="none")` and its
    `generate_until` on Instances whose args are (JsonChatStr(chat JSON), {"until": [],
    "max_gen_toks": 16}) — what `lm_eval --model local-chat-completions --apply_chat_template`
    hands it — in a subprocess using lm-eval's own virtual environment.
Only the generation call is timed on each side (imports and model construction are not). The
sides alternate (cluebench, lm-eval, cluebench, lm-eval, ...) so a load change on the machine hits
both; the median of `--repeats` is reported. The stub's request count checks that each side sent
exactly M requests and each got M answers. Target: cluebench / lm-eval >= 1.0.

lm-eval lives in its own venv (created once, `python -m venv --system-site-packages` +
`pip install "lm-eval[api]==0.4.*"`) under benchmarks/out/, which git ignores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / "out" / "venv-lmeval"
LMEVAL_REQUIREMENT = "lm-eval[api]==0.4.*"


def venv_python() -> Path:
    """The lm-eval venv's interpreter, creating the venv and installing lm-eval on first use."""
    python = VENV / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import aiohttp, tenacity, lm_eval.models.openai_completions",
    ]
    if (
        python.exists()
        and subprocess.run(probe, check=False, capture_output=True).returncode == 0
    ):
        return python
    print(
        f"creating {VENV} with {LMEVAL_REQUIREMENT} (once; a few minutes)",
        file=sys.stderr,
    )
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", LMEVAL_REQUIREMENT], check=True
    )
    subprocess.run(probe, check=True)
    return python


def lmeval_side(
    url: str, concurrency: int, n: int, offset: int, max_tokens: int
) -> dict:
    """Runs inside the lm-eval venv: one generate_until over n chats; prints timing as JSON."""
    import logging

    from bench_openai_throughput import workload
    from lm_eval import __version__ as lmeval_version
    from lm_eval.api.instance import Instance
    from lm_eval.models.api_models import JsonChatStr
    from lm_eval.models.openai_completions import LocalChatCompletion

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    model = LocalChatCompletion(
        base_url=f"{url}/chat/completions",
        model="stub-model",
        num_concurrent=concurrency,
        max_retries=3,
        tokenized_requests=False,
        tokenizer_backend="none",
        max_gen_toks=max_tokens,
        timeout=60,
    )
    gen_kwargs = {"until": [], "max_gen_toks": max_tokens}
    instances = [
        Instance(
            request_type="generate_until",
            doc={},
            arguments=(
                JsonChatStr(json.dumps(chat, ensure_ascii=False)),
                dict(gen_kwargs),
            ),
            idx=0,
        )
        for chat in workload(n, offset)
    ]
    t0 = time.perf_counter()
    outputs = model.generate_until(instances, disable_tqdm=True)
    wall = time.perf_counter() - t0
    answered = sum(
        1 for o in outputs if isinstance(o, str) and o.startswith("stub answer")
    )
    return {"wall_s": wall, "answered": answered, "version": lmeval_version}


def run_lmeval(
    python: Path, url: str, concurrency: int, n: int, offset: int, max_tokens: int
) -> dict:
    cmd = [
        str(python),
        __file__,
        "--lmeval-side",
        url,
        str(concurrency),
        str(n),
        str(offset),
        str(max_tokens),
    ]
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=str(HERE))
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"lm-eval side failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--lmeval-side":
        url, c, n, offset, max_tokens = sys.argv[2:7]
        print(
            json.dumps(lmeval_side(url, int(c), int(n), int(offset), int(max_tokens)))
        )
        return 0

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--levels", default="8,64")
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument(
        "--per-slot", type=int, default=25, help="M = max(20, per_slot * C)"
    )
    ap.add_argument(
        "--repeats", type=int, default=2, help="alternating runs per side (median)"
    )
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from bench_openai_throughput import (
        StubProcess,
        drive_cluebench,
        print_table,
        workload,
    )

    python = venv_python()
    latency = args.latency_ms / 1000
    rows, records, offset, all_ok = [], [], 0, True
    version = "?"
    with (
        tempfile.TemporaryDirectory(prefix="clue-bench-lm-") as tmp,
        StubProcess(args.latency_ms) as stub,
    ):
        work = Path(tmp)
        warm_up = workload(8, offset=10**9)
        drive_cluebench([stub.url], 4, warm_up, args.max_tokens, work)
        for c in (int(x) for x in args.levels.split(",") if x):
            m_req = max(20, args.per_slot * c)
            clue_walls, lm_walls = [], []
            for _ in range(args.repeats):
                before = stub.count()
                # timed: the whole harness path (keying, store, generation)
                t0 = time.perf_counter()
                got = drive_cluebench(
                    [stub.url], c, workload(m_req, offset), args.max_tokens, work
                )
                clue_walls.append(time.perf_counter() - t0)
                sent = stub.count() - before
                all_ok &= sent == m_req and got.answered == m_req
                offset += m_req

                before = stub.count()
                lm = run_lmeval(python, stub.url, c, m_req, offset, args.max_tokens)
                lm_walls.append(lm["wall_s"])
                version = lm["version"]
                lm_sent = stub.count() - before
                all_ok &= lm_sent == m_req and lm["answered"] == m_req
                offset += m_req
                records.append(
                    {
                        "concurrency": c,
                        "requests": m_req,
                        "cluebench_wall_s": clue_walls[-1],
                        "cluebench_sent": sent,
                        "cluebench_answered": got.answered,
                        "lmeval_wall_s": lm["wall_s"],
                        "lmeval_sent": lm_sent,
                        "lmeval_answered": lm["answered"],
                    }
                )
            cw, lw = statistics.median(clue_walls), statistics.median(lm_walls)
            rows.append(
                (
                    f"C={c}",
                    m_req,
                    round(c / latency, 1),
                    round(m_req / cw, 1),
                    round(m_req / lw, 1),
                    round(lw / cw, 3),
                    " ".join(f"{w:.2f}" for w in clue_walls),
                    " ".join(f"{w:.2f}" for w in lm_walls),
                )
            )

    print(
        f"cluebench openai: vs lm-eval {version} local-chat-completions; stub latency "
        f"{args.latency_ms:g} ms; {os.cpu_count()} CPU(s); median of {args.repeats} alternating runs"
    )
    print_table(
        [
            "level",
            "M",
            "ideal req/s",
            "cluebench req/s",
            "lm-eval req/s",
            "cluebench/lm-eval",
            "cluebench walls s",
            "lm-eval walls s",
        ],
        rows,
    )
    print(
        "requests sent and answered: "
        + ("M on every run, both sides" if all_ok else "MISMATCH (see --json)")
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=1))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
