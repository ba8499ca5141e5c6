"""From scored samples to the numbers in results.json: metric means with cluster-bootstrap CIs,
the error taxonomy, the paper's level scores and the headline-only level averages.

The paper's level score (:func:`level_scores`, results.json ``levels``): per task the mean of the
metrics the paper publishes for it (:func:`paper_task_score`, the protocol's
``[paper_levels.metrics]``), then the mean over the level's tasks. Fed the published task values,
it reproduces every published Level 1 / Level 2 within 0.01. A score built on a metric computed
otherwise than in the paper (BERTScore with another encoder than SciBERT layer 8, the lexicon
entity F1 in place of UMLS F1) carries the reasons in ``not_comparable``.

Per-sample metrics come from `samples.jsonl` (see docs/run-files.md), read as
:class:`~cluebench.records.SampleRecord`; the functions that take a task's samples or results
entries also take them as the file's dicts (the runner's rows before it writes them). LongHealth's sub-task
metrics are named ``task{k}_<metric>``: they are means over the samples of sub-task k, read from the
sample's ``task{k}_<metric>`` value or, as the runner writes it, its plain ``<metric>`` value. Its
headline (``accuracy``) is the mean of the sub-task accuracies, so each sub-task weighs the same
however many prompts it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from cluebench.analysis.bootstrap import (
    ClusteredMean,
    combine,
    multiplicities,
    percentile_ci,
)
from cluebench.records import SampleRecord, TaskResult, as_samples, as_task_result

SUBTASK_METRIC = re.compile(r"^task(\d+)_(.+)$")

# Error flags of every sample, first in results.json. The others are the task's own (its
# `Task.error_flags`, in its order); they apply to samples that produced an output.
ALWAYS_FLAGS = ("failed", "truncated", "length_capped")
_ALWAYS = set(ALWAYS_FLAGS)
# Fields of a sample's `flags` that describe it but are not error flags (docs/run-files.md).
_NOT_ERRORS = {"tokens_dropped", "answer_survived", "error"}
# Flags the run's reasoning policy may set on any task's samples (run/reasoning.py); reported
# after the task's own, only when the samples carry them.
REASONING_FLAGS = (
    "reasoning_unfinished",  # reasoning on: the reasoning never ended (no answer was given)
    "reasoning_in_output",  # reasoning off: a thinking model's output holds its reasoning
)
# Flags the runner sets on any task's samples only when raised (absent means False), reported
# only when some sample raised them. context_overflow applies to every sample (True here), the
# other two to samples that got an answer.
_RAISED_ONLY = {"context_overflow": True, "empty_answer": False, "content_filtered": False}
RUN_FLAGS = tuple(_RAISED_ONLY)


def is_failed(sample: SampleRecord) -> bool:
    return bool(sample.flags.get("failed")) or sample.output is None


def sample_value(sample: SampleRecord, name: str) -> float:
    """The sample's value of metric `name`, NaN when it does not apply (failed, other sub-task)."""
    if is_failed(sample):
        return np.nan
    metrics = sample.metrics
    m = SUBTASK_METRIC.match(name)
    if m and name not in metrics:
        if sample.subtask is None or int(sample.subtask) != int(m.group(1)):
            return np.nan
        base = m.group(2)
        if base in metrics:
            return _num(metrics[base])
        if base == "parse_failed_rate":
            return 100.0 * bool(sample.flags.get("parse_failed"))
        return np.nan
    if m and sample.subtask is not None and int(sample.subtask) != int(m.group(1)):
        return np.nan
    if name in metrics:
        return _num(metrics[name])
    return np.nan


def _num(x: Any) -> float:
    return np.nan if x is None else float(x)


