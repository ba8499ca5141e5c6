"""MeQSum: consumer health question summarisation (ROUGE, BERTScore); the instruction asks for
only the question, so an answer that is not one question is a format violation."""

from __future__ import annotations

from typing import Any

from cluebench.metrics.format_checks import single_question_violation
from cluebench.tasks.freetext import SummarizationTask
from cluebench.tasks.registry import register_task


@register_task("meqsum")
class MeQSumTask(SummarizationTask):
    error_flags = ("loop", "parse_failed", "format_violation")

    def flags(self, output: str) -> dict[str, Any]:
        flags = super().flags(output)
        flags["format_violation"] = single_question_violation(output)
        return flags
