"""The free-text tasks: MeQSum, Problem List Summarization and MeDiSumQA.

They differ only in their data preparation and in which metric families the protocol lists
(ROUGE, BERTScore, entity F1); the scoring is batched so the encoder runs once per task.
"""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.metrics.format_checks import single_question_violation
from cluebench.tasks.base import Sample, Score
from cluebench.tasks.fewshot import FewShotTask


class SummarizationTask(FewShotTask):
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


class MeQSumTask(SummarizationTask):
    """Consumer health question summarisation; the instruction asks for only the question."""

    id = "meqsum"

    def flags(self, output: str) -> dict[str, Any]:
        flags = super().flags(output)
        flags["format_violation"] = single_question_violation(output)
        return flags


class ProblemSummaryTask(SummarizationTask):
    """BioNLP 2023 1A. The reference replaces ';' in the gold summary with ', ' (its attempt to
    strip a trailing ';' first is a no-op, so we reproduce only the replacement)."""

    id = "problem_summary"

    def prepare(self, row: dict) -> dict:
        row = dict(row)
        row["Summary"] = str(row.get("Summary", "")).replace(";", ", ")
        return row


class MeDiSumQATask(SummarizationTask):
    """Questions a lay person might ask about their own discharge letter."""

    id = "medisumqa"
