"""Few-shot selection, chat construction and structure-aware truncation, shared by the tasks.

Truncation only ever cuts document fields (the protocol's `truncatable` list), never the system
instruction, the question or the answer format; the query's documents are cut first, the shots'
documents only if the query alone cannot make room. Every cut is recorded on the sample.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from cluebench.models.base import Message
from cluebench.protocol import TaskSpec
from cluebench.tasks.base import PromptBudget, Truncation


def split_shots(rows: list[dict], k: int, seed: int) -> tuple[list[dict], list[dict]]:
    """The reference's selection: `random.seed(seed); random.shuffle(rows)`; first k are shots.

    `random.Random(seed).shuffle` draws the same permutation as seeding the module RNG, without
    touching global state. The shots are test items in the paper's protocol; their ids are
    recorded so nobody mistakes the evaluated n for the file's n.
    """
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    return shuffled[:k], shuffled[k:]


def fill(template: str, row: dict) -> str:
    return template.format(**row)


def build_messages(spec: TaskSpec, shots: Sequence[dict], query: dict) -> list[Message]:
    """[system, (user shot, assistant shot)..., user query] with the protocol's templates."""
    messages: list[Message] = [{"role": "system", "content": spec.system}]
    for shot in shots:
        messages.append({"role": "user", "content": fill(spec.user, shot)})
        messages.append({"role": "assistant", "content": fill(spec.assistant, shot)})
    messages.append({"role": "user", "content": fill(spec.user, query)})
    return messages


@dataclass
class _Cut:
    row: dict
    field: str
    ids: list[int]
    keep: int


def fit_messages(
    spec: TaskSpec,
    shots: Sequence[dict],
    query: dict,
    budget: PromptBudget,
    max_tokens: int,
) -> tuple[list[Message], Truncation]:
    """Messages that fit `context_length - max_tokens`, cutting document fields from the end.

    Counting uses the model's own tokenizer over the fully rendered chat (template tokens
    included). Token ids are only computed when a cut is needed, so fitting prompts cost one count.
    """
    limit = budget.context_length - max_tokens
    messages = build_messages(spec, shots, query)
    used = budget.count(messages)
    if used <= limit:
        return messages, Truncation(truncated=False, tokens_dropped=0, answer_survived=True)

    fields = list(spec.truncatable)
    if not fields:  # nothing may be cut: the prompt goes as it is, flagged
        return messages, Truncation(truncated=False, tokens_dropped=0, fits=False)

    # Candidates in cutting order: the query's documents (longest first), then the shots'.
    work_query = dict(query)
    work_shots = [dict(s) for s in shots]
    candidates: list[_Cut] = []
    for row in [work_query, *work_shots]:
        for field in sorted(fields, key=lambda f: -len(str(row.get(f, "")))):
            if field in row and row[field]:
                ids = budget.encode(str(row[field]))
                candidates.append(_Cut(row, field, ids, len(ids)))

    dropped = 0
    for _ in range(8):  # re-count after each cut: tokenization across a cut is not additive
        over = used - limit
        if over <= 0:
            break
        for cut in candidates:
            if over <= 0:
                break
            if cut.keep == 0:
                continue
            take = min(cut.keep, over + 8)  # a small margin absorbs boundary merges
            cut.keep -= take
            dropped += take
            over -= take
            cut.row[cut.field] = budget.decode(cut.ids[: cut.keep]) if cut.keep else ""
        messages = build_messages(spec, work_shots, work_query)
        used = budget.count(messages)
        if all(c.keep == 0 for c in candidates):
            break
    return messages, Truncation(
        truncated=dropped > 0, tokens_dropped=dropped, answer_survived=None, fits=used <= limit
    )
