"""The shared shape of the free-text tasks (MeQSum, Problem List Summarization, MeDiSumQA).

They differ only in their data preparation and in which metric families the protocol lists
(ROUGE, BERTScore, entity F1); the scoring is batched so the encoder runs once per task.
"""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.tasks.base import Sample, Score
from cluebench.tasks.fewshot import FewShotTask


class SummarizationTask(FewShotTask):
    error_flags = ("loop", "parse_failed")

    def scorer_kinds(self, metric_names: Sequence[str]) -> list[str]:
        kinds = []
        if any(m.startswith("bertscore") for m in metric_names):
            kinds.append("bertscore")
        if any(m.startswith(("entity_", "umls_")) for m in metric_names):
            kinds.append("entities")
        return kinds

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        names = self.metric_names(scorers)
        refs = [s.reference for s in samples]
        preds = [str(o) for o in outputs]
        per_sample: list[dict[str, float]] = [{} for _ in preds]
        if any(n.startswith("rouge") for n in names):
            for acc, r in zip(per_sample, scorers.rouge(preds, refs)):
                acc.update(r)
        if any(n.startswith("bertscore") for n in names):
            for acc, b in zip(per_sample, scorers.bertscore_pairs(preds, refs)):
                acc.update(b)
        if any(n.startswith(("entity_", "umls_")) for n in names):
            for acc, e in zip(per_sample, scorers.entity_pairs(preds, refs)):
                acc.update(e)
        return [
            Score(
                parsed=None,
                metrics={n: float(m[n]) for n in names if n in m},
                flags=self.flags(pred),
            )
            for pred, m in zip(preds, per_sample)
        ]

    def flags(self, output: str) -> dict[str, Any]:
        flags = self.base_flags(output)
        flags["parse_failed"] = not output.strip()
        return flags
