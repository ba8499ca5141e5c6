"""Everything the report shows, gathered from run files into plain dicts (no HTML here).

Run-file content is read through its records (:mod:`cluebench.records`): a task's results are a
:class:`~cluebench.records.TaskResult`, its samples :class:`~cluebench.records.SampleRecord`.

Reads only run directories (docs/run-files.md) and the protocol file (which tasks are
credentialed, task levels/headlines for runs whose results.json lacks a task). Never calls a model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from cluebench.analysis.aggregate import (
    ALWAYS_FLAGS,
    headline_components,
    is_failed,
    level_ci,
    level_scores,
    paper_task_score,
    sample_value,
    summarize_task,
)
from cluebench.analysis.compare import compare_runs
from cluebench.analysis.lineage import find_pair, identify
from cluebench.analysis.published import V3_LABEL, find_published, v3_models, v3_source
from cluebench.analysis.runfiles import Run
from cluebench.errors import ClueError
from cluebench.protocol import Protocol, load_protocol
from cluebench.records import ConfigFile, SampleRecord, TaskResult

N_EXAMPLES = 2  # worst and best samples shown per task and run
MAX_TEXT = 1500  # characters of an input shown before "… N more characters"

_SECRET_KEY = re.compile(
    r"(api[_-]?key|secret|passw|authoriz|bearer|credential|cookie|"
    r"^env$|environ|access[_-]?token|^token$|_token$|hf_token)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"^(sk-|hf_|ghp_|gho_|xox[bap]-|AKIA|Bearer\s)[A-Za-z0-9_\-./+=]{8,}"
)


def credentialed_tasks(runs: list[Run]) -> set[str]:
    """Tasks whose data is under a data-use agreement: protocol flag or results.json field."""
    out = {t for t, spec in load_protocol().tasks.items() if spec.credentialed}
    for run in runs:
        out |= {t for t, spec in run.protocol_spec.tasks.items() if spec.credentialed}
        for task, entry in run.results.tasks.items():
            if entry.credentialed:
                out.add(task)
    return out


def task_entry(run: Run, task: str) -> TaskResult | None:
    """The task's results.json entry, or one computed from its samples (e.g. an unfinished run)."""
    entry = run.task_result(task)
    if entry is not None:
        return entry
    spec = run.protocol_spec.tasks.get(task)
    samples = run.samples(task)
    if not spec or not samples:
        return None
    entry = TaskResult.from_dict(summarize_task(
        samples,
        level=spec.level,
        headline=spec.headline,
        metric_names=list(spec.metrics),
    ))
    paper = run.protocol_spec.paper_levels.as_dict()
    if task in paper["metrics"]:
        entry.paper_score = paper_task_score(entry, paper["metrics"][task], paper["substitutes"])
    return entry


def report_protocol(runs: list[Run]) -> Protocol:
    """The protocol whose levels a report of `runs` shows: the runs' own when they share one,
    else the default."""
    found = {run.protocol_spec.sha256: run.protocol_spec for run in runs}
    return next(iter(found.values())) if len(found) == 1 else load_protocol()


def paper_levels(runs: list[Run]) -> dict:
    """The protocol's definition of the paper's level score ([paper_levels])."""
    return report_protocol(runs).paper_levels.as_dict()


def levels_map(runs: list[Run]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in report_protocol(runs).levels.items()}


