"""The run files' records, typed: one home for every field of samples.jsonl, results.json and
config.json, and for the checks a file's content passes before anything reads it.

The runner writes these records and analysis and report read them (through
:class:`cluebench.analysis.runfiles.Run`, or :func:`as_samples` / :func:`as_task_result` for rows
still in memory) by attribute, never as loose dicts (``docs/run-files.md`` is
checked against the field lists here by ``tests/test_records.py``). Reading is lenient about what
older runs lack (a missing optional field takes its default) and strict about what nobody wrote:
a key that is not a field of the record, or a value of the wrong JSON type (an object where a
list belongs, a string where a number belongs), is a :class:`~cluebench.errors.DataError` naming the
file, the line and the key, so a new field cannot appear in one writer without a home here and a
reader never meets a malformed value it would trip over.

``FORMAT_VERSION`` is the run directory's format (config.json's ``cluebench_run``); it changes
when a field changes meaning, not when one is added.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cluebench.errors import DataError

FORMAT_VERSION = 1


@dataclass
class SampleRecord:
    """One line of ``<task>/samples.jsonl`` (one evaluated sample), in file key order."""

    id: str
    task: str | None = None
    cluster: str | None = None
    subtask: int | None = None
    prompt_hash: str | None = None
    rendered_hash: str | None = None
    shot_ids: list[str] = field(default_factory=list)
    input: str | None = None
    reference: Any = None
    output: str | None = None
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    parsed: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, obj: Any, path: str | Path = "samples.jsonl", line: int | None = None) -> SampleRecord:
        if not isinstance(obj, dict) or "id" not in obj:
            raise DataError(path, "expected a JSON object with an 'id'", line=line, field="id")
        return cls(**_known(cls, obj, path, line))


@dataclass
class TaskResult:
    """One task's entry under ``results.json``'s ``tasks`` (optional entries left out when None)."""

    level: int | None = None
    headline: str | None = None
    n: int = 0
    n_failed: int = 0
    n_truncated: int = 0
    metrics: dict[str, dict] = field(default_factory=dict)  # name -> {"mean", "ci"}
    errors: dict[str, dict] = field(default_factory=dict)  # flag -> {"count", "rate", "n"}
    credentialed: bool | None = None
    data: dict[str, Any] | None = None  # {"path", "sha256", "synthetic"}
    shot_ids: list[str] | None = None
    scorers: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    # the task's part of the paper's level score: {"mean", "metrics", "substituted", "missing",
    # "not_comparable"} (analysis.aggregate.paper_task_score)
    paper_score: dict[str, Any] | None = None
    # only on the synthetic demo set at demo sizes: the sizes used instead of the paper's
    # ({"limit", "budget_subtask1", "budget_subtask23", "repeats", "max_new_tokens"}; see
    # datasets/demo/demo_run.toml)
    demo: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None or f.name in _TASK_REQUIRED
        }

    @classmethod
    def from_dict(cls, obj: Any, path: str | Path = "results.json", where: str = "") -> TaskResult:
        if not isinstance(obj, dict):
            raise DataError(path, f"expected an object, got {_json_type(obj)}", field=where or None)
        values = _known(cls, obj, path, None, where)
        for name, value in values.get("metrics", {}).items():
            _check_metric(value, path, f"{where}.metrics.{name}" if where else f"metrics.{name}")
        return cls(**values)


_TASK_REQUIRED = {"level", "headline", "n", "n_failed", "n_truncated", "metrics", "errors"}


@dataclass
class ResultsFile:
    """``results.json``: what made the run and every task's numbers."""

    protocol: dict[str, Any] = field(default_factory=dict)  # {"id", "sha256", "variant"?}
    reasoning: dict[str, Any] | None = None
    model: dict[str, Any] = field(default_factory=dict)  # {"spec", "model_id", "path"?}
    decoding: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    # the paper's level scores: level -> {"mean", "tasks", "complete", "task_scores", "comparable",
    # "not_comparable"} (analysis.aggregate.level_scores)
    levels: dict[str, dict] = field(default_factory=dict)
    # the mean of the level's headline metrics only (not the paper's): level -> {"mean", "tasks", "complete"}
    headline_levels: dict[str, dict] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "tasks":
                value = {t: r.to_dict() for t, r in value.items()}
            if value is not None:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, obj: Any, path: str | Path = "results.json") -> ResultsFile:
        values = _known(cls, _object(obj, path), path, None)
        _check_protocol(values.get("protocol"), path)
        tasks = values.get("tasks") or {}
        values["tasks"] = {t: TaskResult.from_dict(entry, path, f"tasks.{t}") for t, entry in tasks.items()}
        return cls(**values)

    def task_metric_mean(self, task: str, metric: str) -> float | None:
        """A task's metric mean as written (None when the task or metric is absent)."""
        entry = self.tasks.get(task)
        return (entry.metrics.get(metric) or {}).get("mean") if entry else None


