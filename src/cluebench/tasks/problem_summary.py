"""Problem List Summarization (BioNLP 2023 1A): the diagnoses and problems of a discharge letter."""

from __future__ import annotations

from cluebench.tasks.freetext import SummarizationTask
from cluebench.tasks.registry import register_task


@register_task("problem_summary")
class ProblemSummaryTask(SummarizationTask):
    """The reference replaces ';' in the gold summary with ', ' (its attempt to strip a trailing
    ';' first is a no-op, so we reproduce only the replacement)."""

    def prepare(self, row: dict) -> dict:
        row = dict(row)
        row["Summary"] = str(row.get("Summary", "")).replace(";", ", ")
        return row
