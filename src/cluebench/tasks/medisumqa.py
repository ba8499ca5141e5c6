"""MeDiSumQA: questions a lay person might ask about their own discharge letter."""

from __future__ import annotations

from cluebench.tasks.freetext import SummarizationTask
from cluebench.tasks.registry import register_task


@register_task("medisumqa")
class MeDiSumQATask(SummarizationTask):
    """Free-text answers scored against the reference answer (ROUGE, BERTScore, entity F1)."""
