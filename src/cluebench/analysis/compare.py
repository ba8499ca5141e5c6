"""Paired comparison of two runs on the same samples: per-task deltas, CIs, p-values, levels.

Pairing removes the between-sample variance that dominates unpaired comparisons of two means, so
differences of a point or two become visible with a few hundred samples. Samples are matched by
(id, prompt_hash): the same question asked the same way. Runs of different protocols or with
different few-shot examples are refused rather than compared silently.

Statistics: delta = candidate − base over pairs where both have a value; 95% CI from a paired
cluster bootstrap (LongHealth's repeated prompts stay together); p from the exact McNemar test for
0/100 metrics and from a sign-flip permutation test of cluster differences otherwise; Holm's
correction across every p-value in the table. Level deltas are differences of the paper's level
score (per task the mean of the metrics the paper publishes for it, then the mean over the
level's tasks; `levels`), with a CI from resampling every task's clusters jointly; the mean of the
headline deltas alone is kept as `headline_levels` (not the paper's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cluebench.analysis.aggregate import (
    cluster_codes,
    error_summary,
    headline_components,
    is_failed,
    sample_value,
)
from cluebench.analysis.bootstrap import (
    ClusteredMean,
    combine,
    multiplicities,
    percentile_ci,
    sign_flip_p,
)
from cluebench.analysis.lineage import find_pair, identify
from cluebench.analysis.paired import holm, is_binary, mcnemar_exact
from cluebench.analysis.runfiles import Run
from cluebench.errors import ClueError
from cluebench.records import SampleRecord, TaskResult
from cluebench.util import fmt_number, fmt_p

N_PERM = 10_000


def _check_protocols(base: Run, cand: Run) -> None:
    pb, pc = base.protocol, cand.protocol
    if (pb.get("id"), pb.get("sha256")) != (pc.get("id"), pc.get("sha256")):
        raise ClueError(
            f"cannot compare: the runs used different protocols (base {base.path}: "
            f"{pb.get('id')} sha256 {str(pb.get('sha256'))[:12]}; candidate {cand.path}: "
            f"{pc.get('id')} sha256 {str(pc.get('sha256'))[:12]}); rerun both with the same protocol file"
        )


def describe_variant(run: Run) -> str:
    """The run's protocol variant in words ("the paper's protocol" when it has none)."""
    v = run.protocol.get("variant")
    if not v:
        return "the paper's protocol (reasoning off)"
    if v.get("reasoning") == "on":
        return f"reasoning on, {v.get('budget')} thinking tokens on top of each answer cap"
    return ", ".join(f"{k} {val}" for k, val in sorted(v.items()))


def _check_variants(base: Run, cand: Run, allow: bool) -> str | None:
    """Refuse to pair runs of different protocol variants (reasoning on vs off, or different
    thinking budgets) unless asked; return the note that says they were paired anyway."""
    vb, vc = base.protocol.get("variant") or None, cand.protocol.get("variant") or None
    if vb == vc:
        return None
    difference = (
        f"base {base.path}: {describe_variant(base)}; candidate {cand.path}: "
        f"{describe_variant(cand)}"
    )
    if not allow:
        raise ClueError(
            f"cannot compare: the runs used different protocol variants ({difference}); "
            "pass --allow-variant to compare them anyway (e.g. one model with thinking on and off)"
        )
    return f"protocol variants differ ({difference}): the deltas include the variant's effect"


def _shot_ids(run: Run, task: str) -> list[str] | None:
    entry = run.task_result(task)
    if entry is not None and entry.shot_ids is not None:
        return list(entry.shot_ids)
    seen: list[str] = []
    for s in run.samples(task):
        for sid in s.shot_ids:
            if sid not in seen:
                seen.append(sid)
    return seen if run.samples(task) else None


def _match(
    base: list[SampleRecord], cand: list[SampleRecord], task: str, notes: list[str]
) -> list[tuple[SampleRecord, SampleRecord]]:
    """Pairs of samples with the same id and prompt hash.

    When no shared id has the same prompt hash, the prompts differ systematically (e.g. the models'
    tokenizers cut LongHealth's documents differently); then ids alone pair them, with a note.
    """
    by_id = {s.id: s for s in cand}
    shared = [(b, by_id[b.id]) for b in base if b.id in by_id]
    same = [(b, c) for b, c in shared if b.prompt_hash == c.prompt_hash]
    differ = len(shared) - len(same)
    if shared and not same:
        notes.append(
            f"{task}: none of the {len(shared)} shared sample ids has the same prompt hash in both "
            "runs (different chat templates or tokenizers); matched by id alone"
        )
        return shared
    if differ:
        notes.append(
            f"{task}: {differ} shared ids have different prompts and were left unmatched"
        )
    return same


