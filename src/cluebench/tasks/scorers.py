"""Shared, lazily built scorers: the BERTScore encoder and the entity extractor are expensive to
load, so one instance serves every task of a run, and only tasks that need them pay for them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Scorers:
    def __init__(
        self,
        bertscore_model: str | None = None,
        bertscore_layers: int | None = None,
        entity_extractor: str = "auto",
        batch_size: int = 64,
    ) -> None:
        self._bert_args = (bertscore_model, bertscore_layers, batch_size)
        self._entity_kind = entity_extractor
        self._bert: Any = None
        self._entities: Any = None

    @property
    def bertscore(self) -> Any:
        if self._bert is None:
            from cluebench.metrics.bertscore import BertScorer

            model, layers, batch = self._bert_args
            self._bert = BertScorer(model_type=model, num_layers=layers, batch_size=batch)
        return self._bert

    @property
    def entities(self) -> Any:
        if self._entities is None:
            from cluebench.metrics.entities import get_extractor

            self._entities = get_extractor(self._entity_kind)
        return self._entities

    def check(self, metric_names: list[str]) -> None:
        """Validate the settings of the scorers these metrics need, before any request is sent
        (a bad `--bertscore-layers` must not surface after every answer was paid for)."""
        if any(m.startswith("bertscore") for m in metric_names):
            self.bertscore.check()

    @property
    def entity_prefix(self) -> str:
        return str(self.entities.metric_prefix)

    def describe(self, kinds: Iterable[str]) -> dict:
        """What produced the numbers, for results.json: one entry per scorer kind a task used
        (`Task.scorer_kinds`: "bertscore", "entities", "icd10")."""
        out: dict = {}
        for kind in kinds:
            if kind == "bertscore":
                out["bertscore"] = self.bertscore.describe()
            elif kind == "entities":
                out["entities"] = self.entities.describe()
            elif kind == "icd10":
                from cluebench.metrics.icd10 import library_info

                out["icd10"] = library_info()
            else:
                raise ValueError(f"unknown scorer kind {kind!r}")
        return out
