"""Everything `clue` shows a person on the terminal: run progress, result tables, messages.

One module so that the look (widths, wording, where it goes) is decided once. It imports no room
of cluebench at module level: the rooms hand it plain values (dicts, dataclasses) and the runner
hands it completions, so the one-way arrows stay as they are.

Progress goes to stderr (stdout stays clean for `--json` and pipes):

* on a terminal, one rich bar per task and one for the run, each with an ETA;
* anywhere else (a log file, CI, `nohup`), plain lines: one when a task starts, one when it
  finishes, and one every ~30 s in between, so a person tailing a log sees the run is alive.

ETAs come from the throughput measured in this run (:class:`Throughput`): seconds per prompt
token and per generated token, fitted on the completions so far, applied to the prompt tokens
still to process; within a task, after a few answers, the task's own mean latency per request.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Sequence

if TYPE_CHECKING:
    from cluebench.records import ResultsFile

# ----------------------------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------------------------

WIDTH = 80  # the result tables are built to fit a plain 80-column terminal


def duration(seconds: float | None) -> str:
    """`1:05`, `12:30`, `1:02:03`; '?' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


# ----------------------------------------------------------------------------------------------
# throughput and ETA
# ----------------------------------------------------------------------------------------------


@dataclass
class PendingRequest:
    """What is known about a request before it is sent: its prompt length and token cap."""

    prompt_tokens: int
    max_tokens: int


class Throughput:
    """Seconds per request ≈ prompt_tokens × s_prompt + completion_tokens × s_gen.

    The two rates are a non-negative least-squares fit on this run's completions (a 2×2 normal
    system); with fewer than two usable points, or a degenerate fit, one rate per token of either
    kind is used. A backend that reuses a cached prompt prefix (llama.cpp does, for few-shot
    prompts) makes prompt tokens cheaper than the fit says for the first few requests of a task;
    :class:`TaskTracker` switches to the task's own mean latency as soon as it has answers.
    """

    def __init__(self) -> None:
        self._pts: list[tuple[float, float, float]] = []

    def observe(self, prompt_tokens: int | None, completion_tokens: int | None, latency_s: float) -> None:
        if latency_s and latency_s > 0 and (prompt_tokens or completion_tokens):
            self._pts.append((float(prompt_tokens or 0), float(completion_tokens or 0), float(latency_s)))

    @property
    def n(self) -> int:
        return len(self._pts)

    def rates(self) -> tuple[float, float] | None:
        """(seconds per prompt token, seconds per generated token), or None before any answer."""
        fit = self._fit()
        if fit is not None:
            return fit
        if not self._pts:
            return None
        total = sum(p + g for p, g, _ in self._pts)
        per_token = sum(t for _, _, t in self._pts) / total if total else 0.0
        return per_token, per_token

    @property
    def fitted(self) -> bool:
        """Whether the two rates were told apart (else one rate stands for both kinds of token:
        MedNLI's one-word answers, for instance, say nothing about generation speed)."""
        return self._fit() is not None

    def _fit(self) -> tuple[float, float] | None:
        if len(self._pts) < 2:
            return None
        spp = sum(p * p for p, _, _ in self._pts)
        sgg = sum(g * g for _, g, _ in self._pts)
        spg = sum(p * g for p, g, _ in self._pts)
        spl = sum(p * t for p, _, t in self._pts)
        sgl = sum(g * t for _, g, t in self._pts)
        det = spp * sgg - spg * spg
        if det > 1e-9 * max(spp * sgg, 1e-30):
            a = (spl * sgg - sgl * spg) / det
            b = (sgl * spp - spl * spg) / det
            if a >= 0 and b >= 0:
                return a, b
        return None

    def tokens_per_s(self) -> tuple[float | None, float | None]:
        """(prompt tokens/s, generated tokens/s) as fitted; None where unknown or infinite."""
        r = self.rates()
        if r is None:
            return None, None
        return (1 / r[0] if r[0] > 0 else None), (1 / r[1] if r[1] > 0 else None)

    def estimate(self, requests: Iterable[PendingRequest], completion_tokens: float | None = None) -> float | None:
        """Seconds for these requests; each generates `completion_tokens` (default: half its cap)."""
        r = self.rates()
        if r is None:
            return None
        total = 0.0
        for req in requests:
            gen = req.max_tokens / 2 if completion_tokens is None else min(completion_tokens, req.max_tokens)
            total += req.prompt_tokens * r[0] + gen * r[1]
        return total