def _metric_names(
    base: Run, cand: Run, task: str, pairs: list[tuple[SampleRecord, SampleRecord]]
) -> tuple[str, list[str]]:
    eb, ec = base.task_result(task) or TaskResult(), cand.task_result(task) or TaskResult()
    headline = eb.headline or ec.headline
    listed = [m for m in eb.metrics if m in ec.metrics]
    if not listed:  # no results.json entries: use what the samples carry
        seen: dict[str, None] = {}
        for b, c in pairs:
            for m in b.metrics:
                if m in c.metrics:
                    seen[m] = None
        listed = list(seen)
    if not headline:
        headline = listed[0] if listed else ""
    return headline, list(dict.fromkeys([headline, *listed]))


def _paired_values(
    pairs: list[tuple[SampleRecord, SampleRecord]], comps: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    vb = np.array([[sample_value(b, c) for c in comps] for b, _ in pairs], dtype=float)
    vc = np.array([[sample_value(c, m) for m in comps] for _, c in pairs], dtype=float)
    vb = vb.reshape(len(pairs), len(comps))
    vc = vc.reshape(len(pairs), len(comps))
    both = np.isfinite(vb) & np.isfinite(vc)
    return np.where(both, vb, np.nan), np.where(both, vc, np.nan)


def _compare_metric(
    pairs: list[tuple[SampleRecord, SampleRecord]],
    codes: np.ndarray,
    comps: list[str],
    mult: np.ndarray,
    seed: int,
) -> tuple[dict, ClusteredMean]:
    vb, vc = _paired_values(pairs, comps)
    sb = ClusteredMean.from_samples(codes, vb)
    sc = ClusteredMean.from_samples(codes, vc)
    sd = ClusteredMean.from_samples(codes, vc - vb)
    n = int(np.count_nonzero(np.isfinite(vb).any(axis=1)))
    base_v, cand_v, delta = sb.value(), sc.value(), sd.value()
    entry: dict[str, Any] = {
        "base": base_v,
        "candidate": cand_v,
        "delta": delta,
        "ci": None,
        "p": None,
        "p_holm": None,
        "n": n,
    }
    if delta is None:
        return entry, sd
    entry["ci"] = percentile_ci(sd.replicates(mult))
    if is_binary(vb) and is_binary(vc):
        entry["p"], entry["discordant"] = _mcnemar(vb, vc)
        entry["test"] = "mcnemar"
    else:
        entry["p"] = sign_flip_p(sd, seed=seed, n_perm=N_PERM)
        entry["test"] = "sign-flip permutation"
    return entry, sd


def _mcnemar(vb: np.ndarray, vc: np.ndarray) -> tuple[float, dict]:
    p, b, c = mcnemar_exact(vb.ravel(), vc.ravel())
    return p, {"base_only": b, "candidate_only": c}


def compare_runs(
    base_dir: Path,
    candidate_dir: Path,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    allow_variant: bool = False,
) -> dict:
    """Paired comparison of two runs (candidate − base); see the module docstring.
    allow_variant: pair runs of different protocol variants (reasoning on vs off), with a note."""
    base, cand = Run.load(base_dir), Run.load(candidate_dir)
    _check_protocols(base, cand)
    notes: list[str] = []
    variant_note = _check_variants(base, cand, allow_variant)
    if variant_note:
        notes.append(variant_note)
    tasks_b, tasks_c = base.tasks, cand.tasks
    for t in tasks_b:
        if t not in tasks_c:
            notes.append(f"{t}: only in the base run, not compared")
    for t in tasks_c:
        if t not in tasks_b:
            notes.append(f"{t}: only in the candidate run, not compared")
    common = [t for t in tasks_b if t in tasks_c]
    for t in common:
        sb, sc = _shot_ids(base, t), _shot_ids(cand, t)
        if sb is not None and sc is not None and sb != sc:
            raise ClueError(
                f"cannot compare task {t}: the runs used different few-shot examples "
                f"(base {sb[:3]}…, candidate {sc[:3]}…); rerun with the same data and protocol"
            )

    out_tasks: dict[str, dict] = {}
    errors: dict[str, dict] = {}
    reasoning: dict[str, dict] = {}
    matched: dict[str, dict] = {}
    headline_diffs: dict[str, ClusteredMean] = {}
    headline_names: dict[str, str] = {}
    paper_diffs: dict[str, tuple[dict, ClusteredMean]] = {}
    paper_reasons: dict[str, list[str]] = {}
    level_of: dict[str, int] = {}
    for i, task in enumerate(common):
        s_base, s_cand = base.samples(task), cand.samples(task)
        pairs = _match(s_base, s_cand, task, notes)
        matched[task] = {
            "n_base": len(s_base),
            "n_candidate": len(s_cand),
            "n_matched": len(pairs),
        }
        if not pairs:
            notes.append(f"{task}: no matched samples")
            continue
        headline, names = _metric_names(base, cand, task, pairs)
        headline_names[task] = headline
        entry = base.task_result(task) or cand.task_result(task) or TaskResult()
        if entry.level is not None:
            level_of[task] = int(entry.level)
        codes, _ = cluster_codes([b for b, _ in pairs])
        mult = multiplicities(
            np.zeros(int(codes.max()) + 1, dtype=int),
            n_boot,
            np.random.default_rng([seed, i]),
        )
        out_tasks[task] = {}
        for name in names:
            comps = headline_components(headline, names) if name == headline else [name]
            res, sd = _compare_metric(pairs, codes, comps, mult, seed)
            if res["n"] == 0 and name != headline:
                continue
            out_tasks[task][name] = res
            if name == headline and res["delta"] is not None:
                headline_diffs[task] = sd
        comps, reasons = _paper_components(base, cand, task)
        if comps:
            res, sd = _compare_metric(pairs, codes, comps, mult, seed)
            if res["delta"] is not None:
                paper_diffs[task] = (res, sd)
                paper_reasons[task] = reasons
        n_failed_pairs = sum(1 for b, c in pairs if is_failed(b) or is_failed(c))
        if n_failed_pairs:
            notes.append(
                f"{task}: {n_failed_pairs} matched pairs left out of the metrics (failed request in a run)"
            )
        listed = [*(base.task_result(task) or TaskResult()).errors, *(cand.task_result(task) or TaskResult()).errors]
        errors[task] = _error_deltas([b for b, _ in pairs], [c for _, c in pairs], list(dict.fromkeys(listed)) or None)
        thinking = _reasoning_deltas(base, cand, task)
        if thinking:
            reasoning[task] = thinking
        if any(s.subtask is not None for s, _ in pairs):
            notes.append(
                f"{task}: McNemar p-values treat each prompt as independent although a question's "
                "prompts are correlated (optimistic); the CIs resample whole questions"
            )

    _apply_holm(out_tasks)
    levels = _levels(
        {t: res for t, (res, _) in paper_diffs.items()},
        {t: sd for t, (_, sd) in paper_diffs.items()},
        level_of,
        seed,
        n_boot,
        base,
        cand,
        notes,
        paper_reasons,
    )
    headline_levels = _levels(
        {t: out_tasks[t][headline_names[t]] for t in headline_diffs},
        headline_diffs,
        level_of,
        seed,
        n_boot,
        base,
        cand,
        [],
        None,
    )
    pair = find_pair(_model_name(base), _model_name(cand))
    pair_info = None
    if pair is not None:
        pair_info = pair.to_dict()
        pair_info["label"] = (
            f"{pair.candidate.split('/')[-1]} vs {pair.base.split('/')[-1]}"
        )
        # True when the run passed as "base" is the biomedical model of the pair
        pair_info["reversed"] = _is_candidate(base, pair)
    return {
        "base": base.identity(),
        "candidate": cand.identity(),
        "pair": pair_info,
        "tasks": out_tasks,
        "levels": levels,
        "headline_levels": headline_levels,
        "paper_scores": {t: res for t, (res, _) in paper_diffs.items()},
        "errors": errors,
        "reasoning": reasoning,
        "matched": matched,
        "notes": notes,
    }


def _model_name(run: Run) -> str:
    m = run.model
    return str(m.get("spec") or m.get("model_id") or run.path.name)


def _is_candidate(run: Run, pair: Any) -> bool:
    who = identify(_model_name(run))
    return who is not None and who[0] == "candidate" and who[1] == pair.candidate


def _apply_holm(tasks: dict[str, dict]) -> None:
    cells = [(t, m) for t, metrics in tasks.items() for m in metrics]
    adjusted = holm([tasks[t][m]["p"] for t, m in cells])
    for (t, m), p in zip(cells, adjusted):
        tasks[t][m]["p_holm"] = p


def _reasoning_deltas(base: Run, cand: Run, task: str) -> dict | None:
    """Each run's reasoning length and unfinished rate for the task (from results.json)."""
    rb = (base.task_result(task) or TaskResult()).reasoning
    rc = (cand.task_result(task) or TaskResult()).reasoning
    if not rb and not rc:
        return None
    keys = ("mean_tokens", "median_tokens", "unfinished_rate")
    return {
        "base": {k: (rb or {}).get(k) for k in keys} if rb else None,
        "candidate": {k: (rc or {}).get(k) for k in keys} if rc else None,
    }


def _error_deltas(
    base: list[SampleRecord], cand: list[SampleRecord], flags: list[str] | None
) -> dict[str, dict]:
    """Rates of each error flag in both runs: the flags their results.json list for the task (in
    that order), or those the samples carry when neither run has a results entry."""
    eb, ec = error_summary(base, flags), error_summary(cand, flags)
    out = {}
    for flag in dict.fromkeys([*eb, *ec]):
        rb = eb.get(flag, {}).get("rate")
        rc = ec.get(flag, {}).get("rate")
        out[flag] = {
            "base_rate": rb,
            "candidate_rate": rc,
            "delta": None if rb is None or rc is None else rc - rb,
        }
    return out


def _paper_components(base: Run, cand: Run, task: str) -> tuple[list[str] | None, list[str]]:
    """The metrics whose means make the task's part of the paper's level score, when both runs
    recorded the same ones (results.json ``paper_score.metrics``), and why that part is not the
    paper's (either run's reasons)."""
    pb = (base.task_result(task) or TaskResult()).paper_score or {}
    pc = (cand.task_result(task) or TaskResult()).paper_score or {}
    if not pb.get("metrics") or pb.get("metrics") != pc.get("metrics"):
        return None, []
    reasons = list(dict.fromkeys([*(pb.get("not_comparable") or []), *(pc.get("not_comparable") or [])]))
    return list(pb["metrics"]), reasons


def _levels(
    heads: dict[str, dict],
    diffs: dict[str, ClusteredMean],
    level_of: dict[str, int],
    seed: int,
    n_boot: int,
    base: Run,
    cand: Run,
    notes: list[str],
    reasons: dict[str, list[str]] | None,
) -> dict[str, dict]:
    """Level deltas from per-task scores `heads` ({base, candidate, delta}) and their paired
    difference statistics `diffs`; `reasons` per task (None: headline levels, no comparability)."""
    out: dict[str, dict] = {}
    for level in sorted(set(level_of.values())):
        members = [t for t in heads if level_of.get(t) == level and t in diffs]
        if not members:
            continue
        parts = [heads[t] for t in members]
        stat = combine([diffs[t] for t in members], [1.0 / len(members)] * len(members))
        rng = np.random.default_rng([seed, 1000 + level])
        key = f"level{level}"
        out[key] = {
            "base": float(np.mean([h["base"] for h in parts])),
            "candidate": float(np.mean([h["candidate"] for h in parts])),
            "delta": float(np.mean([h["delta"] for h in parts])),
            "ci": percentile_ci(
                stat.replicates(multiplicities(stat.strata, n_boot, rng))
            ),
            "p": sign_flip_p(stat, seed=seed, n_perm=N_PERM),
            "n_tasks": len(members),
            "tasks": members,
        }
        listed = set()
        for run in (base, cand):
            listed.update(
                run.results.levels.get(key, {}).get("tasks") or []
            )
        missing = sorted(listed - set(members))
        if missing:
            notes.append(
                f"{key}: average over {len(members)} tasks; not in both runs: {', '.join(missing)}"
            )
        if reasons is not None:
            why = [f"{t}: {r}" for t in members for r in reasons.get(t, [])]
            for run in (base, cand):  # a level neither run completed ("only 2 of the level's 3 tasks")
                lvl = run.results.levels.get(key, {})
                why += [r for r in lvl.get("not_comparable") or [] if r.startswith("only ") and r not in why]
            if missing:
                why.append(f"not in both runs: {', '.join(missing)}")
            out[key]["comparable"] = not why
            out[key]["not_comparable"] = why
    return out