@dataclass
class ConfigFile:
    """``config.json``: the run's resolved settings, written before the first request."""

    cluebench_run: int | None = None  # FORMAT_VERSION
    protocol: dict[str, Any] = field(default_factory=dict)  # {"id", "sha256", "version", "variant"?}
    model: dict[str, Any] = field(default_factory=dict)  # the backend's info + {"spec"}
    decoding: dict[str, Any] = field(default_factory=dict)  # with "max_tokens": task -> cap
    reasoning: dict[str, Any] | None = None  # the resolved reasoning policy
    tasks: list[str] = field(default_factory=list)
    limit: int | None = None
    data: dict[str, dict] = field(default_factory=dict)  # task -> {"path", "sha256", "synthetic", "rows"}
    backend_options: dict[str, Any] = field(default_factory=dict)
    longhealth_budget: int | None = None
    longhealth_budget_23: int | None = None
    # the two below are left out of to_dict when absent (runs from before they were written)
    full: bool | None = None  # `--full`: the paper's sizes on the demo set
    demo: dict[str, dict] | None = None  # task -> the demo sizes used (TaskResult.demo)
    scoring: dict[str, Any] = field(default_factory=dict)
    data_protection: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    # keys of other writers (older runs, hand-made run directories) are kept as they are, not
    # read: config.json documents the run, and nothing in analysis depends on them
    other: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "other" and (getattr(self, f.name) is not None or f.name not in _CONFIG_OPTIONAL)
        }
        return out | self.other

    @classmethod
    def from_dict(cls, obj: Any, path: str | Path = "config.json") -> ConfigFile:
        obj = _object(obj, path)
        names = set(field_names(cls)) - {"other"}
        known = _known(cls, {k: v for k, v in obj.items() if k in names}, path, None)
        _check_protocol(known.get("protocol"), path)
        return cls(**known, other={k: v for k, v in obj.items() if k not in names})


def _check_protocol(record: Any, path: str | Path) -> None:
    """The protocol record's strings are strings and its variant an object: readers (the report,
    `find_protocol`) use them as such."""
    for key in ("id", "sha256", "version"):
        value = (record or {}).get(key)
        if value is not None and not isinstance(value, str):
            raise DataError(path, f"expected a string, got {_json_type(value)}", field=f"protocol.{key}")
    variant = (record or {}).get("variant")
    if variant is not None and not isinstance(variant, dict):
        raise DataError(path, f"expected an object or null, got {_json_type(variant)}", field="protocol.variant")


_CONFIG_OPTIONAL = {"full", "demo"}


def as_samples(samples: Iterable[SampleRecord | Mapping[str, Any]]) -> list[SampleRecord]:
    """Records of samples however they came: read from samples.jsonl (records already) or built in
    memory as the file's rows (the runner's rows before it writes them, a test's rows), each
    row checked as a line of the file is."""
    return [s if isinstance(s, SampleRecord) else SampleRecord.from_dict(dict(s)) for s in samples]


