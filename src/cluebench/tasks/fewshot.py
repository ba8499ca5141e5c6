"""The shared shape of the five few-shot tasks: seed-1 shuffle, first k rows as shots, one prompt
per remaining row, fitted to the model's context."""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.metrics.loops import has_loop
from cluebench.tasks.base import PromptBudget, Sample, Score, Task
from cluebench.tasks.prompting import fit_messages, split_shots


class FewShotTask(Task):
    """Subclasses say how a row becomes template fields, a reference and a gold answer."""

    def prepare(self, row: dict) -> dict:
        """Template fields for a row (the reference's data preparation, if any)."""
        return row

    def reference(self, row: dict) -> str:
        return str(row[self.spec.reference_field])

    def gold(self, row: dict) -> Any:
        return self.reference(row)

    def build_samples(
        self, rows: list[dict], budget: PromptBudget, limit: int | None = None
    ) -> tuple[list[Sample], list[str]]:
        prepared = [self.prepare(r) for r in rows]
        shots, queries = split_shots(prepared, self.spec.shots, self.protocol.shot_seed)
        if limit is not None:
            queries = queries[:limit]
        max_tokens = self.spec.max_new_tokens
        shot_ids = [str(s["id"]) for s in shots]
        samples = []
        for row in queries:
            messages, truncation = fit_messages(self.spec, shots, row, budget, max_tokens)
            samples.append(
                Sample(
                    id=str(row["id"]),
                    messages=messages,
                    reference=self.reference(row),
                    max_tokens=max_tokens,
                    shot_ids=shot_ids,
                    gold=self.gold(row),
                    truncation=truncation,
                )
            )
        return samples, shot_ids

    def base_flags(self, output: str) -> dict[str, Any]:
        return {"loop": has_loop(output)}

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        raise NotImplementedError
