"""MeDiSumCode: ICD-10-CM coding of discharge summaries (set P/R/F1, exact and by category)."""

from __future__ import annotations

from typing import Any, Sequence

from cluebench.metrics import icd10
from cluebench.metrics.format_checks import codes_only_violation
from cluebench.protocol import MeDiSumCodeSettings
from cluebench.tasks.base import Sample, Score
from cluebench.tasks.fewshot import FewShotTask


class MeDiSumCodeTask(FewShotTask):
    """Codes are compared dotless and upper-cased. Parsing uses the reference's regex widened to
    U codes (the reference's `[A-TV-Z]` misses U07.1); the gold list's codes are normalised the
    same way. An empty gold list scores as icd10.code_prf defines it (no division by zero)."""

    id = "medisumcode"

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

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        pattern = self.settings.code_regex_fixed
        scores = []
        for sample, output in zip(samples, outputs):
            predicted = icd10.parse_codes(output, pattern)
            gold = list(sample.gold)
            metrics: dict[str, float] = {}
            for level, name in (("exact", "exact"), ("approx", "approx")):
                p, r, f = icd10.code_prf(predicted, gold, level=level)
                metrics.update({f"icd_{name}_p": p, f"icd_{name}_r": r, f"icd_{name}_f1": f})
            metrics["icd_chapter_f1"] = icd10.code_prf(predicted, gold, level="chapter")[2]
            metrics["icd_valid_ratio"] = icd10.valid_ratio(predicted)
            invalid = sum(1 for c in predicted if not icd10.is_valid(c))
            flags = self.base_flags(output)
            flags.update(
                parse_failed=not predicted,
                invalid_codes=invalid,
                increasing_digits=icd10.increasing_digits(predicted),
                format_violation=codes_only_violation(output, pattern, self.settings.codes_prefix_regex),
            )
            scores.append(Score(parsed=predicted, metrics=metrics, flags=flags))
        return scores
