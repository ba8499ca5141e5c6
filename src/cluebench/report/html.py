"""One self-contained HTML report from run directories: no CDN, no scripts fetched, no requests.

Figures are inline SVG; CSS is inline; the little JavaScript there is (none needed) is avoided so
the file renders the same in a browser, an e-mail client or a slide tool's web view.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from cluebench import __version__
from cluebench.records import TaskResult
from cluebench.report import collect, figures
from cluebench.util import fmt_ci, fmt_number, fmt_p, write_text_atomic

SEED = 0
N_BOOT = 2000


def _heat(value: float | None, best: float | None) -> str:
    """A light blue wash proportional to the value (0-100): readable and colour-blind safe."""
    if value is None:
        return ""
    a = max(0.0, min(1.0, value / 100.0)) * 0.35
    return f"background: rgba(0, 114, 178, {a:.3f})"


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("cluebench.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fmt=fmt_number,
        fmt_ci=lambda ci: fmt_ci(ci, empty=""),
        fmt_p=fmt_p,
        heat=_heat,
        tojson_pretty=lambda o: json.dumps(o, indent=2, sort_keys=True, default=str),
    )
    return env


def _distribution_figure(
    task: str, labels: list[str], runs, entries: list[TaskResult | None]
) -> str | None:
    present = [(lab, run, e) for lab, run, e in zip(labels, runs, entries) if e is not None]
    if not present:
        return None
    headline = present[0][2].headline
    values = [
        collect.per_sample_headline(run.samples(task), e) for _, run, e in present
    ]
    finite = (
        np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    )
    metric_names = list(present[0][2].metrics)
    binary = finite.size > 0 and bool(np.all((finite == 0) | (finite == 100)))
    if binary or finite.size == 0:
        comps = collect.headline_components(headline, metric_names)
        shown = [headline] + (
            [c for c in comps if c != headline] if len(comps) > 1 else []
        )
        shown += [
            m
            for m in metric_names
            if m not in shown and "accuracy" in m and not m.startswith("task")
        ]
        return figures.dot_ci(
            [lab for lab, _, _ in present], shown, [e for _, _, e in present], task
        )
    return figures.box_strip([lab for lab, _, _ in present], values, headline, task)


def demo_banner(runs: list) -> str | None:
    """The notice at the top of the report when numbers come from the synthetic demo set."""
    synthetic = sorted(
        {t for r in runs for t, e in r.results.tasks.items() if (e.data or {}).get("synthetic")}
    )
    if not synthetic:
        return None
    sized = any(e.demo for r in runs for e in r.results.tasks.values())
    every = all(
        (e.data or {}).get("synthetic") for r in runs for e in r.results.tasks.values()
    )
    which = "every task" if every else ", ".join(synthetic)
    return (
        f"Synthetic demo set ({which}): invented texts"
        + (", at the demo's sizes and budgets, not the paper's" if sized else "")
        + ". These numbers show that cluebench works, not how good a model is; run with "
        "--data-dir for real results."
    )


def build_context(run_dirs: list[Path], *, redact: bool, title: str | None) -> dict:
    runs = collect.load_runs([Path(d) for d in run_dirs])
    labels = collect.unique_labels(runs)
    tasks = collect.all_tasks(runs)
    board = collect.leaderboard(runs, labels, tasks, SEED)
    comps, comp_notes = collect.comparisons(runs, labels, SEED, N_BOOT)
    panels = collect.forest_panels(comps)
    forest = figures.delta_forest(panels) if panels else None
    secret_tasks = collect.credentialed_tasks(runs) if redact else set()

    task_sections = []
    for t in tasks:
        entries = [collect.task_entry(r, t) for r in runs]
        per_run = []
        for run, label, e in zip(runs, labels, entries):
            if not e:
                continue
            per_run.append(
                {
                    "label": label,
                    "entry": e,
                    "examples": collect.examples(run, t, e, redact=t in secret_tasks),
                    "truncation": collect.truncation(run, t),
                }
            )
        task_sections.append(
            {
                "task": t,
                "headline": board["headlines"].get(t, ""),
                "figure": _distribution_figure(t, labels, runs, entries),
                "runs": per_run,
                "credentialed": t in secret_tasks,
            }
        )
    error_rows, error_flags = collect.error_rows(runs, labels, tasks)
    published_diffs = collect.published_differences(runs, labels)
    reasoning_rows = collect.reasoning_rows(runs, labels, tasks)
    demo = demo_banner(runs)
    if not title:  # a title the user gave is kept as given; the banner below the title still says it
        title = "CLUE results: " + ", ".join(labels) if len(labels) <= 3 else f"CLUE results: {len(labels)} models"
        if demo:
            title = f"SYNTHETIC DEMO — {title}"
    return {
        "title": title,
        "demo_banner": demo,
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "runs": [collect.run_summary(r, lab) for r, lab in zip(runs, labels)],
        "board": board,
        "published_diffs": published_diffs,
        "comparisons": comps,
        "comparison_notes": comp_notes,
        "forest": forest,
        "tasks": task_sections,
        "error_rows": error_rows,
        "error_flags": error_flags,
        "reasoning_rows": reasoning_rows,
        "redact": redact,
        "redacted_tasks": sorted(secret_tasks),
    }


def render(context: dict) -> str:
    return _env().get_template("report.html.j2").render(**context)


def write_report(
    run_dirs: list[Path], out: Path, *, redact: bool = False, title: str | None = None
) -> Path:
    """Write the HTML report for these runs to `out` (a file, or a directory to hold
    report.html), atomically, and return its path."""
    out = Path(out)
    if out.is_dir():  # `--out DIR`: the report goes into it
        out = out / "report.html"
    html = render(build_context(run_dirs, redact=redact, title=title))
    write_text_atomic(out, html, shared=True)  # a report is meant to be shared
    return out