def headline_components(headline: str, metric_names: Iterable[str]) -> list[str]:
    """The per-sample metrics whose (equally weighted) means make the headline.

    LongHealth lists ``task1_accuracy``… and its headline ``accuracy`` is their mean; any other
    task's headline is a metric of its own.
    """
    parts = sorted(
        (
            n
            for n in metric_names
            if (m := SUBTASK_METRIC.match(n)) and m.group(2) == headline
        ),
        key=lambda n: int(SUBTASK_METRIC.match(n).group(1)),  # type: ignore[union-attr]
    )
    return parts or [headline]


def cluster_codes(samples: list[SampleRecord]) -> tuple[np.ndarray, list[str]]:
    """Integer code per sample for its `cluster` (its id when absent), in first-seen order."""
    index: dict[str, int] = {}
    codes = np.empty(len(samples), dtype=np.int64)
    for i, s in enumerate(samples):
        key = str(s.cluster or s.id)
        codes[i] = index.setdefault(key, len(index))
    return codes, list(index)


def metric_stat(
    samples: list[SampleRecord], codes: np.ndarray, components: list[str]
) -> ClusteredMean:
    values = np.array(
        [[sample_value(s, c) for c in components] for s in samples], dtype=float
    )
    values = values.reshape(len(samples), len(components))
    return ClusteredMean.from_samples(codes, values)


def headline_stat(
    samples: list[SampleRecord], headline: str, metric_names: Iterable[str]
) -> ClusteredMean:
    """The task's headline as a clustered statistic (for level CIs and paired comparisons)."""
    codes, _ = cluster_codes(samples)
    return metric_stat(samples, codes, headline_components(headline, metric_names))


def sample_flags(samples: Iterable[SampleRecord]) -> tuple[str, ...]:
    """The task flags samples carry, in first-seen order (for files whose task is not known)."""
    seen: dict[str, None] = {}
    for s in samples:
        for flag in s.flags:
            if flag not in _ALWAYS and flag not in _NOT_ERRORS:
                seen.setdefault(flag, None)
    return tuple(seen)


