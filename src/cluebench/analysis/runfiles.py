"""Reading run directories (format: docs/run-files.md). Analysis and report read nothing else."""

from __future__ import annotations

import json
import re
from functools import cached_property
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluebench.errors import ClueError, DataError
from cluebench.protocol import Protocol, find_protocol
from cluebench.records import ConfigFile, ResultsFile, SampleRecord, TaskResult

_QUANT_TAIL = re.compile(
    r"([-._](gguf|q\d\w*|iq\d\w*|f16|f32|bf16|fp16))+$", re.IGNORECASE
)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(path, f"not valid JSON ({e.msg})", line=e.lineno) from None
    except RecursionError:
        raise DataError(path, "not valid JSON (nested too deeply)") from None
    except UnicodeDecodeError as e:
        raise DataError(path, f"not UTF-8 text (byte offset {e.start})") from None
    except OSError as e:
        raise DataError(path, f"cannot be read: {e.strerror or e}") from None


def _sample_lines(path: Path) -> list[tuple[dict, SampleRecord]]:
    """One task's samples.jsonl: each line as written and as its checked :class:`SampleRecord`
    (a malformed line is an error naming the line and field)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(path, f"cannot be read ({e})") from None
    out = []
    # Lines end at "\n" only (as in datasets._io.iter_jsonl): a raw U+2028 or "\r" inside a JSON
    # string is part of the value.
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            msg = getattr(e, "msg", "nested too deeply")
            raise DataError(path, f"not valid JSON ({msg})", line=lineno) from None
        out.append((obj, SampleRecord.from_dict(obj, path, lineno)))
    return out


def read_samples(path: Path) -> list[dict]:
    """One task's samples.jsonl, each line checked against :class:`SampleRecord`; the dicts are
    the lines as written (for tools that pass them on unchanged)."""
    return [obj for obj, _ in _sample_lines(path)]


def read_sample_records(path: Path) -> list[SampleRecord]:
    """One task's samples.jsonl as records (what analysis and report read)."""
    return [record for _, record in _sample_lines(path)]


def _read_record(path: Path, record: type) -> Any:
    """``path`` (a JSON object) as ``record`` (checked field by field); an absent file is empty."""
    return record.from_dict(read_json(path) if path.exists() else {}, path)


@dataclass
class Run:
    """A run directory: results.json, config.json (typed records) and the per-task samples (read on
    demand)."""

    path: Path
    results: ResultsFile
    config: ConfigFile
    _samples: dict[str, list[SampleRecord]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> Run:
        path = Path(path)
        if not path.is_dir():
            raise ClueError(
                f"{path}: not a run directory (expected a folder with results.json)"
            )
        results = _read_record(path / "results.json", ResultsFile)
        run = cls(path, results, _read_record(path / "config.json", ConfigFile))
        if results == ResultsFile() and not run.sample_tasks():
            raise ClueError(
                f"{path}: no results.json and no <task>/samples.jsonl; is this a run directory?"
            )
        return run

    @cached_property
    def protocol_spec(self) -> Protocol:
        """The protocol that made this run, as its files name it (see `protocol.find_protocol`)."""
        record = self.protocol or {}
        return find_protocol(record.get("id"), record.get("sha256"))

    def sample_tasks(self) -> list[str]:
        """Tasks that have a samples.jsonl in the run directory."""
        return sorted(p.parent.name for p in self.path.glob("*/samples.jsonl"))

    @property
    def tasks(self) -> list[str]:
        """Tasks with results or samples, in results.json order first."""
        listed = list(self.results.tasks)
        return listed + [t for t in self.sample_tasks() if t not in listed]

    def task_result(self, task: str) -> TaskResult | None:
        """The task's entry in results.json (None when the run has none)."""
        return self.results.tasks.get(task)

    def task_entry(self, task: str) -> dict | None:
        """The task's entry as written in results.json (for tables that show it as it is)."""
        entry = self.results.tasks.get(task)
        return entry.to_dict() if entry else None

    def samples(self, task: str) -> list[SampleRecord]:
        """The task's samples (read once; none when the run has no samples.jsonl for it)."""
        if task not in self._samples:
            path = self.path / task / "samples.jsonl"
            self._samples[task] = read_sample_records(path) if path.exists() else []
        return self._samples[task]

    @property
    def protocol(self) -> dict:
        return self.results.protocol or self.config.protocol

    @property
    def model(self) -> dict:
        return self.results.model or self.config.model

    @property
    def decoding(self) -> dict:
        return self.results.decoding or self.config.decoding

    @property
    def reasoning(self) -> dict:
        """The run's resolved reasoning policy ({} for runs from before it was recorded)."""
        return self.results.reasoning or self.config.reasoning or {}

    @property
    def label(self) -> str:
        """A short human name: the model's file or repo name without quantisation tails."""
        spec = self.model.get("spec")
        if spec in (None, "", "default") and self.model.get("path"):
            spec = str(self.model["path"])  # the embedded default: name its model file
        label = model_label(str(spec or self.model.get("model_id") or self.path.name))
        if (self.protocol.get("variant") or {}).get("reasoning") == "on":
            label += " (reasoning on)"  # the same model with thinking off stays apart
        return label

    def identity(self) -> dict:
        return {
            "dir": str(self.path),
            "label": self.label,
            "model": self.model,
            "protocol": self.protocol,
            "decoding": self.decoding,
        }


def model_label(spec: str) -> str:
    """'llamacpp:/m/SmolLM2-135M-Instruct.Q4_1.gguf' → 'SmolLM2-135M-Instruct'."""
    s = spec.split(":", 1)[1] if re.match(r"^[a-z]+:(?!//)", spec) else spec
    name = s.rstrip("/").replace("\\", "/").split("/")[-1] or s
    if name.lower().endswith(".gguf"):
        name = name[:-5]
    return _QUANT_TAIL.sub("", name) or name