def scrub(obj: Any) -> Any:
    """Config with anything that looks like a credential removed (keys and values)."""
    if isinstance(obj, dict):
        return {
            k: ("[removed]" if _SECRET_KEY.search(str(k)) else scrub(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    if isinstance(obj, str) and _SECRET_VALUE.search(obj.strip()):
        return "[removed]"
    return obj


def unique_labels(runs: list[Run]) -> list[str]:
    labels = [r.label for r in runs]
    return [
        lab if labels.count(lab) == 1 else f"{lab} ({r.path.name})"
        for lab, r in zip(labels, runs)
    ]


def _cell(metrics: dict[str, dict] | None, headline: str, n: int | None) -> dict | None:
    """A leaderboard cell: the headline's mean among a task's `metrics` (name -> {"mean", "ci"};
    LongHealth: the mean of its sub-tasks); `n` the samples behind it (None: published)."""
    if metrics is None:
        return None
    m = metrics.get(headline)
    if m and m.get("mean") is not None:
        return {"mean": m["mean"], "ci": m.get("ci"), "n": n}
    parts = [metrics.get(c, {}).get("mean") for c in headline_components(headline, list(metrics))]
    if parts and all(v is not None for v in parts):
        return {"mean": float(np.mean(parts)), "ci": None, "n": None}
    return None


def leaderboard(
    runs: list[Run], labels: list[str], tasks: list[str], seed: int, *, published: bool = True
) -> dict:
    """Rows per run: each task's headline (mean, CI) and the paper's level scores with
    joint-bootstrap CIs; then (with `published`) the paper's v3 rows, marked as published."""
    levels = levels_map(runs)
    paper = paper_levels(runs)
    rows = []
    for run, label in zip(runs, labels):
        entries = {t: e for t in run.tasks if (e := task_entry(run, t))}
        cells = {
            t: _cell(entries[t].metrics, entries[t].headline or "", entries[t].n) if t in entries else None
            for t in tasks
        }
        lv = level_scores(entries, levels, paper)
        for key in levels:
            if lv[key]["mean"] is not None:
                lv[key]["ci"] = level_ci(
                    {t: run.samples(t) for t in lv[key]["tasks"]},
                    entries,
                    lv[key]["tasks"],
                    seed=seed,
                    components={t: entries[t].paper_score["metrics"] for t in lv[key]["tasks"]
                                if (entries[t].paper_score or {}).get("metrics")},
                )
        rows.append({"label": label, "cells": cells, "levels": lv, "model": run.model, "published": False})
    headlines = {}
    for t in tasks:
        for run in runs:
            e = task_entry(run, t)
            if e:
                headlines[t] = e.headline
                break
        else:
            spec = report_protocol(runs).tasks.get(t)
            headlines[t] = spec.headline if spec else ""
    best: dict[str, float] = {}
    for key in [*tasks, *levels]:
        vals = [
            (r["cells"].get(key) or r["levels"].get(key) or {}).get("mean")
            for r in rows
        ]
        vals = [v for v in vals if v is not None]
        if len(vals) > 1:
            best[key] = max(vals)
    if published:
        for m in v3_models():
            if m.level1 is None and m.level2 is None:
                continue
            values = m.entries()
            rows.append({
                "label": m.name,
                "cells": {t: _cell(values[t]["metrics"] if t in values else None, headlines.get(t) or "", None)
                          for t in tasks},
                "levels": {k: {"mean": m.level(k), "ci": None, "complete": True, "comparable": True,
                               "tasks": list(levels[k]), "not_comparable": []} for k in levels},
                "model": {"spec": V3_LABEL, "model_id": m.hf_id or ""},
                "published": True,
            })
    return {
        "rows": rows,
        "tasks": tasks,
        "levels": list(levels),
        "best": best,
        "headlines": headlines,
        "published_source": v3_source() if published else None,
        "not_comparable": [
            {"label": r["label"], "level": k, "reasons": lv.get("not_comparable") or []}
            for r in rows if not r["published"] for k, lv in r["levels"].items()
            if lv.get("mean") is not None and not lv.get("comparable")
        ],
    }


def published_differences(runs: list[Run], labels: list[str]) -> list[dict]:
    """For each run of a model the paper evaluated: ours vs the published value, per task (the
    task's part of the paper's level score, i.e. the mean of its published metrics) and level."""
    levels = levels_map(runs)
    paper = paper_levels(runs)
    out = []
    for run, label in zip(runs, labels):
        name = str(run.model.get("spec") or run.model.get("model_id") or run.path.name)
        pub = find_published(name) or find_published(str(run.model.get("model_id") or ""))
        if pub is None:
            continue
        entries = {t: e for t in run.tasks if (e := task_entry(run, t))}
        ours = level_scores(entries, levels, paper)
        theirs = level_scores(pub.entries(), levels, paper)
        rows = []
        for key, members in levels.items():
            for t in members:
                mine = (entries[t].paper_score if t in entries else None) or {}
                published = theirs[key]["task_scores"].get(t)
                if mine.get("mean") is None:
                    continue
                rows.append(_diff_row(t, mine["mean"], published, mine.get("not_comparable") or [], False))
            lv = ours[key]
            if lv["mean"] is not None:
                rows.append(_diff_row(f"Level {key[5:]}", lv["mean"], pub.level(key), lv["not_comparable"], True))
        out.append({"label": label, "published_name": pub.name, "hf_id": pub.hf_id, "rows": rows})
    return out


def _diff_row(what: str, ours: float, published: float | None, reasons: list[str], level: bool) -> dict:
    return {
        "what": what,
        "ours": ours,
        "published": published,
        "delta": None if published is None else ours - published,
        "comparable": not reasons,
        "reasons": reasons,
        "level": level,
    }


def detect_pairs(runs: list[Run]) -> list[tuple[int, int, dict | None]]:
    """(base index, candidate index, lineage pair) for each biomedical/base pair among the runs.

    Without any lineage match and exactly two runs, the first is the base and the second the
    candidate, as `clue report BASE CANDIDATE` implies.
    """
    names = [
        str(r.model.get("spec") or r.model.get("model_id") or r.path.name) for r in runs
    ]
    out = []
    for i, j in ((i, j) for i in range(len(runs)) for j in range(len(runs)) if i != j):
        who = identify(names[j])
        pair = find_pair(names[i], names[j])
        if pair and who and who[0] == "candidate" and who[1] == pair.candidate:
            out.append((i, j, pair.to_dict()))
    if not out and len(runs) == 2:
        out.append((0, 1, None))
    return out


def comparisons(
    runs: list[Run], labels: list[str], seed: int, n_boot: int
) -> tuple[list[dict], list[str]]:
    """compare_runs for every detected pair; a pair that cannot be compared becomes a note."""
    out, notes = [], []
    for i, j, pair in detect_pairs(runs):
        try:
            # a report shows what it is given: runs of different protocol variants (one model
            # with thinking on and off) are compared, with the note that says so
            res = compare_runs(
                runs[i].path, runs[j].path, seed=seed, n_boot=n_boot, allow_variant=True
            )
        except ClueError as e:
            notes.append(f"{labels[j]} vs {labels[i]}: {e}")
            continue
        res["base_label"], res["candidate_label"] = labels[i], labels[j]
        res["lineage"] = pair
        out.append(res)
    return out, notes


def forest_panels(comps: list[dict]) -> list[dict]:
    panels = []
    for c in comps:
        rows = []
        for task, metrics in c["tasks"].items():
            head = next(iter(metrics.values()), None)  # headline is listed first
            if head is not None:
                name = next(iter(metrics))
                rows.append(
                    {
                        "label": f"{task} ({name})",
                        "delta": head["delta"],
                        "ci": head["ci"],
                    }
                )
        for key, lv in c["levels"].items():
            mark = "" if lv.get("comparable") else " *"
            rows.append(
                {
                    "label": f"Level {key[5:]} (paper's score){mark}",
                    "delta": lv["delta"],
                    "ci": lv["ci"],
                    "level": True,
                }
            )
        if rows:
            panels.append(
                {"title": f"{c['candidate_label']} − {c['base_label']}", "rows": rows}
            )
    return panels


def per_sample_headline(samples: list[SampleRecord], entry: TaskResult) -> np.ndarray:
    comps = headline_components(entry.headline or "", list(entry.metrics))
    vals = np.array([[sample_value(s, c) for c in comps] for s in samples], dtype=float)
    if vals.size == 0:
        return np.array([])
    with np.errstate(all="ignore"):
        return (
            np.nanmax(np.where(np.isnan(vals), -np.inf, vals), axis=1)
            if len(comps) > 1
            else vals[:, 0]
        )


def _clip(text: Any) -> str:
    if text is None:
        return ""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n… [{len(text) - MAX_TEXT:,} more characters]"


def examples(run: Run, task: str, entry: TaskResult, redact: bool) -> dict:
    """The worst and best answered samples by headline metric (ties broken by id)."""
    samples = [s for s in run.samples(task) if not is_failed(s)]
    vals = per_sample_headline(samples, entry) if samples else np.array([])
    ok = [(float(v), s.id, s) for v, s in zip(vals, samples) if np.isfinite(v)]
    ok.sort(key=lambda x: (x[0], x[1]))
    picked = [("worst", x) for x in ok[:N_EXAMPLES]]
    picked += [("best", x) for x in ok[::-1][:N_EXAMPLES] if x not in ok[:N_EXAMPLES]]
    out = []
    for kind, (v, sid, s) in picked:
        flags = [
            k if isinstance(f, bool) else f"{k}={f}"
            for k, f in s.flags.items()
            if f and k != "answer_survived"
        ]
        out.append(
            {
                "kind": kind,
                "id": sid,
                "value": v,
                "input": None if redact else _clip(s.input),
                "reference": None if redact else _clip(s.reference),
                "output": None if redact else _clip(s.output),
                "reasoning": None if redact else _clip(s.reasoning),
                "reasoning_tokens": s.reasoning_tokens,
                "parsed": None if redact else _clip(s.parsed),
                "metrics": s.metrics,
                "flags": flags,
            }
        )
    return {"items": out, "redacted": redact}


def truncation(run: Run, task: str) -> dict:
    samples = run.samples(task)
    n = len(samples)
    trunc = [s for s in samples if s.flags.get("truncated")]
    dropped = [int(s.flags.get("tokens_dropped") or 0) for s in trunc]
    survived = [bool(s.flags.get("answer_survived", True)) for s in trunc]
    capped = sum(
        1 for s in samples if s.flags.get("length_capped") or s.finish_reason == "length"
    )
    pt = [s.prompt_tokens for s in samples if isinstance(s.prompt_tokens, (int, float))]
    ct = [s.completion_tokens for s in samples if isinstance(s.completion_tokens, (int, float))]
    return {
        "n": n,
        "truncated": len(trunc),
        "truncated_rate": 100.0 * len(trunc) / n if n else None,
        "median_dropped": float(np.median(dropped)) if dropped else None,
        "max_dropped": max(dropped) if dropped else None,
        "answer_survived_rate": 100.0 * sum(survived) / len(survived)
        if survived
        else None,
        "length_capped": capped,
        "length_capped_rate": 100.0 * capped / n if n else None,
        "mean_prompt_tokens": float(np.mean(pt)) if pt else None,
        "max_prompt_tokens": max(pt) if pt else None,
        "mean_completion_tokens": float(np.mean(ct)) if ct else None,
    }


def error_rows(
    runs: list[Run], labels: list[str], tasks: list[str]
) -> tuple[list[dict], list[str]]:
    rows, seen = [], set()
    for t in tasks:
        for run, label in zip(runs, labels):
            e = task_entry(run, t)
            if e is None:
                continue
            seen.update(e.errors)
            rows.append({"label": label, "task": t, "n": e.n, "errors": e.errors})
    # every task's own flags, in the order the tasks list them (results.json keeps that order)
    order = list(ALWAYS_FLAGS) + [f for r in rows for f in r["errors"]]
    flags = [f for f in dict.fromkeys(order) if f in seen]
    return rows, flags


def reasoning_rows(runs: list[Run], labels: list[str], tasks: list[str]) -> list[dict]:
    """Per run and task: reasoning length, unfinished share and headline by reasoning length
    (results.json's `reasoning` entries; none for runs without reasoning)."""
    rows = []
    for t in tasks:
        for run, label in zip(runs, labels):
            e = task_entry(run, t)
            if e is not None and e.reasoning:
                rows.append({"label": label, "task": t, "reasoning": e.reasoning})
    return rows


def all_tasks(runs: list[Run]) -> list[str]:
    order = [t for lv in levels_map(runs).values() for t in lv]
    present = {t for r in runs for t in r.tasks}
    return [t for t in order if t in present] + sorted(present - set(order))


def load_runs(run_dirs: list[Path]) -> list[Run]:
    if not run_dirs:
        raise ClueError("clue report: give at least one run directory")
    return [Run.load(d) for d in run_dirs]


def run_summary(run: Run, label: str) -> dict:
    return {
        "label": label,
        "dir": str(run.path),
        "spec": run.model.get("spec") or "",
        "model_id": run.model.get("model_id") or "",
        "protocol": run.protocol,
        "reasoning": run.reasoning,
        "decoding": run.decoding,
        "tasks": run.tasks,
        "config": scrub(run.config.to_dict()) if run.config != ConfigFile() else {},
    }
