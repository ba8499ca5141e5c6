"""The protocol file, typed: the one place where prompts, format pieces and task settings live.

A protocol is a TOML file in ``cluebench/protocols/`` (``clue_paper.toml`` is the paper's). It is
read once into frozen dataclasses and validated on load: a missing or unknown key, or a value of
the wrong type, is a :class:`~cluebench.errors.ConfigError` naming the file, the table and the key,
so a typo is found when the file is read, not when the key is first used. Every room may import
this module; it imports nothing of cluebench but ``errors``.

Several protocol files may sit side by side; ``load_protocol(name)`` reads one by name (or a path
to a ``.toml`` file), and every result carries the file's sha256 so it says what made it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cluebench.errors import ConfigError

DEFAULT_PROTOCOL = "clue_paper"
PROTOCOL_PACKAGE = "cluebench.protocols"


# ---------------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class PlainTemplate:
    """How a model without a chat template (a base model) gets its prompt; see the TOML."""

    first_turn: str
    next_turn: str
    query: str
    zero_shot: str
    merged_system: str  # a template that rejects the system role: system text merged into user

    def as_dict(self) -> dict[str, str]:
        """The table as backends take it (they import nothing of ours)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PaperLevels:
    """The paper's level score: per task the mean of `metrics[task]` (the metrics the paper
    publishes), then the mean over the level's tasks. `substitutes` names cluebench's stand-in
    for a paper metric it may not compute (``umls_f1`` -> ``entity_f1``)."""

    metrics: Mapping[str, tuple[str, ...]]
    substitutes: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        """Plain dicts, as the analysis functions take them."""
        return {"metrics": {t: list(m) for t, m in self.metrics.items()}, "substitutes": dict(self.substitutes)}


@dataclass(frozen=True)
class MedNLISettings:
    labels: tuple[str, ...]  # the three labels, lower case, as the data file writes them


@dataclass(frozen=True)
class ProblemSummarySettings:
    subjective_columns: tuple[str, ...]
    assessment_columns: tuple[str, ...]
    summary_columns: tuple[str, ...]


@dataclass(frozen=True)
class LongHealthSettings:
    repeats: int
    distractors: int
    subtask1_budget: int
    separator: str
    option_labels: str
    option_line: str  # one option in the prompt: "{letter}: {text}"
    option_f_letter: str  # the added "cannot be answered" option of sub-tasks 2 and 3
    option_f: str
    answer_regex: str
    answer_prefix: str  # what the format check wants the answer to start with


@dataclass(frozen=True)
class MeDiSumCodeSettings:
    code_regex: str
    code_regex_fixed: str
    code_joiner: str
    codes_prefix_regex: str  # the optional "ICD-10 Codes:" opening the format check allows


@dataclass(frozen=True)
class NoSettings:
    """A task whose protocol section has no settings table."""


#: The settings table's shape per task id. A task not listed here may have no settings table.
SETTINGS_SCHEMAS: dict[str, type] = {
    "mednli": MedNLISettings,
    "problem_summary": ProblemSummarySettings,
    "longhealth": LongHealthSettings,
    "medisumcode": MeDiSumCodeSettings,
}


@dataclass(frozen=True)
class TaskSpec:
    """One ``[tasks.<id>]`` table."""

    id: str
    level: int
    credentialed: bool
    data_file: str  # upstream path relative to a data directory
    n_paper: int
    shots: int
    max_new_tokens: int
    headline: str
    metrics: tuple[str, ...]
    truncatable: tuple[str, ...]
    reference_field: str
    system: str
    user: str
    assistant: str
    settings: Any = NoSettings()


@dataclass(frozen=True)
class Protocol:
    """A whole protocol file plus its identity (name, path, sha256)."""

    id: str
    version: str
    shot_seed: int
    default_temperature: float
    default_seed: int
    levels: Mapping[str, tuple[str, ...]]
    paper_levels: PaperLevels
    plain_template: PlainTemplate
    tasks: Mapping[str, TaskSpec]  # in file order
    name: str = DEFAULT_PROTOCOL
    path: str = ""
    sha256: str = ""

    def task(self, task_id: str) -> TaskSpec:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise ConfigError(
                f"unknown task '{task_id}': expected one of {', '.join(self.tasks)}"
            ) from None

    @property
    def task_ids(self) -> list[str]:
        """Task ids in level order (level 1 first), then any task no level lists."""
        order = [t for level in self.levels.values() for t in level if t in self.tasks]
        return order + [t for t in self.tasks if t not in order]

    @property
    def data_files(self) -> dict[str, str]:
        """Task id -> upstream path relative to a data directory, in level order."""
        return {t: self.tasks[t].data_file for t in self.task_ids}

    def expand_task_selection(self, selection: str | None) -> list[str]:
        """`all`, a level name or a comma list -> task ids in protocol order."""
        known = list(self.tasks)
        if selection is None:
            return known
        chosen: list[str] = []
        for part in (p.strip() for p in selection.split(",")):
            if not part:
                continue
            if part == "all":
                names: list[str] | tuple[str, ...] = known
            elif part in self.levels:
                names = self.levels[part]
            elif part in known:
                names = [part]
            else:
                raise ConfigError(
                    f"unknown task '{part}' in --tasks: expected one of {', '.join(known)}, "
                    f"or all, {', '.join(self.levels)}"
                )
            chosen.extend(n for n in names if n not in chosen)
        if not chosen:
            raise ConfigError(
                f"--tasks {selection!r} names no task: expected task ids ({', '.join(known)}) "
                f"or all, {', '.join(self.levels)}, separated by commas"
            )
        return [t for t in known if t in chosen]

    def identity(self) -> dict[str, str]:
        """What a run file records about the protocol that made it."""
        return {"id": self.id, "sha256": self.sha256, "version": self.version}


