"""`clue score`: score predictions that were produced elsewhere, with the same task code."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from cluebench.errors import DataError
from cluebench.models.base import Message
from cluebench.protocol import DEFAULT_PROTOCOL, load_protocol
from cluebench.records import SampleRecord
from cluebench.tasks.base import PromptBudget, Sample, Task
from cluebench.tasks.registry import get_task
from cluebench.tasks.scorers import Scorers


class _NoLimitBudget(PromptBudget):
    """Builds prompts without truncation: scoring needs ids and references, not a context fit."""

    context_length = 10**12

    def count(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"]) for m in messages)

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(chr(i) for i in ids)


def read_predictions(path: Path) -> list[dict]:
    """JSON lines of {"prediction", "reference"} or {"id", "prediction"}; errors name the line."""
    from cluebench.datasets._io import decode_utf8, iter_jsonl

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "predictions file not found (expected JSON lines with 'prediction')")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror or exc}") from None
    from cluebench.datasets._io import IdRegistry, optional_id, type_name

    rows: list[dict] = []
    ids = IdRegistry(path, "id")
    for _, row, n in iter_jsonl(path, decode_utf8(path, raw)):
        if not isinstance(row, dict):
            raise DataError(path, "expected a JSON object per line", line=n)
        if not isinstance(row.get("prediction"), str):
            raise DataError(path, "missing or non-string value; expected the model's output text", line=n, field="prediction")
        if "reference" not in row and "id" not in row:
            raise DataError(path, "each line needs 'reference' (pairs) or 'id' (matched to the dataset)", line=n)
        if "reference" in row and not isinstance(row["reference"], str):
            raise DataError(path, f"expected the reference text, got {type_name(row['reference'])}", line=n, field="reference")
        if "id" in row:
            ident = optional_id(path, row, "id", n)
            if ident is None:
                raise DataError(path, "expected a string or integer id, got null", line=n, field="id")
            ids.add(ident, n)  # a duplicate would be counted twice
            row["id"] = ident
        if "subtask" in row:
            sub = row["subtask"]
            if isinstance(sub, bool) or sub not in (1, 2, 3):
                raise DataError(path, f"expected sub-task 1, 2 or 3, got {sub!r}", line=n, field="subtask")
        row["_line"] = n
        rows.append(row)
    if not rows:
        raise DataError(path, "no predictions in file")
    return rows


def _pair_sample(task: Task, row: dict) -> Sample:
    """A sample for a line that brings its own reference; the task says what its gold answer is."""
    reference = str(row["reference"])
    gold, subtask = task.pair_gold(reference, row)
    sid = str(row.get("id", f"line-{row['_line']}"))
    return Sample(id=sid, messages=[], reference=reference, max_tokens=0, gold=gold, subtask=subtask,
                  cluster=sid)


def score_predictions(
    task_id: str,
    predictions: Path,
    data_dir: Path | None = None,
    scorers: Scorers | None = None,
    protocol: str = DEFAULT_PROTOCOL,
) -> dict:
    """{"task", "n", "metrics": {name: mean}, "ci": {...}, "unmatched": [...]}"""
    from cluebench.analysis.aggregate import summarize_task

    spec = load_protocol(protocol)
    task = get_task(task_id, spec)
    rows = read_predictions(predictions)
    scorers = scorers or Scorers()
    samples: list[Sample] = []
    outputs: list[str] = []
    if all("reference" in r for r in rows):
        samples = [_pair_sample(task, r) for r in rows]
        outputs = [r["prediction"] for r in rows]
    else:
        from cluebench.datasets import resolve_dataset

        dataset = resolve_dataset(task_id, data_dir, spec)
        built, _ = task.build_samples(dataset.rows, _NoLimitBudget())
        by_id = {s.id: s for s in built}
        for r in rows:
            sid = str(r.get("id"))
            if sid not in by_id:
                raise DataError(predictions, f"id '{sid}' is not an evaluated sample of {task_id} in {dataset.path}", line=r["_line"], field="id")
            samples.append(by_id[sid])
            outputs.append(r["prediction"])
    scores = task.score(samples, outputs, scorers)
    sample_rows = [
        SampleRecord(id=s.id, cluster=s.cluster, subtask=s.subtask, output=out, metrics=sc.metrics,
                     flags={**sc.flags, "failed": False})
        for s, sc, out in zip(samples, scores, outputs)
    ]
    names = task.metric_names(scorers)
    summary = summarize_task(
        sample_rows, level=task.level, headline=task.headline, metric_names=names, error_flags=task.error_flags
    )
    return {
        "task": task_id,
        "n": len(samples),
        "metrics": {k: v["mean"] for k, v in summary["metrics"].items()},
        "ci": {k: v["ci"] for k, v in summary["metrics"].items()},
        "errors": summary.get("errors", {}),
    }
