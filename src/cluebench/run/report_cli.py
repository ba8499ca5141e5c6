"""Terminal output of `clue run` and `clue score`: a results table, then where the files are."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _fmt(metric: dict | None) -> str:
    if not metric or metric.get("mean") is None:
        return "-"
    lo, hi = metric.get("ci") or (None, None)
    ci = f" [{lo:.1f}, {hi:.1f}]" if lo is not None and hi is not None else ""
    return f"{metric['mean']:.2f}{ci}"


def print_run_summary(outcome) -> None:  # type: ignore[no-untyped-def]
    console = Console()
    results = outcome.results
    variant = results["protocol"].get("variant")
    protocol = results["protocol"]["id"] + (
        f", variant: reasoning on, budget {variant.get('budget')}" if variant else ""
    )
    table = Table(title=f"CLUE results — {results['model']['spec']} (protocol {protocol})")
    for col in ("level", "task", "n", "headline", "mean [95% CI]", "data"):
        table.add_column(col)
    for task_id, t in results["tasks"].items():
        head = t["headline"]
        data = "synthetic demo" if t["data"]["synthetic"] else t["data"]["path"]
        n = str(t["n"]) + (f" ({t['n_failed']} failed)" if t.get("n_failed") else "")
        table.add_row(str(t["level"]), task_id, n, head, _fmt(t["metrics"].get(head)), data)
    caveats = []
    for name, lvl in results["levels"].items():
        if lvl.get("mean") is not None:
            note = "" if lvl.get("complete") else " (partial)"
            mark = "" if lvl.get("comparable") else " *"
            table.add_row(name[-1], f"Level {name[-1]} (paper's score){note}", "", "", f"{lvl['mean']:.2f}{mark}", "")
            caveats += [f"Level {name[-1]}: {r}" for r in lvl.get("not_comparable") or []]
    console.print(table)
    if caveats:
        console.print("* not comparable to the published value:")
        for line in caveats:
            console.print(f"  {line}", markup=False)
    _print_reasoning(console, results)
    if any(t["data"]["synthetic"] for t in results["tasks"].values()):
        console.print(
            "[yellow]Some tasks ran on the bundled SYNTHETIC demo set (no real data found); "
            "set --data-dir or CLUE_DATA_DIR for real numbers.[/yellow]"
        )
    if outcome.n_failed:
        console.print(
            f"[red]{outcome.n_failed} samples failed after retries; they are excluded from the "
            "means. Run the same command again to retry only those.[/red]"
        )
    console.print(f"run directory: {outcome.out}")
    if outcome.report is not None:
        console.print(f"report: {outcome.report}")


def _print_reasoning(console: Console, results: dict) -> None:
    """One line per task that carried reasoning: its length and how often it never finished."""
    for task_id, t in results["tasks"].items():
        r = t.get("reasoning")
        if not r:
            continue
        console.print(
            f"{task_id} reasoning: {r['mean_tokens']:.0f} mean / {r['median_tokens']:.0f} median "
            f"thinking tokens; {r['unfinished']} of {r['n']} unfinished "
            f"({r['unfinished_rate']:.1f}%, scored as no answer)"
        )
    errors = [
        (task_id, t["errors"]["reasoning_in_output"]["count"])
        for task_id, t in results["tasks"].items()
        if (t.get("errors") or {}).get("reasoning_in_output", {}).get("count")
    ]
    for task_id, count in errors:
        console.print(
            f"[yellow]{task_id}: {count} outputs hold the model's reasoning and were scored raw "
            "(--reasoning off, the paper's protocol); try --reasoning on[/yellow]"
        )


def print_score(result: dict) -> None:
    console = Console()
    table = Table(title=f"{result['task']} — {result['n']} predictions")
    table.add_column("metric")
    table.add_column("mean [95% CI]")
    for name, mean in result["metrics"].items():
        table.add_row(name, _fmt({"mean": mean, "ci": result["ci"].get(name)}))
    console.print(table)
