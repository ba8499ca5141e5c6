"""The run files' records, typed: one home for every field of samples.jsonl and results.json.

The runner writes these records and analysis and report read them (``docs/run-files.md`` is
checked against the field lists here by ``tests/test_records.py``). Reading is lenient about what
older runs lack (a missing optional field takes its default) and strict about what nobody wrote:
a key that is not a field of the record is a :class:`~cluebench.errors.DataError` naming the file,
the line and the key, so a new field cannot appear in one writer without a home here.

``FORMAT_VERSION`` is the run directory's format (config.json's ``cluebench_run``); it changes
when a field changes meaning, not when one is added.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
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
    def from_dict(cls, obj: dict, path: str | Path = "samples.jsonl", line: int | None = None) -> SampleRecord:
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
    def from_dict(cls, obj: dict, path: str | Path = "results.json", where: str = "") -> TaskResult:
        return cls(**_known(cls, obj, path, None, where))


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
    def from_dict(cls, obj: dict, path: str | Path = "results.json") -> ResultsFile:
        values = _known(cls, obj, path, None)
        tasks = values.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise DataError(path, "expected an object of task id: results", field="tasks")
        values["tasks"] = {
            t: TaskResult.from_dict(entry, path, f"tasks.{t}") if isinstance(entry, dict) else TaskResult()
            for t, entry in tasks.items()
        }
        return cls(**values)


def _known(cls: type, obj: dict, path: str | Path, line: int | None, where: str = "") -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = [k for k in obj if k not in names]
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise DataError(path, f"unknown key (not a field of {cls.__name__} in cluebench/records.py)", line=line, field=key)
    return dict(obj)


def field_names(cls: type) -> list[str]:
    """The record's keys in file order (for docs/run-files.md and its test)."""
    return [f.name for f in dataclasses.fields(cls)]
