"""`clue run`: datasets → samples → (store | backend) → scores → run directory.

Everything is keyed so that running the same command again resumes: answered requests come from
the store, and the final files are a pure function of the samples and the stored answers (sorted,
no timestamps), so an interrupted-then-resumed run writes exactly what an uninterrupted one does.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from filelock import FileLock, Timeout

from cluebench.errors import ConfigError, DataError, DataProtectionError, RunFileError, RunLockedError
from cluebench.models.base import Backend, BackendOptions, Decoding
from cluebench.models.urls import public_url
from cluebench.records import FORMAT_VERSION, ResultsFile, SampleRecord, TaskResult
from cluebench.protocol import DEFAULT_PROTOCOL, Protocol, load_protocol
from cluebench.util import remove_stale_temps, write_json_atomic, write_jsonl_atomic, write_text_atomic
from cluebench.run.budget import BackendBudget
from cluebench.run.cached import generate_missing, keyed_requests, prompt_tokens_for_eta
from cluebench.run.environment import environment
from cluebench.run.reasoning import Answer, ReasoningPolicy, answer_of, resolve, validate
from cluebench.run.store import ResponseStore, messages_hash, text_hash
from cluebench.tasks.base import Sample, Task
from cluebench.tasks.registry import get_task, resolve_task_class
from cluebench.tasks.scorers import Scorers
from cluebench.terminal import PendingRequest, RunProgress, TaskPlan, note

log = logging.getLogger(__name__)


@dataclass
class RunSettings:
    model: str | None = None
    tasks: list[str] = field(default_factory=list)
    limit: int | None = None
    data_dir: Path | None = None
    out: Path | None = None
    backend: BackendOptions = field(default_factory=BackendOptions)
    temperature: float | None = None
    top_p: float = 1.0
    seed: int | None = None
    allow_remote_credentialed_data: bool = False
    longhealth_budget: int | None = None
    longhealth_budget_23: int | None = None
    bertscore_model: str | None = None
    bertscore_layers: int | None = None
    entity_extractor: str = "auto"
    bootstrap_seed: int = 0
    write_report: bool = True
    progress: bool | str | None = None  # None: bars on a terminal, log lines elsewhere; False: off
    full: bool = False  # the synthetic demo set at full size (no demo limits and budgets)
    progress_interval_s: float = 30.0
    allow_model_change: bool = False
    protocol: str = DEFAULT_PROTOCOL  # a packaged protocol's name or a path to a .toml file
    reasoning: str = "off"  # off (the paper's protocol) | on | auto; see run.reasoning
    reasoning_budget: int | None = None  # thinking tokens on top of each answer cap
    notice: Callable[[str], None] | None = None  # one-line messages for the user (auto's decision)
    reasoning_known: str | None = None  # lineage evidence that the model thinks (for auto)


@dataclass
class RunOutcome:
    out: Path
    results: dict
    report: Path | None
    n_failed: int


def model_slug(spec: str | None) -> str:
    """A deterministic directory name for a model spec, so repeating a command resumes it."""
    if not spec or spec == "default":
        return "default-smollm2-135m-instruct"
    prefix, _, rest = spec.partition(":")
    name = Path(rest.rstrip("/")).name or rest
    if name.endswith(".gguf"):
        name = name[: -len(".gguf")]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{prefix}-{name}").strip("-").lower()
    return slug or "model"


def default_out(spec: str | None) -> Path:
    return Path("runs") / model_slug(spec)


def _write(writer: Any, path: Path, data: Any) -> None:
    """An atomic write whose OS errors (read-only directory, full disk) are one clear line; the
    old file, if any, is untouched and the store keeps every answer."""
    try:
        writer(path, data)
    except OSError as exc:
        hint = "the disk is full" if exc.errno == 28 else "the run directory is not writable"
        raise RunFileError(
            f"cannot write {path}: {exc.strerror or exc} ({hint}; every answer so far is kept in "
            "responses.sqlite, so the same command resumes once this is fixed)"
        ) from None


def _decoding(settings: RunSettings, protocol: Protocol, max_tokens: int) -> Decoding:
    temperature = protocol.default_temperature if settings.temperature is None else settings.temperature
    seed = protocol.default_seed if settings.seed is None else settings.seed
    return Decoding(max_tokens=max_tokens, temperature=float(temperature), top_p=settings.top_p, seed=int(seed))


def _check_data_protection(
    backend: Backend, tasks: list[Task], datasets: dict[str, Any], allow: bool
) -> list[str]:
    """Refuse, before any connection is opened, to send DUA-bound data to another machine."""
    hosts = backend.remote_hosts()
    if not hosts:
        return []
    bound = [t.id for t in tasks if t.credentialed and not datasets[t.id].synthetic]
    if bound:
        DataProtectionError.check(f"credentialed data ({', '.join(bound)})", hosts, allow)
    return bound


def check_run_identity(out: Path, identity: dict, allow: bool) -> None:
    """Refuse to resume a run directory under another model or server: its answers would be
    mixed with the new one's (an `openai:` name means nothing across servers). Replicas listed
    together in one run are one identity; `--allow-model-change` overrides (answers are then
    reused only where the served model's fingerprint, part of every cache key, matches)."""
    path = out / "config.json"
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old_model = old["model"]
        before = old_model.get("identity") or {"model_id": old_model["model_id"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RunFileError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); it says which model made the "
            "answers in this run directory, so it is not overwritten: restore it, or choose "
            "another --out"
        ) from None
    changed = sorted(k for k in before if k in identity and before[k] != identity[k])
    if not changed or allow:
        return

    def show(ident: dict) -> str:
        where = f" at {', '.join(ident['endpoints'])}" if ident.get("endpoints") else ""
        return f"{ident.get('model_id')}{where}"

    raise ConfigError(
        f"{out} holds answers of {show(before)}, but this run is {show(identity)} "
        f"({', '.join(changed)} differ); a run directory never mixes two models' or servers' "
        "answers: choose another --out, or pass --allow-model-change if it is the same model"
    )


def _sample_row(
    task: Task,
    sample: Sample,
    rendered: str,
    completion: Any,
    answer: Answer | None,
    score: Any,
    failed_error: str | None,
) -> dict:
    flags: dict[str, Any] = {
        "failed": completion is None,
        "truncated": sample.truncation.truncated,
        "tokens_dropped": sample.truncation.tokens_dropped,
        "answer_survived": sample.truncation.answer_survived,
        "length_capped": bool(completion is not None and completion.finish_reason == "length"),
    }
    if answer is not None:
        flags.update(answer.flags)
    # Raised only when they happen, so runs without them keep their files as they were.
    if not sample.truncation.fits:
        flags["context_overflow"] = True
    text = answer.text if answer is not None else (completion.text if completion is not None else None)
    if completion is not None and not (text or "").strip():
        flags["empty_answer"] = True  # null/empty content, filtered or reasoning-only replies
    if completion is not None and completion.finish_reason == "content_filter":
        flags["content_filtered"] = True
    if score is not None:
        flags.update(score.flags)
    if failed_error is not None:
        flags["error"] = failed_error
    query = next((m["content"] for m in reversed(sample.messages) if m["role"] == "user"), "")
    return SampleRecord(
        id=sample.id,
        task=task.id,
        cluster=sample.cluster,
        subtask=sample.subtask,
        prompt_hash=messages_hash(sample.messages),
        rendered_hash=text_hash(rendered),
        shot_ids=sample.shot_ids,
        input=query,
        reference=sample.reference,
        output=answer.text if answer is not None else None,
        reasoning=answer.reasoning if answer is not None else None,
        reasoning_tokens=answer.reasoning_tokens if answer is not None else None,
        parsed=score.parsed if score is not None else None,
        metrics=score.metrics if score is not None else {},
        flags=flags,
        finish_reason=completion.finish_reason if completion is not None else "error",
        prompt_tokens=completion.prompt_tokens if completion is not None else None,
        completion_tokens=completion.completion_tokens if completion is not None else None,
        extra=sample.extra,
    ).to_dict()


@dataclass
class _Prepared:
    """A task ready to run: its samples and keyed requests, and what the store already has."""

    task: Task
    dataset: Any
    samples: list[Sample]
    shot_ids: list[str]
    requests: list
    rendered: list[str]
    plan: TaskPlan
    demo: dict | None


def _build_task(
    task_id: str, protocol: Protocol, settings: RunSettings, demo: dict | None
) -> tuple[Task, dict[str, Any]]:
    """The task and the constructor options its own `run_options` draws from the run settings
    and the demo sizes (`demo`: None on real data or with --full)."""
    options = resolve_task_class(task_id, protocol).run_options(settings, demo)
    return get_task(task_id, protocol, **options), options


def _cut_to(cut: list[Sample], context_length: int) -> str:
    """What the cut prompts were fitted to, as the warning names it: the model's context, or the
    task's own prompt budgets (LongHealth's, the demo's smaller ones included) where lower."""
    budgets = sorted({s.truncation.budget for s in cut if s.truncation.budget is not None})
    limits = []
    if budgets:
        sizes = "- and ".join(str(b) for b in budgets)
        limits.append(f"the {sizes}-token prompt budget{'s' if len(budgets) > 1 else ''}")
    if not budgets or any(s.truncation.budget is None for s in cut):
        limits.append(f"the {context_length}-token context")
    return " or ".join(limits)


def _prepare(
    task_id: str,
    dataset: Any,
    backend: Backend,
    store: ResponseStore,
    settings: RunSettings,
    protocol: Protocol,
    policy: ReasoningPolicy,
) -> _Prepared:
    """Build a task's prompts (demo sizes on the demo set unless --full) and look them up."""
    from cluebench.datasets import demo_settings

    demo = demo_settings(task_id) if dataset.synthetic and not settings.full else None
    limit = settings.limit if settings.limit is not None else (demo or {}).get("limit")
    task, options = _build_task(task_id, protocol, settings, demo)
    budget = BackendBudget(backend)
    samples, shot_ids = task.build_samples(dataset.rows, budget, limit)
    cap = (demo or {}).get("max_new_tokens")
    if cap is not None:  # the demo's generation budget: a 135M model that rambles stops sooner
        for s in samples:
            s.max_tokens = min(s.max_tokens, int(cap))
    cut = [s for s in samples if s.truncation.truncated]
    over = [s for s in samples if not s.truncation.fits]
    if cut or over:
        log.warning(
            "%s: %d of %d prompts cut to fit %s (%d tokens of documents "
            "dropped)%s; each sample's flags say how much",
            task.id, len(cut), len(samples), _cut_to(cut, budget.context_length),
            sum(s.truncation.tokens_dropped for s in cut),
            f", {len(over)} still longer than the context (flag context_overflow)" if over else "",
        )
    context = backend.context_length if policy.active else None
    decodings = [
        _decoding(
            settings,
            protocol,
            policy.max_tokens(
                s.max_tokens,
                backend.count_prompt_tokens(s.messages) if policy.active else None,
                context,
            ),
        )
        for s in samples
    ]
    requests, rendered = keyed_requests(
        backend, [s.messages for s in samples], decodings, policy.key_part()
    )
    cached = store.get_many(r.key for r in requests)
    pending: dict[str, PendingRequest] = {}
    for request in requests:
        if request.key not in cached and request.key not in pending:
            pending[request.key] = PendingRequest(
                prompt_tokens_for_eta(backend, request.messages), request.decoding.max_tokens
            )
    total = len({r.key for r in requests})
    plan = TaskPlan(task_id, total=total, cached=total - len(pending), pending=list(pending.values()))
    applied = None
    if demo is not None:
        applied = {k: v for k, v in {"limit": limit, **options, "max_new_tokens": cap}.items() if v is not None}
    return _Prepared(task, dataset, samples, shot_ids, requests, rendered, plan, applied)


def _run_task(
    prep: _Prepared,
    backend: Backend,
    store: ResponseStore,
    settings: RunSettings,
    scorers: Scorers,
    out: Path,
    progress: RunProgress,
    policy: ReasoningPolicy,
) -> dict:
    from cluebench.analysis.aggregate import paper_task_score, summarize_task
    from cluebench.analysis.reasoning import reasoning_summary

    task, dataset, samples, requests = prep.task, prep.dataset, prep.samples, prep.requests
    protocol = task.protocol
    rendered = prep.rendered
    progress.start_task(task.id)
    done = generate_missing(backend, store, requests, progress.advance)
    errors = store.failures(r.key for r in requests if r.key not in done)

    progress.set_phase("scoring")
    ok = [i for i, r in enumerate(requests) if r.key in done]
    answers = {
        i: answer_of(
            policy, done[requests[i].key], rendered[i], samples[i].max_tokens, backend.tokenizer
        )
        for i in ok
    }
    if not policy.active:
        _mark_reasoning_in_output(answers)
    scores = task.score([samples[i] for i in ok], [answers[i].text for i in ok], scorers)
    score_by_index = dict(zip(ok, scores))

    rows = []
    for i, (sample, request) in enumerate(zip(samples, requests)):
        completion = done.get(request.key)
        error = None if completion is not None else errors.get(request.key, "no answer")
        rows.append(
            _sample_row(
                task, sample, rendered[i], completion, answers.get(i), score_by_index.get(i), error
            )
        )
    rows.sort(key=lambda r: r["id"])
    _write(write_jsonl_atomic, out / task.id / "samples.jsonl", rows)

    metric_names = task.metric_names(scorers)
    summary = summarize_task(
        rows, level=task.level, headline=task.headline, metric_names=metric_names, seed=settings.bootstrap_seed,
        error_flags=task.error_flags,
    )
    summary.update(
        credentialed=task.credentialed,
        data={"path": str(dataset.path), "sha256": dataset.sha256, "synthetic": dataset.synthetic},
        shot_ids=prep.shot_ids,
        scorers=scorers.describe(task.scorer_kinds(metric_names)) if ok else {},
    )
    paper = protocol.paper_levels
    if task.id in paper.metrics:
        summary["paper_score"] = paper_task_score(summary, list(paper.metrics[task.id]), dict(paper.substitutes))
    thinking = reasoning_summary(rows, task.headline, metric_names)
    if thinking is not None:
        summary["reasoning"] = thinking
    if prep.demo is not None:
        summary["demo"] = prep.demo
    progress.finish_task(task.id)
    return TaskResult.from_dict(summary).to_dict()


def _mark_reasoning_in_output(answers: dict[int, Answer]) -> None:
    """With reasoning off (the paper's protocol) a thinking model's raw output is scored as it
    is; flag the outputs that hold a reasoning block (`reasoning_in_output`), on every answer of
    the task when any has one, so the error analysis shows why such a model scores low."""
    from cluebench.models.reasoning import split_reasoning

    marked = {i: split_reasoning(a.text).reasoning is not None for i, a in answers.items()}
    if any(marked.values()):
        for i, a in answers.items():
            a.flags["reasoning_in_output"] = marked[i]


def _progress_mode(value: bool | str | None) -> str | None:
    if value is None or value is True:
        return None if value is None else "bar"
    if value is False:
        return "off"
    return str(value)


def _start_note(prepared: list[_Prepared]) -> str | None:
    """What the user must know before waiting: that this is the demo set, and at which size."""
    demo = [p.task.id for p in prepared if p.dataset.synthetic]
    if not demo:
        return None
    which = "all tasks" if len(demo) == len(prepared) else ", ".join(demo)
    sized = any(p.demo for p in prepared)
    return (
        f"no data found for {which}: running the bundled SYNTHETIC demo set"
        + (" at demo sizes and budgets (not the paper's; --full for the whole demo set)" if sized else "")
        + "; --data-dir or CLUE_DATA_DIR for real data"
    )


def run(settings: RunSettings) -> RunOutcome:
    """Evaluate one model on the selected tasks into a run directory (resuming if it exists)."""
    from cluebench.analysis.aggregate import level_averages, level_scores
    from cluebench.datasets import resolve_dataset
    from cluebench.models import load_backend

    protocol = load_protocol(settings.protocol)
    validate(settings.reasoning, settings.reasoning_budget)
    if settings.limit is not None and settings.limit < 1:
        raise ConfigError(f"--limit must be a positive number of samples, got {settings.limit}")
    if not settings.tasks:
        raise ConfigError("no task selected (--tasks named none); give task ids, all, level1 or level2")
    # built here so that unknown tasks and bad budgets fail before any model is loaded
    tasks = [_build_task(t, protocol, settings, None)[0] for t in settings.tasks]
    datasets = {t.id: resolve_dataset(t.id, settings.data_dir, protocol) for t in tasks}
    for t in tasks:
        shots = t.spec.shots
        if len(datasets[t.id].rows) <= shots:
            raise DataError(
                datasets[t.id].path,
                f"{len(datasets[t.id].rows)} row(s), but the protocol takes {shots} as few-shot "
                f"examples, so nothing is left to evaluate; {t.id} needs at least {shots + 1} rows",
            )
    scorers = Scorers(settings.bertscore_model, settings.bertscore_layers, settings.entity_extractor)
    scorers.check([m for t in tasks for m in t.spec.metrics])

    out = Path(settings.out) if settings.out else default_out(settings.model)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory (new or a run to resume)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFileError(f"cannot create the run directory {out}: {exc.strerror or exc}") from None
    lock = FileLock(str(out / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLockedError(
            f"another clue process is writing to {out} (lock {out / '.lock'} is held); "
            "wait for it to finish or choose another --out"
        ) from None
    except OSError as exc:
        raise RunFileError(
            f"cannot write to the run directory {out} ({exc.strerror or exc}); fix its "
            "permissions or choose another --out"
        ) from None
    try:
        for stale in remove_stale_temps(out):
            log.info("removed %s, left behind by an interrupted write", stale)
        settings.backend.plain_template = protocol.plain_template.as_dict()  # type: ignore[attr-defined]
        backend = load_backend(settings.model, settings.backend)
        try:
            remote_tasks = _check_data_protection(
                backend, tasks, datasets, settings.allow_remote_credentialed_data
            )
            policy = resolve(
                settings.reasoning,
                settings.reasoning_budget,
                backend,
                notice=settings.notice,
                known=settings.reasoning_known,
            )
            identity = backend.identity()
            check_run_identity(out, identity, settings.allow_model_change)
            results_tasks: dict[str, dict] = {}
            with ResponseStore(out / "responses.sqlite") as store:
                prepared = [
                    _prepare(t.id, datasets[t.id], backend, store, settings, protocol, policy) for t in tasks
                ]
                config = _config(settings, protocol, backend, datasets, remote_tasks, policy, prepared)
                config["model"]["identity"] = identity
                _write(write_json_atomic, out / "config.json", config)
                scorers.cache, scorers.protocol_sha256 = store, protocol.sha256  # the score cache
                mode = _progress_mode(settings.progress)
                start = _start_note(prepared)
                if start and mode != "off":
                    note(start, style="yellow")
                with RunProgress(
                    [p.plan for p in prepared], mode, interval_s=settings.progress_interval_s
                ) as progress:
                    for prep in prepared:
                        results_tasks[prep.task.id] = _run_task(
                            prep, backend, store, settings, scorers, out, progress, policy
                        )
        finally:
            backend.close()
        variant = policy.variant()
        results = {
            "protocol": {
                "id": protocol.id,
                "sha256": protocol.sha256,
                **({"variant": variant} if variant else {}),
            },
            "reasoning": policy.describe(),
            "model": {
                "spec": settings.model or "default",
                "model_id": config["model"]["model_id"],
                **({"path": config["model"]["path"]} if config["model"].get("path") else {}),
            },
            "decoding": {k: v for k, v in config["decoding"].items() if k != "max_tokens"},
            "tasks": results_tasks,
            "levels": level_scores(results_tasks, protocol.levels, protocol.paper_levels.as_dict()),
            "headline_levels": level_averages(results_tasks, protocol.levels),
        }
        _write(write_json_atomic, out / "results.json", ResultsFile.from_dict(results).to_dict())
        report = None
        if settings.write_report:
            report = _write_report(out, [t.id for t in tasks])
        n_failed = sum(int(t.get("n_failed", 0)) for t in results_tasks.values())
        return RunOutcome(out=out, results=results, report=report, n_failed=n_failed)
    finally:
        lock.release()


REPORT_DIGEST = ".report-inputs.sha256"


def _write_report(out: Path, task_ids: list[str]) -> Path:
    """Write report.html, unless it exists and was made from exactly these run files by this
    report code (a rerun of a finished run then costs no figure drawing; the report is a pure
    function of the run files, so it would be the same but for its "generated" time)."""
    import hashlib
    from importlib import resources

    from cluebench import __version__

    digest = hashlib.sha256(__version__.encode())
    inputs = [out / "config.json", out / "results.json", *(out / t / "samples.jsonl" for t in task_ids)]
    code = Path(str(resources.files("cluebench.report")))
    for path in [*inputs, *sorted(code.glob("*.py")), *sorted(code.glob("templates/*"))]:
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    stamp, report = out / REPORT_DIGEST, out / "report.html"
    if report.is_file() and stamp.is_file() and stamp.read_text().strip() == digest.hexdigest():
        return report
    from cluebench.report.html import write_report

    _write(lambda path, runs: write_report(runs, path), report, [out])
    write_text_atomic(stamp, digest.hexdigest() + "\n")
    return report


def _config(
    settings: RunSettings,
    protocol: Protocol,
    backend: Backend,
    datasets: dict,
    remote_tasks: list[str],
    policy: ReasoningPolicy,
    prepared: list[_Prepared],
) -> dict:
    options = asdict(settings.backend)
    options.pop("plain_template", None)
    options["base_urls"] = [public_url(u) for u in options["base_urls"]]  # no passwords, keys
    if options.get("chat_template"):  # the override's text is long; its sha256 is in "model"
        options["chat_template"] = "(given; see model.chat_template_sha256)"
    decoding = _decoding(settings, protocol, 0).to_dict()
    decoding.pop("max_tokens")
    return {
        "cluebench_run": FORMAT_VERSION,
        "protocol": protocol.identity(),
        "model": backend.info() | {"spec": settings.model or "default"},
        "decoding": decoding | {"max_tokens": {t: protocol.task(t).max_new_tokens for t in datasets}},
        "reasoning": policy.describe(),
        "tasks": list(datasets),
        "limit": settings.limit,
        "data": {
            t: {"path": str(d.path), "sha256": d.sha256, "synthetic": d.synthetic, "rows": len(d.rows)}
            for t, d in datasets.items()
        },
        "backend_options": options,
        "longhealth_budget": settings.longhealth_budget,
        "longhealth_budget_23": settings.longhealth_budget_23,
        "full": settings.full,
        "demo": {p.task.id: p.demo for p in prepared if p.demo is not None},
        "scoring": {
            "bertscore_model": settings.bertscore_model,
            "bertscore_layers": settings.bertscore_layers,
            "entity_extractor": settings.entity_extractor,
            "bootstrap_seed": settings.bootstrap_seed,
        },
        "data_protection": {
            "allow_remote_credentialed_data": settings.allow_remote_credentialed_data,
            "remote_hosts": backend.remote_hosts(),
            "credentialed_tasks_sent_remote": remote_tasks,
        },
        "environment": environment(),
    }
