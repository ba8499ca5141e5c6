"""Harness overhead of the `openai:` backend against a server that answers in a fixed time.

    python benchmarks/bench_openai_throughput.py [--latency-ms 200] [--levels 1,8,64,256]

The stub server (`cluebench.testing.stub_openai.StubServer`) runs in its own process, so the
client does not share a GIL with it. For each concurrency level C this drives M distinct requests
(M = max(20, 25 * C), about 5 s of ideal time) through `cluebench.run.cached.generate_missing`
into a fresh `ResponseStore`, exactly as `clue run` does (store commits included), and prints the
achieved requests/s beside the ideal C / latency and their ratio (target >= 0.9 up to C = 64).
Also printed: the client process's CPU milliseconds per request (the harness's own cost, whatever
the machine's load) and the time to build the cache keys. A last row uses two stub processes (`--base-url` twice) and shows how the requests spread.
Every row checks that the server(s) received exactly M chat requests and the store holds M answers.

The stub process is this same file run as `--serve`: a StubServer that prints its URL, then
answers `count` on stdin with the number of chat requests it has received (`count-all`: all) (so other benchmarks
in this folder import `StubProcess` from here).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

# -- the stub server in its own process -----------------------------------------------------


def serve(latency_ms: float) -> None:
    """Child-process side: run a StubServer, print its URL, then answer each stdin line:
    `count` with the chat requests received so far, `count-all` with all HTTP requests."""
    from cluebench.testing.stub_openai import StubServer

    server = StubServer(latency_ms=latency_ms)
    print(server.start(), flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(len(server.chat_requests()), flush=True)
        elif line.strip() == "count-all":
            print(len(server.requests), flush=True)
    server.stop()


class StubProcess:
    """A stub server in a subprocess (`with StubProcess(200) as stub: stub.url, stub.count()`)."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_ms = latency_ms
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Self:
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--latency-ms", str(self.latency_ms)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.__exit__()
            raise RuntimeError(f"stub server did not start (printed {self.url!r})")
        return self

    def count(self, *, chat_only: bool = True) -> int:
        """Chat-completion requests (or, with chat_only=False, all HTTP requests) received so far."""
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        self._proc.stdin.write("count\n" if chat_only else "count-all\n")
        self._proc.stdin.flush()
        return int(self._proc.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


# -- the workload ---------------------------------------------------------------------------


def workload(n: int, offset: int = 0) -> list[list[dict[str, str]]]:
    """n distinct chats of MeQSum-like size (~1.5 kB each: system text + a consumer question), so
    every request has its own cache key and request bodies are realistic."""
    system = (
        "You are a helpful medical assistant. Summarize the patient's question into one short "
        "question that keeps the medical problem, the drug or test named, and what is asked. "
    ) * 3
    question = (
        "SUBJECT: question about my medication\nMESSAGE: My doctor put me on a new tablet last "
        "month and since then I have had headaches in the morning and some dizziness when I "
        "stand up quickly. My last blood test said my kidney function was a little low. "
    ) * 2
    return [
        [
            {"role": "system", "content": system},
            {
                "role": "user",
                "content": f"{question}Case number {offset + i}. Should I stop taking it?",
            },
        ]
        for i in range(n)
    ]


@dataclass
class Measured:
    n: int
    wall_s: float
    key_s: float
    cpu_s: float  # this (client) process's CPU time during generation: the harness's own cost
    answered: int
    served: list[int]

    @property
    def rps(self) -> float:
        return self.n / self.wall_s


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drive_cluebench(
    urls: Sequence[str],
    concurrency: int,
    chats: list[list[dict[str, str]]],
    max_tokens: int,
    work: Path,
) -> Measured:
    """M requests through the runner's path: keyed_requests -> generate_missing -> fresh store."""
    from cluebench.models import load_backend
    from cluebench.models.base import BackendOptions, Decoding
    from cluebench.run.cached import generate_missing, keyed_requests
    from cluebench.run.store import ResponseStore

    opts = BackendOptions(
        base_urls=list(urls), concurrency=concurrency, max_retries=2, timeout=60.0
    )
    backend = load_backend("openai:stub-model", opts)
    decoding = Decoding(max_tokens=max_tokens, temperature=0.0, seed=1234)
    store_path = work / f"store-{concurrency}-{len(urls)}-{time.monotonic_ns()}.sqlite"
    try:
        t0 = time.perf_counter()
        requests, _ = keyed_requests(backend, chats, [decoding] * len(chats))
        key_s = time.perf_counter() - t0
        with ResponseStore(store_path) as store:
            cpu0, t0 = _cpu(), time.perf_counter()
            done = generate_missing(backend, store, requests)
            wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
            answered = len(store.get_many(r.key for r in requests))
        assert len(done) == answered
    finally:
        backend.close()
    return Measured(len(chats), wall, key_s, cpu, answered, [])


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in header]] + [
        [f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for j, r in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths))
            )
        )
        if j == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument(
        "--levels", default="1,8,64,256", help="concurrency levels (per endpoint)"
    )
    ap.add_argument(
        "--two-url-concurrency", type=int, default=64, help="per endpoint, 0 to skip"
    )
    ap.add_argument(
        "--per-slot", type=int, default=25, help="M = max(20, per_slot * C)"
    )
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    if args.serve:
        serve(args.latency_ms)
        return 0

    latency = args.latency_ms / 1000
    levels = [int(x) for x in args.levels.split(",") if x]
    rows, records = [], []
    offset = 0
    with (
        tempfile.TemporaryDirectory(prefix="clue-bench-tp-") as tmp,
        StubProcess(args.latency_ms) as a,
    ):
        work = Path(tmp)
        warm_up = workload(8, offset=10**9)
        drive_cluebench([a.url], 4, warm_up, args.max_tokens, work)
        for c in levels:
            m_req = max(20, args.per_slot * c)
            before = a.count()
            got = drive_cluebench(
                [a.url], c, workload(m_req, offset), args.max_tokens, work
            )
            offset += m_req
            got.served = [a.count() - before]
            rows.append((c, 1, m_req, got, c / latency))
        if args.two_url_concurrency:
            c = args.two_url_concurrency
            with StubProcess(args.latency_ms) as b:
                m_req = max(20, args.per_slot * c * 2)
                before = [a.count(), b.count()]
                got = drive_cluebench(
                    [a.url, b.url], c, workload(m_req, offset), args.max_tokens, work
                )
                got.served = [a.count() - before[0], b.count() - before[1]]
                rows.append((c, 2, m_req, got, 2 * c / latency))

    print(
        f"openai: backend vs. ideal, stub latency {args.latency_ms:g} ms, {os.cpu_count()} CPU(s); "
        "client and stub in separate processes"
    )
    table = []
    for c, n_urls, m_req, got, ideal in rows:
        ok = got.answered == m_req and sum(got.served) == m_req
        table.append(
            (
                f"C={c}" + (" x 2 URLs" if n_urls == 2 else ""),
                m_req,
                round(got.wall_s, 2),
                round(got.rps, 1),
                round(ideal, 1),
                round(got.rps / ideal, 3),
                "/".join(str(s) for s in got.served),
                round(got.key_s * 1000, 1),
                round(got.cpu_s / m_req * 1000, 2),
                "ok" if ok else "MISMATCH",
            )
        )
        records.append(
            {
                "concurrency": c,
                "base_urls": n_urls,
                "requests": m_req,
                "wall_s": got.wall_s,
                "rps": got.rps,
                "ideal_rps": ideal,
                "ratio": got.rps / ideal,
                "served": got.served,
                "answered": got.answered,
                "keying_s": got.key_s,
                "client_cpu_s": got.cpu_s,
            }
        )
    print_table(
        [
            "level",
            "M",
            "wall s",
            "req/s",
            "ideal req/s",
            "ratio",
            "server saw",
            "keying ms",
            "client CPU ms/req",
            "check",
        ],
        table,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=1))
    return 0 if all(t[-1] == "ok" for t in table) else 1


if __name__ == "__main__":
    sys.exit(main())