def as_task_result(entry: TaskResult | Mapping[str, Any]) -> TaskResult:
    """A task's results as a record, from the record or from a results.json-shaped entry (the
    runner's summary before it is written, the published values, a test's entry)."""
    return entry if isinstance(entry, TaskResult) else TaskResult.from_dict(dict(entry))


def _object(obj: Any, path: str | Path) -> dict:
    """A run file's top level, which is a JSON object."""
    if not isinstance(obj, dict):
        raise DataError(path, f"expected a JSON object, got {_json_type(obj)}")
    return obj


def _check_metric(value: dict, path: str | Path, key: str) -> None:
    """A task's metric: {"mean": number or null, "ci": [low, high] or null}."""
    for name, allowed in (("mean", (int, float)), ("ci", (list,))):
        item = value.get(name)
        if item is not None and (not isinstance(item, allowed) or isinstance(item, bool)):
            want = "a number" if name == "mean" else "a list"
            raise DataError(path, f"expected {want} or null, got {_json_type(item)}", field=f"{key}.{name}")


def _known(cls: type, obj: dict, path: str | Path, line: int | None, where: str = "") -> dict:
    """``obj``'s values for ``cls``, after checking every key is a field and every value its type."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in obj if k not in fields]
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise DataError(path, f"unknown key (not a field of {cls.__name__} in cluebench/records.py)", line=line, field=key)
    for name, value in obj.items():
        allowed = _allowed(fields[name].type)
        if allowed is None or isinstance(value, allowed) and not _bool_for_number(value, allowed):
            _check_items(fields[name].type, value, path, line, f"{where}.{name}" if where else name)
            continue
        if value is None and fields[name].default is not dataclasses.MISSING:
            continue  # an explicit null where the field has a default: the default
        key = f"{where}.{name}" if where else name
        expected = " or ".join(sorted({_JSON_NAMES[t] for t in allowed}))
        raise DataError(path, f"expected {expected}, got {_json_type(value)}", line=line, field=key)
    return {k: v for k, v in obj.items() if v is not None or _nullable(fields[k].type)}


# annotation (as text, under `from __future__ import annotations`) -> the JSON types it allows
_JSON_NAMES = {str: "a string", int: "a number", float: "a number", bool: "true/false",
               list: "a list", dict: "an object", type(None): "null"}


@lru_cache(maxsize=None)
def _allowed(annotation: str) -> tuple[type, ...] | None:
    """The Python types of JSON values a field's annotation allows; None for ``Any``."""
    allowed: list[type] = []
    for part in str(annotation).split(" | "):
        base = part.split("[", 1)[0].strip()
        if base == "Any":
            return None
        allowed += {"str": [str], "int": [int], "float": [int, float], "bool": [bool],
                    "list": [list], "dict": [dict], "None": [type(None)]}[base]
    return tuple(allowed)


def _check_items(annotation: str, value: Any, path: str | Path, line: int | None, key: str) -> None:
    """The items of a ``list[str]`` or the values of a ``dict[str, dict]`` field have their type."""
    kind = str(annotation).split(" | ")[0]
    items = value.items() if kind == "dict[str, dict]" and isinstance(value, dict) else (
        enumerate(value) if kind == "list[str]" and isinstance(value, list) else ())
    want = dict if kind == "dict[str, dict]" else str
    for k, item in items:
        if not isinstance(item, want):
            raise DataError(path, f"expected {_JSON_NAMES[want]}, got {_json_type(item)}", line=line, field=f"{key}.{k}")


def _nullable(annotation: str) -> bool:
    allowed = _allowed(annotation)
    return allowed is None or type(None) in allowed


def _bool_for_number(value: Any, allowed: tuple[type, ...]) -> bool:
    """JSON true/false is not a number (Python's bool is an int)."""
    return isinstance(value, bool) and bool not in allowed


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def field_names(cls: type) -> list[str]:
    """The record's keys in file order (for docs/run-files.md and its test)."""
    return [f.name for f in dataclasses.fields(cls)]
