"""Shared, lazily built scorers with a score cache.

The BERTScore encoder and the entity extractor are expensive to load, so one instance serves
every task of a run, and only tasks that need them pay for them.

Scores of the text metrics (ROUGE, BERTScore, entity F1) are pure functions of (prediction,
reference, scorer settings); with a `cache` (the run's response store), each metric family's
per-pair result is kept under sha256(family, the family's settings, protocol sha256, prediction,
reference). A rerun of a finished run therefore computes nothing and never loads the encoder; a
changed setting (another BERTScore model or layer, another entity extractor) changes only that
family's keys, so only that family is computed again. The family settings are the scorers'
`describe()` records (library versions included), so an upgraded library rescores too.

The ICD-10 scores are cached the same way (family "icd10", keyed by the code list's release and
library version and the parsed code lists), because they need the code list, whose first use
costs seconds. MedNLI labels and LongHealth letters are microseconds per sample and are
computed every time.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

PairScores = list[dict[str, float]]


class ScoreCache(Protocol):
    """Where cached per-pair scores live (`run.store.ResponseStore` implements it)."""

    def get_scores(self, keys: Sequence[str]) -> dict[str, dict[str, float]]: ...

    def put_scores(self, values: dict[str, dict[str, float]], family: str) -> None: ...


class Scorers:
    def __init__(
        self,
        bertscore_model: str | None = None,
        bertscore_layers: int | None = None,
        entity_extractor: str = "auto",
        batch_size: int = 64,
        *,
        cache: ScoreCache | None = None,
        protocol_sha256: str = "",
    ) -> None:
        self._bert_args = (bertscore_model, bertscore_layers, batch_size)
        self._entity_kind = entity_extractor
        self._bert: Any = None
        self._entities: Any = None
        self.cache = cache
        self.protocol_sha256 = protocol_sha256
        # pairs served from the cache / computed, per family (what a rerun did, for tests and logs)
        self.cached: Counter[str] = Counter()
        self.computed: Counter[str] = Counter()

    @property
    def bertscore(self) -> Any:
        """The BertScorer (its encoder loads on the first `score` call, not here)."""
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

    # -- cached per-pair scores -----------------------------------------------------------------

    def rouge(self, predictions: Sequence[str], references: Sequence[str]) -> PairScores:
        from cluebench.metrics import rouge

        return self._cached("rouge", rouge.describe(), predictions, references, rouge.rouge_scores)

    def bertscore_pairs(self, predictions: Sequence[str], references: Sequence[str]) -> PairScores:
        return self._cached(
            "bertscore", self.bertscore.describe(), predictions, references, self.bertscore.score
        )

    def entity_pairs(self, predictions: Sequence[str], references: Sequence[str]) -> PairScores:
        from cluebench.metrics.entities import entity_scores

        return self._cached(
            "entities",
            self.entities.describe(),
            predictions,
            references,
            lambda p, r: entity_scores(p, r, self.entities),
        )

    def icd10_pairs(self, predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> PairScores:
        """`icd10.sample_scores` per (predicted codes, gold codes) pair. Cached like the text
        metrics because validity and chapters need the ICD-10-CM code list, whose first use
        parses a 40 MB file: a rerun served from the cache never loads it."""
        from cluebench.metrics import icd10

        def compute(preds: Sequence[str], golds: Sequence[str]) -> PairScores:
            return [icd10.sample_scores(json.loads(p), json.loads(g)) for p, g in zip(preds, golds)]

        return self._cached(
            "icd10",
            icd10.library_info(),
            [json.dumps(list(p)) for p in predicted],
            [json.dumps(list(g)) for g in gold],
            compute,
        )

    def _key(self, family: str, settings: dict, prediction: str, reference: str) -> str:
        payload = json.dumps(
            [family, settings, self.protocol_sha256, prediction, reference],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _cached(
        self,
        family: str,
        settings: dict,
        predictions: Sequence[str],
        references: Sequence[str],
        compute: Callable[[Sequence[str], Sequence[str]], PairScores],
    ) -> PairScores:
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        keys = [self._key(family, settings, p, r) for p, r in zip(predictions, references)]
        known = self.cache.get_scores(keys) if self.cache is not None and keys else {}
        todo: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in known and k not in todo:
                todo[k] = i
        if todo:
            idx = list(todo.values())
            values = compute([predictions[i] for i in idx], [references[i] for i in idx])
            fresh = {k: dict(v) for k, v in zip(todo, values)}
            if self.cache is not None:
                self.cache.put_scores(fresh, family)
            known = {**known, **fresh}
        self.computed[family] += len(todo)
        self.cached[family] += len(keys) - len(todo)
        return [dict(known[k]) for k in keys]

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