@dataclass
class TaskPlan:
    """A task as the progress display sees it: its requests to ask and how many were answered."""

    task: str
    total: int
    cached: int
    pending: list[PendingRequest] = field(default_factory=list)


class TaskTracker:
    """Counts and ETA of one task while its requests are being answered."""

    def __init__(self, plan: TaskPlan, throughput: Throughput, clock: Callable[[], float]) -> None:
        self.plan = plan
        self.done = plan.cached
        self._throughput = throughput
        self._clock = clock
        self._started = clock()
        self._latencies: list[float] = []
        self._completion_tokens: list[int] = []
        self.phase = "asking"

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def record(self, prompt_tokens: int | None, completion_tokens: int | None, latency_s: float) -> None:
        self.done += 1
        self._latencies.append(latency_s)
        if completion_tokens is not None:
            self._completion_tokens.append(completion_tokens)
        self._throughput.observe(prompt_tokens, completion_tokens, latency_s)

    def _remaining(self) -> list[PendingRequest]:
        asked = self.done - self.plan.cached
        return self.plan.pending[asked:]

    def mean_completion_tokens(self) -> float | None:
        return sum(self._completion_tokens) / len(self._completion_tokens) if self._completion_tokens else None

    def eta(self) -> float | None:
        remaining = self._remaining()
        if not remaining:
            return 0.0
        if len(self._latencies) >= 3:
            return len(remaining) * (sum(self._latencies) / len(self._latencies))
        return self._throughput.estimate(remaining, self.mean_completion_tokens())