# ---------------------------------------------------------------------------------- loading


def protocol_path(name: str = DEFAULT_PROTOCOL) -> Path:
    """The file of protocol `name`: a packaged protocol's name, or a path to a ``.toml`` file."""
    if name.endswith(".toml"):
        path = Path(name)
    else:
        path = Path(str(resources.files(PROTOCOL_PACKAGE) / f"{name}.toml"))
    if not path.is_file():
        known = ", ".join(available_protocols())
        raise ConfigError(f"unknown protocol '{name}': no file {path} (packaged protocols: {known})")
    return path


def available_protocols() -> list[str]:
    """Names of the packaged protocol files."""
    folder = resources.files(PROTOCOL_PACKAGE)
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


@lru_cache(maxsize=8)
def load_protocol(name: str = DEFAULT_PROTOCOL) -> Protocol:
    """Read and validate protocol `name` (cached: every room reads it)."""
    path = protocol_path(name)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from None
    return parse_protocol(
        data, name=Path(name).stem, path=str(path), sha256=hashlib.sha256(raw).hexdigest()
    )


def find_protocol(ident: str | None, sha256: str | None = None) -> Protocol:
    """The packaged protocol a run file names (its ``protocol`` record): the one with that
    sha256, else the one with that id, else the default. Readers of old runs (the report,
    `clue compare`) then apply the levels and paper scores of the protocol that made the run, not
    whichever protocol is the default today."""
    known = [load_protocol(name) for name in available_protocols()]
    for wanted in (sha256, ident):
        if wanted:
            found = next((p for p in known if wanted in (p.sha256, p.id)), None)
            if found is not None:
                return found
    return load_protocol()


def parse_protocol(data: Mapping[str, Any], *, name: str, path: str, sha256: str) -> Protocol:
    """Build a :class:`Protocol` from a parsed TOML table, checking every key and type."""
    where = path or name
    values = dict(data)
    tasks_table = values.pop("tasks", None)
    if not isinstance(tasks_table, Mapping) or not tasks_table:
        raise ConfigError(f"{where}: missing key 'tasks' (one [tasks.<id>] table per task)")
    if isinstance(values.get("plain_template"), Mapping):
        values["plain_template"] = _build(PlainTemplate, values["plain_template"], f"{where}: [plain_template]")
    if isinstance(values.get("paper_levels"), Mapping):
        values["paper_levels"] = _build(PaperLevels, values["paper_levels"], f"{where}: [paper_levels]")
    tasks: dict[str, TaskSpec] = {}
    for task_id, table in tasks_table.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: [tasks.{task_id}] must be a table")
        table = dict(table)
        settings_table = table.pop("settings", None)
        schema = SETTINGS_SCHEMAS.get(task_id, NoSettings)
        settings = _build(schema, settings_table or {}, f"{where}: [tasks.{task_id}.settings]")
        tasks[task_id] = _build(
            TaskSpec, {**table, "id": task_id, "settings": settings}, f"{where}: [tasks.{task_id}]"
        )
    protocol = _build(
        Protocol,
        {**values, "tasks": types.MappingProxyType(tasks), "name": name, "path": path, "sha256": sha256},
        where,
    )
    for level, ids in protocol.levels.items():
        unknown = [t for t in ids if t not in tasks]
        if unknown:
            raise ConfigError(f"{where}: [levels] {level} names unknown task(s) {', '.join(unknown)}")
    unknown = [t for t in protocol.paper_levels.metrics if t not in tasks]
    if unknown:
        raise ConfigError(f"{where}: [paper_levels.metrics] names unknown task(s) {', '.join(unknown)}")
    return protocol


def _build(cls: type, table: Mapping[str, Any], where: str) -> Any:
    """`cls(**table)` with every key known, none missing and each value of its declared type."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in table if k not in fields]
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{unknown[0]}' (expected {', '.join(fields) or 'no keys'})"
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in table
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing key '{missing[0]}'")
    kwargs = {key: _coerce(hints[key], value, f"{where} key '{key}'") for key, value in table.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check `value` against a field's type; lists become tuples, tables read-only mappings."""
    origin = typing.get_origin(hint)
    if hint is Any or (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        return value
    if origin is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list of {item.__name__}, got {value!r}")
        return tuple(_coerce(item, v, where) for v in value)
    if origin in (Mapping, dict) or hint is Mapping:
        key_t, val_t = typing.get_args(hint)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return types.MappingProxyType({str(k): _coerce(val_t, v, where) for k, v in value.items()})
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if hint in (str, bool) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {'text' if hint is str else 'true or false'}, got {value!r}")
    return value
