"""ROUGE-1/2/L per sample, computed exactly as the reference's HF ``evaluate.load("rouge")``.

The reference called ``rouge.compute(predictions, references)`` which, with no tokenizer passed,
wraps Google's `rouge-score`: ``RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)``
with its default tokenizer (lower-case, every non-[a-z0-9] character a separator), scoring
``scorer.score(reference, prediction)`` per pair and keeping the F-measure. We call `rouge-score`
directly (``evaluate`` would fetch its metric script from the Hub) with the same settings, so
per-sample values are identical. Note the default tokenizer drops non-ASCII letters entirely.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Sequence
from typing import Any

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


@functools.lru_cache(maxsize=1)
def _scorer():  # rouge_score.rouge_scorer.RougeScorer; imported lazily (it pulls in nltk)
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)


def rouge_scores(predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]:
    """Per pair ``{"rouge1", "rouge2", "rougeL"}``: F-measure x 100 (0 when either side is empty)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    scorer = _scorer()
    results = []
    for prediction, reference in zip(predictions, references):
        scores = scorer.score(reference, prediction)
        results.append({name: 100.0 * scores[name].fmeasure for name in ROUGE_TYPES})
    return results


def describe() -> dict[str, Any]:
    """What produces the ROUGE numbers (part of the score cache key and of results)."""
    try:
        version = importlib.metadata.version("rouge-score")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"package": f"rouge-score {version}", "types": list(ROUGE_TYPES), "use_stemmer": False}
