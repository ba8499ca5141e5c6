"""MedNLI: three-way natural language inference on clinical sentence pairs (accuracy)."""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.metrics.answers import mednli_reference_correct, mednli_strict_label
from cluebench.metrics.format_checks import label_only_violation
from cluebench.tasks.base import Sample, Score
from cluebench.tasks.fewshot import FewShotTask
from cluebench.tasks.registry import register_task


@register_task("mednli")
class MedNLITask(FewShotTask):
    """`accuracy` is the reference's rule (gold label occurs exactly once in the output, ignoring
    case), kept for comparability although an output naming all three labels passes it;
    `accuracy_strict` takes the first label mentioned as the answer."""

    error_flags = ("loop", "parse_failed", "format_violation")

    def pair_gold(self, reference: str, row: dict) -> tuple[Any, int | None]:
        return reference.strip().lower(), None

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        labels = self.spec.settings.labels
        scores = []
        for sample, output in zip(samples, outputs):
            strict = mednli_strict_label(output, labels)
            gold = str(sample.gold).lower()
            flags = self.base_flags(output)
            flags["parse_failed"] = strict is None
            flags["format_violation"] = label_only_violation(output, labels)
            metrics = {
                "accuracy": 100.0 if mednli_reference_correct(output, gold) else 0.0,
                "accuracy_strict": 100.0 if strict == gold else 0.0,
                "parse_failed_rate": 100.0 if strict is None else 0.0,
            }
            scores.append(Score(parsed=strict, metrics=metrics, flags=flags))
        return scores
