"""What a task is: rows in, samples (chat messages + reference) out, outputs in, scores out.

A task reads its prompts and settings from the protocol file (never from code), builds every
prompt so it fits the model's context (cutting only the document part, and saying so on the
sample), and scores a batch of outputs (batched because BERTScore is).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from cluebench.models.base import Message
from cluebench.protocol import Protocol, TaskSpec


@dataclass
class Truncation:
    """How much of a sample's document text was cut to fit the context."""

    truncated: bool = False
    tokens_dropped: int = 0
    answer_survived: bool | None = True  # None: the task has no answer span to check
    fits: bool = True  # False: even with every document cut the prompt exceeds the context
    # The task's own token budget (prompt + generation) the prompt was cut to fit, where it is
    # below the context (LongHealth's); None: the model's context was the limit.
    budget: int | None = None


@dataclass
class Sample:
    """One prompt to send and everything needed to score its answer."""

    id: str
    messages: list[Message]
    reference: str
    max_tokens: int
    shot_ids: list[str] = field(default_factory=list)
    cluster: str | None = None
    subtask: int | None = None
    gold: Any = None  # structured reference: a label, a letter, a list of codes
    truncation: Truncation = field(default_factory=Truncation)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cluster is None:
            self.cluster = self.id


@dataclass
class Score:
    """A scored sample: parsed answer, per-sample metrics (0-100) and error flags."""

    parsed: Any
    metrics: dict[str, float]
    flags: dict[str, Any]


class PromptBudget(abc.ABC):
    """Token accounting against the model under test (its own tokenizer and chat template)."""

    context_length: int

    @abc.abstractmethod
    def count(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of these messages once rendered with the model's template."""

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]: ...

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str: ...


class Task(abc.ABC):
    """One CLUE task: a file ``cluebench/tasks/<id>.py`` whose class is registered with
    :func:`cluebench.tasks.registry.register_task`. Everything the runner and ``clue score`` need
    to know about a task is asked of this class; they hold no task names."""

    id: ClassVar[str]
    #: Per-sample error flags this task's `score` sets, in the order results.json lists them
    #: (`failed`, `truncated` and `length_capped` apply to every task and are not repeated here).
    error_flags: ClassVar[tuple[str, ...]] = ()
    #: Run options (keyword arguments of the constructor) this task accepts, e.g. token budgets.
    option_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def run_options(cls, settings: Any, demo: Mapping[str, Any] | None) -> dict[str, Any]:
        """The constructor options (`option_names`) for a run with these settings (the runner's
        `RunSettings`) on data whose demo sizes are `demo` (`demo_run.toml`'s table of this task;
        None on real data or with --full). Only the task knows which of its settings a flag
        or a demo size sets, so the runner holds no task names; none by default."""
        return {}

    def __init__(self, spec: TaskSpec, protocol: Protocol) -> None:
        self.spec = spec  # this task's table from the protocol file
        self.protocol = protocol  # the whole protocol file, for shared settings

    @property
    def level(self) -> int:
        return self.spec.level

    @property
    def credentialed(self) -> bool:
        return self.spec.credentialed

    @property
    def headline(self) -> str:
        return self.spec.headline

    def metric_names(self, scorers: Any) -> list[str]:
        """The protocol's metric names, entity metrics named after the extractor in use."""
        names = list(self.spec.metrics)
        if any(n.startswith("entity_") for n in names):
            prefix = scorers.entity_prefix
            names = [f"{prefix}_{n[len('entity_'):]}" if n.startswith("entity_") else n for n in names]
        return names

    def scorer_kinds(self, metric_names: Sequence[str]) -> list[str]:
        """Which shared scorers (`Scorers.describe` kinds) produced these metrics; none by default."""
        return []

    def pair_gold(self, reference: str, row: dict) -> tuple[Any, int | None]:
        """(gold, sub-task) for a `clue score` line that brings its own reference text."""
        return reference, None

    @abc.abstractmethod
    def build_samples(
        self, rows: list[dict], budget: PromptBudget, limit: int | None = None
    ) -> tuple[list[Sample], list[str]]:
        """Return (samples to evaluate, shot ids). `limit` caps evaluated items after the shots."""

    @abc.abstractmethod
    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        """Score outputs (same order as samples). Must never raise on any output text."""
