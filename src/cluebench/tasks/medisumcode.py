"""MeDiSumCode: ICD-10-CM coding of discharge summaries (set P/R/F1, exact and by category)."""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.metrics import icd10
from cluebench.metrics.format_checks import codes_only_violation
from cluebench.protocol import MeDiSumCodeSettings
from cluebench.tasks.base import Sample, Score
from cluebench.tasks.fewshot import FewShotTask
from cluebench.tasks.registry import register_task


@register_task("medisumcode")
class MeDiSumCodeTask(FewShotTask):
    """Codes are compared dotless and upper-cased. Parsing uses the reference's regex widened to
    U codes (the reference's `[A-TV-Z]` misses U07.1); the gold list's codes are normalised the
    same way. Every ICD rule (counting, validity, the empty gold list) is `metrics.icd10`'s: this
    task only binds the protocol's regex to it and sets the flags."""

    error_flags = ("loop", "parse_failed", "format_violation", "invalid_codes", "increasing_digits")

    def prepare(self, row: dict) -> dict:
        row = dict(row)
        codes = [icd10.normalize(str(c["code"])) for c in row.get("icd_codes", [])]
        row["codes"] = self.settings.code_joiner.join(codes)
        row["_gold_codes"] = codes
        return row

    @property
    def settings(self) -> MeDiSumCodeSettings:
        return self.spec.settings

    def gold(self, row: dict) -> Any:
        return row["_gold_codes"]

    def pair_gold(self, reference: str, row: dict) -> tuple[Any, int | None]:
        return icd10.parse_codes(reference, self.settings.code_regex_fixed), None

    def scorer_kinds(self, metric_names: Sequence[str]) -> list[str]:
        return ["icd10"]

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        pattern = self.settings.code_regex_fixed
        predicted = [icd10.parse_codes(o, pattern) for o in outputs]  # every entry, as the reference counts
        scored = scorers.icd10_pairs(predicted, [list(s.gold) for s in samples])
        scores = []
        for output, codes, values in zip(outputs, predicted, scored):
            flags = self.base_flags(output)
            flags.update(
                parse_failed=not codes,
                invalid_codes=int(values.pop("invalid_codes")),
                increasing_digits=icd10.increasing_digits(icd10.unique_codes(codes)),
                format_violation=codes_only_violation(output, pattern, self.settings.codes_prefix_regex),
            )
            metrics = {k: values[k] for k in self.spec.metrics if k in values}  # the protocol's order, cached or not
            scores.append(Score(parsed=codes, metrics=metrics, flags=flags))
        return scores