def error_summary(
    samples: list[SampleRecord] | list[dict], error_flags: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """{flag: {count, rate, n}}: rate in percent of the n samples the flag applies to.

    `error_flags` are the task's own flags (`Task.error_flags`); None takes those the samples carry.

    A flag applies to a sample when the sample carries it (and, except failed/truncated/
    length_capped, when the request did not fail). `invalid_codes` counts samples with at least
    one invalid code. Flags no sample carries are left out.
    """
    samples = as_samples(samples)
    task_flags = sample_flags(samples) if error_flags is None else tuple(error_flags)
    out: dict[str, dict[str, float]] = {}
    own = tuple(f for f in task_flags if f not in _ALWAYS)
    extra = tuple(f for f in REASONING_FLAGS + RUN_FLAGS if f not in own)
    for flag in ALWAYS_FLAGS + own + extra:
        count = n = 0
        for s in samples:
            flags = s.flags
            if flag in _RAISED_ONLY:
                if not _RAISED_ONLY[flag] and is_failed(s):
                    continue
                value: Any = flags.get(flag, False)
            elif flag == "failed":
                value = is_failed(s)
            elif flag == "length_capped" and flag not in flags:
                value = s.finish_reason == "length"
            elif flag in _ALWAYS:
                value = flags.get(flag, False)
            else:
                if flag not in flags or flags[flag] is None or is_failed(s):
                    continue
                value = flags[flag]
            n += 1
            count += bool(value)
        if flag in _RAISED_ONLY and not count:
            continue
        if n and (
            flag in _ALWAYS or any(flag in s.flags for s in samples)
        ):
            out[flag] = {"count": count, "rate": 100.0 * count / n, "n": n}
    return out


def summarize_task(
    samples: list[SampleRecord] | list[dict],
    *,
    level: int,
    headline: str,
    metric_names: list[str],
    seed: int = 0,
    n_boot: int = 2000,
    error_flags: Iterable[str] | None = None,
) -> dict:
    """results.json's entry for one task: n, failures, metric means with 95% cluster-bootstrap CIs,
    error rates. All metrics share one set of bootstrap replicates (one seeded draw per task)."""
    samples = as_samples(samples)
    names = list(dict.fromkeys([headline, *metric_names]))
    codes, _ = cluster_codes(samples)
    n_failed = sum(is_failed(s) for s in samples)
    n_truncated = sum(bool(s.flags.get("truncated")) for s in samples)
    metrics: dict[str, dict] = {}
    if samples:
        mult = multiplicities(
            np.zeros(int(codes.max()) + 1, dtype=int),
            n_boot,
            np.random.default_rng(seed),
        )
    for name in names:
        comps = (
            headline_components(headline, metric_names) if name == headline else [name]
        )
        stat = metric_stat(samples, codes, comps) if samples else None
        mean = stat.value() if stat is not None else None
        if mean is None:  # every sample failed, or the metric never applies
            metrics[name] = {"mean": None, "ci": None}
            continue
        metrics[name] = {"mean": mean, "ci": percentile_ci(stat.replicates(mult))}
    return {
        "level": level,
        "headline": headline,
        "n": len(samples),
        "n_failed": n_failed,
        "n_truncated": n_truncated,
        "metrics": metrics,
        "errors": error_summary(samples, error_flags),
    }


PAPER_BERTSCORE = "SciBERT (allenai/scibert_scivocab_uncased) layer 8"


def _mean_of(metrics: dict, name: str | None) -> float | None:
    m = metrics.get(name) if name else None
    return None if not isinstance(m, dict) else m.get("mean")


def _bertscore_reason(entry: TaskResult) -> str | None:
    """Why this task's BERTScore is not the paper's, or None when it is."""
    info = (entry.scorers or {}).get("bertscore")
    if not info:
        return f"BERTScore encoder not recorded (the paper's: {PAPER_BERTSCORE})"
    if info.get("paper_setting"):
        return None
    return (f"BERTScore with {info.get('model')} layer {info.get('num_layers')}, "
            f"not the paper's {PAPER_BERTSCORE}")


def paper_task_score(
    entry: TaskResult | dict, wanted: list[str], substitutes: dict[str, str] | None = None
) -> dict:
    """The task's part of the paper's level score: the mean of the means of `wanted` metrics.

    A wanted metric the entry lacks is replaced by its stand-in from `substitutes` (``umls_f1`` ->
    ``entity_f1``) when the entry has that. Returns {"mean", "metrics" (the names averaged),
    "substituted" {paper name: ours}, "missing", "not_comparable" [reasons]}; the mean is over
    the metrics found (None when none is), and a missing metric is itself a reason.
    """
    substitutes = substitutes or {}
    entry = as_task_result(entry)
    metrics = entry.metrics
    used, values, missing = [], [], []
    substituted: dict[str, str] = {}
    for name in wanted:
        chosen = name if _mean_of(metrics, name) is not None else None
        if chosen is None and _mean_of(metrics, substitutes.get(name)) is not None:
            chosen = substituted[name] = substitutes[name]
        if chosen is None:
            missing.append(name)
            continue
        used.append(chosen)
        values.append(float(_mean_of(metrics, chosen)))  # type: ignore[arg-type]
    reasons = []
    for paper_name, ours in substituted.items():
        extractor = ((entry.scorers or {}).get("entities") or {}).get("extractor") or "lexicon"
        reasons.append(f"{ours} ({extractor} entity extractor) stands in for the paper's {paper_name} "
                       "(scispaCy UMLS linker)")
    if any(n.startswith("bertscore") for n in used) and (why := _bertscore_reason(entry)):
        reasons.append(why)
    if missing:
        reasons.append(f"no value for {', '.join(missing)}")
    return {
        "mean": float(np.mean(values)) if values else None,
        "metrics": used,
        "substituted": substituted,
        "missing": missing,
        "not_comparable": reasons,
    }


def level_scores(
    tasks: dict[str, TaskResult] | dict[str, dict], levels: dict[str, list[str]], paper: dict | None = None
) -> dict:
    """The paper's Level 1 / Level 2: {"level1": {"mean", "tasks", "complete", "task_scores",
    "comparable", "not_comparable"}, ...}. `tasks` are results.json task entries; each one's
    ``paper_score`` is used when present, else computed from its metrics with `paper` (the
    protocol's ``paper_levels`` table). The mean is over the level's tasks that have a score;
    `complete` says whether all of them do; `comparable` is True only for a complete level whose
    every metric was computed as in the paper (else `not_comparable` lists why, per task)."""
    out: dict[str, dict] = {}
    for level, members in levels.items():
        scores: dict[str, float] = {}
        reasons: list[str] = []
        for task in members:
            if not tasks.get(task):
                continue
            entry = as_task_result(tasks[task])
            part = entry.paper_score or (
                paper_task_score(entry, list((paper or {}).get("metrics", {}).get(task) or []),
                                 (paper or {}).get("substitutes"))
                if paper and task in (paper.get("metrics") or {}) else None
            )
            if not part or part.get("mean") is None:
                continue
            scores[task] = part["mean"]
            reasons.extend(f"{task}: {r}" for r in part.get("not_comparable") or [])
        complete = len(scores) == len(members)
        if scores and not complete:
            reasons.append(f"only {len(scores)} of the level's {len(members)} tasks were run")
        out[level] = {
            "mean": float(np.mean(list(scores.values()))) if scores else None,
            "tasks": list(scores),
            "complete": complete,
            "task_scores": scores,
            "comparable": bool(scores) and not reasons,
            "not_comparable": reasons,
        }
    return out


def level_averages(tasks: dict[str, TaskResult] | dict[str, dict], levels: dict[str, list[str]]) -> dict:
    """Headline-only level averages (results.json ``headline_levels``; *not* the paper's level
    score, see :func:`level_scores`): {"level1": {"mean", "tasks", "complete"}, ...}, the mean of
    the headline means of the level's tasks that were run; `complete` is False when one of them
    is missing (or has no mean)."""
    out: dict[str, dict] = {}
    for level, members in levels.items():
        values, run = [], []
        for task in members:
            entry = tasks.get(task)
            mean = _headline_mean(as_task_result(entry)) if entry else None
            if mean is not None:
                values.append(mean)
                run.append(task)
        out[level] = {
            "mean": float(np.mean(values)) if values else None,
            "tasks": run,
            "complete": len(run) == len(members),
        }
    return out


def _headline_mean(entry: TaskResult) -> float | None:
    metric = entry.metrics.get(entry.headline or "")
    return None if metric is None else metric.get("mean")


def level_ci(
    samples_by_task: dict[str, list[SampleRecord]] | dict[str, list[dict]],
    entries: dict[str, TaskResult] | dict[str, dict],
    members: list[str],
    *,
    seed: int = 0,
    n_boot: int = 2000,
    components: dict[str, list[str]] | None = None,
) -> list[float] | None:
    """95% CI of a level score: each task's clusters resampled independently, then averaged.
    `components` per task are the metrics whose means make its part (the paper's level score:
    its ``paper_score.metrics``); without them, the task's headline."""
    parts = []
    for task in members:
        if not samples_by_task.get(task) or not entries.get(task):
            continue
        samples, entry = as_samples(samples_by_task[task]), as_task_result(entries[task])
        if components and components.get(task):
            codes, _ = cluster_codes(samples)
            stat = metric_stat(samples, codes, components[task])
        else:
            stat = headline_stat(samples, entry.headline, list(entry.metrics))
        if stat.value() is not None:
            parts.append(stat)
    if not parts:
        return None
    stat = combine(parts, [1.0 / len(parts)] * len(parts))
    rng = np.random.default_rng(seed)
    return percentile_ci(stat.replicates(multiplicities(stat.strata, n_boot, rng)))