class RunProgress:
    """Progress of a whole `clue run`: a bar per task on a terminal, plain log lines elsewhere.

    `mode`: "bar", "log", "off", or None for "bar" when stderr is a terminal and "log" otherwise.
    `interval_s`: seconds between the periodic plain lines.
    """

    def __init__(
        self,
        plans: Sequence[TaskPlan],
        mode: str | None = None,
        *,
        stream: IO[str] | None = None,
        interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        note: str | None = None,
    ) -> None:
        self._stream = stream
        out = stream if stream is not None else sys.stderr
        self.mode = mode or ("bar" if getattr(out, "isatty", lambda: False)() else "log")
        if self.mode not in ("bar", "log", "off"):
            raise ValueError(f"progress mode must be bar, log or off, not {self.mode!r}")
        self.plans = {p.task: p for p in plans}
        self.order = [p.task for p in plans]
        self.throughput = Throughput()
        self.interval_s = interval_s
        self._clock = clock
        self._started = clock()
        self._note = note
        self._current: TaskTracker | None = None
        self._finished: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bars: Any = None
        self._bar_ids: dict[str, Any] = {}

    # -- output ---------------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        if self.mode != "log":
            return
        out = self._stream if self._stream is not None else sys.stderr
        print(f"clue: {text}", file=out, flush=True)

    def _rates_text(self) -> str:
        pp, tg = self.throughput.tokens_per_s()
        if pp is None and tg is None:
            return ""
        if not self.throughput.fitted:
            return f" ({pp:,.0f} tok/s, prompt and generation together)" if pp is not None else ""
        parts = []
        if pp is not None:
            parts.append(f"prompt {pp:,.0f} tok/s")
        if tg is not None:
            parts.append(f"generation {tg:,.1f} tok/s")
        return " (" + ", ".join(parts) + ")"

    def run_eta(self) -> float | None:
        """Seconds left for the run: the current task's ETA plus the estimate of the tasks after it."""
        eta = 0.0
        current = self._current
        if current is not None:
            e = current.eta()
            if e is None:
                return None
            eta += e
        mean_gen = current.mean_completion_tokens() if current is not None else None
        for task in self.order:
            if task in self._finished or (current is not None and task == current.plan.task):
                continue
            pending = self.plans[task].pending
            if not pending:
                continue
            e = self.throughput.estimate(pending, mean_gen)
            if e is None:
                return None
            eta += e
        return eta

    def _status(self, t: TaskTracker) -> str:
        eta = t.eta()
        run_eta = self.run_eta()
        return (
            f"{t.plan.task}: {t.done}/{t.plan.total} prompts answered, {duration(t.elapsed)} elapsed, "
            f"ETA {duration(eta) if eta is not None else 'measuring'}"
            f"; run ETA {duration(run_eta) if run_eta is not None else 'measuring'}{self._rates_text()}"
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> "RunProgress":
        asked = sum(len(p.pending) for p in self.plans.values())
        cached = sum(p.cached for p in self.plans.values())
        if self.mode == "log":
            note = f"; {self._note}" if self._note else ""
            self._line(
                f"run: {len(self.order)} tasks, {asked} prompts to ask"
                + (f" ({cached} answered before)" if cached else "")
                + note
            )
            self._thread = threading.Thread(target=self._tick, name="clue-progress", daemon=True)
            self._thread.start()
        elif self.mode == "bar":
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bars = Progress(
                TextColumn("[bold]{task.description:<15}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                console=_stderr_console(),
                transient=False,
            )
            for p in self.plans.values():
                self._bar_ids[p.task] = self._bars.add_task(p.task, total=p.total, completed=p.cached, eta="-", start=False)
            self._bar_ids["_run"] = self._bars.add_task(
                "run", total=sum(p.total for p in self.plans.values()), completed=cached, eta="-"
            )
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._bars is not None:
            self._bars.stop()
        if self.mode == "log" and exc[0] is None:
            self._line(f"run: finished in {duration(self._clock() - self._started)}")

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                t = self._current
                if t is not None and t.phase == "asking":
                    self._line(self._status(t))
                elif t is not None:
                    self._line(f"{t.plan.task}: {t.phase}, {duration(t.elapsed)} elapsed")

    # -- the runner's calls ---------------------------------------------------------------------

    def start_task(self, task: str) -> None:
        with self._lock:
            plan = self.plans[task]
            self._current = TaskTracker(plan, self.throughput, self._clock)
            if self.mode == "log":
                if not plan.pending:
                    self._line(f"{task}: started, all {plan.total} prompts answered before (nothing to ask)")
                else:
                    eta = self._current.eta()
                    self._line(
                        f"{task}: started, {len(plan.pending)} of {plan.total} prompts to ask"
                        f", ETA {duration(eta) if eta is not None else 'measuring'}"
                    )
            elif self._bars is not None:
                self._bars.start_task(self._bar_ids[task])
                self._refresh_bars()

    def advance(self, completion: Any) -> None:
        """One answer came back (called by the generation loop for every completion)."""
        with self._lock:
            t = self._current
            if t is None:
                return
            t.record(completion.prompt_tokens, completion.completion_tokens, completion.latency_s or 0.0)
            if self._bars is not None:
                self._bars.update(self._bar_ids[t.plan.task], completed=t.done)
                self._bars.advance(self._bar_ids["_run"])
                self._refresh_bars()

    def set_phase(self, phase: str) -> None:
        """What the task is doing after its answers are in ("scoring")."""
        with self._lock:
            if self._current is not None:
                self._current.phase = phase
                if self._bars is not None:
                    self._bars.update(self._bar_ids[self._current.plan.task], eta=phase)

    def finish_task(self, task: str) -> None:
        with self._lock:
            t = self._current
            self._finished.add(task)
            self._current = None
            if t is None:
                return
            asked = t.done - t.plan.cached
            if self.mode == "log":
                self._line(
                    f"{task}: finished in {duration(t.elapsed)}, {asked} prompts asked, "
                    f"{t.plan.cached} answered before{self._rates_text()}"
                )
            elif self._bars is not None:
                self._bars.update(self._bar_ids[task], completed=t.plan.total, eta="done")
                self._refresh_bars()

    def _refresh_bars(self) -> None:
        t = self._current
        if t is not None:
            eta = t.eta()
            self._bars.update(self._bar_ids[t.plan.task], eta=duration(eta) if eta is not None else "…")
        run_eta = self.run_eta()
        self._bars.update(self._bar_ids["_run"], eta=duration(run_eta) if run_eta is not None else "…")


# ----------------------------------------------------------------------------------------------
# messages
# ----------------------------------------------------------------------------------------------


def note(text: str, *, style: str | None = None) -> None:
    """One message to the user on stderr (progress and messages share it; results go to stdout)."""
    console = _stderr_console()
    console.print(text, style=style, highlight=False, soft_wrap=True)


# ----------------------------------------------------------------------------------------------
# result tables
# ----------------------------------------------------------------------------------------------


def _stdout_console(width: int | None = None, file: IO[str] | None = None) -> Any:
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=width or WIDTH, force_terminal=False, color_system=None)
    return Console(width=width) if width else Console()


def mean_ci(metric: dict | None, nd: int = 2) -> str:
    """`42.10 [35.2, 49.0]`; '-' when there is no mean."""
    if not metric or metric.get("mean") is None:
        return "-"
    lo, hi = metric.get("ci") or (None, None)
    ci = f" [{lo:.1f}, {hi:.1f}]" if lo is not None and hi is not None else ""
    return f"{metric['mean']:.{nd}f}{ci}"


def demo_banner(results: ResultsFile) -> str | None:
    """The warning that numbers come from the bundled synthetic demo set (None for real data)."""
    demo = [t for t, e in results.tasks.items() if (e.data or {}).get("synthetic")]
    if not demo:
        return None
    sized = [t for t in demo if results.tasks[t].demo]
    which = "all tasks" if len(demo) == len(results.tasks) else ", ".join(demo)
    sizes = " at the demo's sizes and budgets, not the paper's" if sized else ""
    return (
        f"SYNTHETIC DEMO SET ({which}){sizes}: the numbers show that cluebench works, "
        "not how good the model is. Real data: --data-dir or CLUE_DATA_DIR."
    )


def results_table(results: ResultsFile) -> Any:
    """The run's headline table: at most 80 columns, task names and CIs never cut or wrapped."""
    from rich.table import Table

    variant = results.protocol.get("variant")
    protocol = results.protocol["id"] + (
        f", variant: reasoning on, budget {variant.get('budget')}" if variant else ""
    )
    table = Table(
        title=f"CLUE results — {results.model['spec']} (protocol {protocol})",
        title_justify="left",
    )
    table.add_column("lvl", justify="right", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("headline", no_wrap=True)
    table.add_column("mean [95% CI]", no_wrap=True)
    for task_id, t in results.tasks.items():
        head = t.headline
        table.add_row(str(t.level), task_id, str(t.n), head, mean_ci(t.metrics.get(head)))  # type: ignore[arg-type]
    for name, lvl in results.levels.items():
        if lvl.get("mean") is not None:
            label = f"Level {name[-1]}" + ("" if lvl.get("complete") else " (partial)")
            mark = "" if lvl.get("comparable", True) else " *"
            table.add_row("", label, "", "paper's score", mean_ci(lvl) + mark)
    return table


def grouped_caveats(by_level: dict[str, Sequence[str]]) -> list[str]:
    """One line per distinct reason, naming the levels and tasks it applies to, from the levels'
    "task: reason" notes (the same scorer stand-in in three tasks is said once, not three times)."""
    reasons: dict[str, dict[str, list[str]]] = {}
    for name, notes in by_level.items():
        level = name.replace("level", "Level ")
        for note in notes:
            task, sep, reason = note.partition(": ")
            if not sep:
                task, reason = "", note
            tasks = reasons.setdefault(reason, {}).setdefault(level, [])
            if task and task not in tasks:
                tasks.append(task)
    return [
        reason + " (" + "; ".join(f"{lv}: {', '.join(ts)}" if ts else lv for lv, ts in where.items()) + ")"
        for reason, where in reasons.items()
    ]


def hanging(text: str, width: int, first: str, rest: str) -> str:
    """`text` wrapped at word boundaries to `width`, continuation lines indented under the first."""
    import textwrap

    return textwrap.fill(text, width=max(width, 40), initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def print_run_summary(outcome: Any, *, file: IO[str] | None = None) -> None:
    """`clue run`'s closing output: the results table, then the run directory and report."""
    from cluebench.records import ResultsFile

    console = _stdout_console(file=file)
    results = ResultsFile.from_dict(outcome.results)
    console.print(results_table(results))
    _print_reasoning(console, results)
    caveats = grouped_caveats(
        {name: lvl.get("not_comparable") or [] for name, lvl in results.levels.items() if lvl.get("mean") is not None}
    )
    if caveats:
        console.print("* not comparable to the published value:")
        for line in caveats:
            console.print(hanging(line, console.width, "  - ", "    "), markup=False, soft_wrap=True)
    failed = {t: e.n_failed for t, e in results.tasks.items() if e.n_failed}
    if failed:
        console.print(
            f"[red]{sum(failed.values())} samples failed after retries "
            f"({', '.join(f'{t}: {n}' for t, n in failed.items())}); they are excluded from the "
            "means. Run the same command again to retry only those.[/red]"
        )
    banner = demo_banner(results)
    if banner:
        console.print(f"[yellow]{banner}[/yellow]")
    real = {t: e.data["path"] for t, e in results.tasks.items() if not e.data["synthetic"]}  # type: ignore[index]
    for task, path in real.items():
        console.print(f"{task} data: {path}")
    console.print(f"run directory: {outcome.out}")
    if outcome.report is not None:
        console.print(f"report: {outcome.report}")


def _print_reasoning(console: Any, results: ResultsFile) -> None:
    """One line per task that carried reasoning: its length and how often it never finished."""
    for task_id, t in results.tasks.items():
        r = t.reasoning
        if not r:
            continue
        console.print(
            f"{task_id} reasoning: {r['mean_tokens']:.0f} mean / {r['median_tokens']:.0f} median "
            f"thinking tokens; {r['unfinished']} of {r['n']} unfinished "
            f"({r['unfinished_rate']:.1f}%, scored as no answer)"
        )
    errors = [
        (task_id, t.errors["reasoning_in_output"]["count"])
        for task_id, t in results.tasks.items()
        if t.errors.get("reasoning_in_output", {}).get("count")
    ]
    for task_id, count in errors:
        console.print(
            f"[yellow]{task_id}: {count} outputs hold the model's reasoning and were scored raw "
            "(--reasoning off, the paper's protocol); try --reasoning on[/yellow]"
        )


def print_score(result: dict, *, file: IO[str] | None = None) -> None:
    """`clue score`'s table: each metric's mean and 95% CI."""
    from rich.table import Table

    table = Table(title=f"{result['task']} — {result['n']} predictions", title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("mean [95% CI]", no_wrap=True)
    for name, mean in result["metrics"].items():
        table.add_row(name, mean_ci({"mean": mean, "ci": result["ci"].get(name)}))
    _stdout_console(file=file).print(table)


def format_comparison(result: dict) -> str:
    """`clue compare`'s table (the result of analysis.compare.compare_runs) as text."""
    from cluebench.util import fmt_ci, fmt_number, fmt_p
    from rich.console import Console
    from rich.table import Table

    b, c = result["base"]["label"], result["candidate"]["label"]
    table = Table(title=f"{c} (candidate) − {b} (base)", show_lines=False)
    for col, just in (
        ("task", "left"),
        ("metric", "left"),
        ("base", "right"),
        ("candidate", "right"),
        ("Δ", "right"),
        ("95% CI", "right"),
        ("p", "right"),
        ("p (Holm)", "right"),
        ("n", "right"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for task, metrics in result["tasks"].items():
        for j, (name, m) in enumerate(metrics.items()):
            ci = m["ci"]
            table.add_row(
                task if j == 0 else "",
                name,
                fmt_number(m["base"]),
                fmt_number(m["candidate"]),
                fmt_number(m["delta"]),
                fmt_ci(ci),
                fmt_p(m["p"]),
                fmt_p(m["p_holm"]),
                str(m["n"]),
            )
        table.add_section()
    for key, lv in result["levels"].items():
        ci = lv["ci"]
        table.add_row(
            key.replace("level", "Level ") + ("" if lv.get("comparable") else " *"),
            f"paper's score, {lv['n_tasks']} task{'s' if lv['n_tasks'] != 1 else ''}",
            fmt_number(lv["base"]),
            fmt_number(lv["candidate"]),
            fmt_number(lv["delta"]),
            fmt_ci(ci),
            fmt_p(lv["p"]),
            "",
            "",
        )
    buf = io.StringIO()
    console = Console(file=buf, width=130, force_terminal=False, color_system=None)
    console.print(table)
    if result.get("pair"):
        p = result["pair"]
        console.print(
            f"Lineage: {p['candidate']} ← {p['base']} ({p['relation']}; "
            f"{'verified' if p['verified'] else 'unverified'})"
        )
    for task, r in (result.get("reasoning") or {}).items():
        parts = []
        for side in ("base", "candidate"):
            v = r.get(side)
            parts.append(
                f"{side} no reasoning" if not v else
                f"{side} {v['mean_tokens']:.0f} mean / {v['median_tokens']:.0f} median thinking "
                f"tokens, {v['unfinished_rate']:.1f}% unfinished"
            )
        console.print(f"{task} reasoning: " + "; ".join(parts))
    for task, m in result["matched"].items():
        console.print(
            f"{task}: {m['n_matched']} matched samples "
            f"(base {m['n_base']}, candidate {m['n_candidate']})"
        )
    for key, lv in result["levels"].items():
        for why in lv.get("not_comparable") or []:
            console.print(f"* {key.replace('level', 'Level ')}: not comparable to the published value: {why}", markup=False)
    for note in result["notes"]:
        console.print(f"note: {note}")
    console.print(
        "p: exact McNemar for 0/100 metrics, sign-flip permutation otherwise; "
        "Holm-corrected across the table."
    )
    return buf.getvalue()


def format_models_table(
    pairs: Sequence[Any],
    extra: dict[str, Callable[[Any], str]] | None = None, footer: list[str] | None = None
) -> str:
    """`clue models`: the lineage pairs (analysis.lineage.load_lineage()) as a table, then each entry's evidence in full.
    `extra` adds columns (name -> cell of a pair, e.g. the published scores), `footer` lines
    under the table.

    The ids are never cut (people copy them into `clue run --model`), so the long prose —
    the card quotes and notes — is listed below the table by row number rather than squeezed
    into a column.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Biomedical models and their general bases", show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("biomedical model", no_wrap=True)
    table.add_column("base model", no_wrap=True)
    table.add_column("verified", no_wrap=True)
    table.add_column("reasoning\n(model / base)", no_wrap=True)
    for name in extra or {}:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("relation")
    for n, p in enumerate(pairs, 1):
        table.add_row(
            str(n),
            p.candidate,
            p.base,
            "yes" if p.verified else "no",
            f"{p.reasoning} / {p.base_reasoning}",
            *[cell(p) for cell in (extra or {}).values()],
            p.relation,
        )
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=False, color_system=None)
    console.print(table)
    console.print(
        "verified = stated on the model card as far as checked; written offline, "
        "check the cards before citing."
    )
    for line in footer or []:
        console.print(line, markup=False)
    console.print(
        "reasoning: yes = thinks before answering; hybrid = template switch, thinking on; "
        "opt-in = thinks only when the prompt asks; run models that think with "
        "`clue run --reasoning on`."
    )
    console.print("\nSources and notes:")
    for n, p in enumerate(pairs, 1):
        console.print(f"[{n}] {p.source}" + (f" — {p.note}" if p.note else ""), markup=False)
        if p.reasoning_source:
            console.print(f"    reasoning: {p.reasoning_source}", markup=False)
        if p.base_reasoning_source:
            console.print(f"    base reasoning: {p.base_reasoning_source}", markup=False)
    return buf.getvalue()


def format_check_report(results: Sequence[Any], paper_n: dict[str, int] | None = None) -> str:
    """`clue data check`: task, status, rows vs the paper's n (default: the packaged protocol's),
    sha256, file; one line per problem and per warning."""
    if paper_n is None:
        from cluebench.protocol import load_protocol

        paper_n = {t: spec.n_paper for t, spec in load_protocol().tasks.items()}
    header = ("task", "status", "rows", "paper n", "sha256", "file")
    lines = [header]
    for r in results:
        lines.append((
            r.task,
            r.status,
            "-" if r.rows is None else f"{r.rows:,}",
            f"{int(paper_n.get(r.task, 0)):,}",
            (r.sha256 or "-")[:12],
            str(r.expected_path),
        ))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in lines]
    problems = [f"{r.task}: {r.problem}" for r in results if r.problem]
    if problems:
        out += ["", "Problems:"] + [f"  {p}" for p in problems]
    notes = [f"{r.task}: {w}" for r in results for w in getattr(r, "warnings", [])]
    if notes:
        out += ["", f"Warnings ({len(notes)}; the files are used as they are):"] + [f"  {n}" for n in notes]
    counted = [f"({r.task} {r.rows_note})" for r in results if r.rows is not None and getattr(r, "rows_note", None)]
    if counted:  # a reader whose rows are not what the paper's n counts says so
        out += ["", *counted]
    bad = sum(not r.ok for r in results)
    out += ["", f"{len(results) - bad} of {len(results)} task files found and valid."]
    return "\n".join(out)


def format_fetch_report(results: Sequence[Any]) -> str:
    """`clue data fetch`: one line per task (status, path), then what happened or what to do."""
    return "\n".join(f"{r.task}: {r.status} — {r.path}\n    {r.message}" for r in results)
