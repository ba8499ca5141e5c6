"""LongHealth's prompt packing: which documents fit the token budget, where the last one is cut,
and the bookkeeping of what was cut (per sample: documents cut or left out, tokens dropped,
whether the answer passages survived and where they ended up).

The budget rule differs from the reference's `create_prompt` on purpose: the whole rendered
prompt (system + user in the model's own chat template) plus the generated tokens must fit,
where the reference counts only the user template and documents. The final prompt is counted
once and trimmed until it fits. Every document is tokenized once per model (a cache held weakly
per budget object, so a finished model can be freed).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable, Sequence

from cluebench.errors import ConfigError
from cluebench.models.base import Message
from cluebench.tasks.base import PromptBudget, Truncation
from cluebench.tasks.longhealth_questions import Document

# Text that stands in for a document when measuring what a document boundary costs in tokens
# (a separator or the template's documents slot tokenize differently next to text than alone).
PROBE = "Probe text."

# messages(documents joined) -> the prompt's messages, for one question and sub-task
Render = Callable[[str], list[Message]]


@dataclass
class Chosen:
    """A document in the prompt: its full token ids and how many of them are kept."""

    doc: Document
    ids: Sequence[int]
    keep: int
    text: str

    @property
    def cut(self) -> bool:
        return self.keep < len(self.ids)


@dataclass
class _ModelCache:
    """Per model: each document's token ids, and the in-context token cost of one separator."""

    ids: dict[str, Sequence[int]] = field(default_factory=dict)
    separator_cost: int | None = None


@dataclass
class Packed:
    """The documents part of one prompt, in final (shuffled) order, and its rendered messages."""

    ordered: list[Chosen]
    messages: list[Message]
    prompt_tokens: int


class Packer:
    """Fits documents into a token budget; `separator` joins documents in the prompt."""

    def __init__(self, separator: str) -> None:
        self.separator = separator
        self._cache: weakref.WeakKeyDictionary[PromptBudget, _ModelCache] = weakref.WeakKeyDictionary()

    def _model_cache(self, budget: PromptBudget) -> _ModelCache:
        cache = self._cache.get(budget)
        if cache is None:
            cache = self._cache[budget] = _ModelCache()
        return cache

    def token_ids(self, budget: PromptBudget, text: str) -> Sequence[int]:
        """A document's token ids under this model, encoded at most once per packer."""
        cache = self._model_cache(budget).ids
        ids = cache.get(text)
        if ids is None:
            ids = cache[text] = tuple(budget.encode(text))
        return ids

    def separator_cost(self, budget: PromptBudget) -> int:
        """Tokens one separator adds between two documents (measured in context, once per model:
        alone it can tokenize to more or fewer tokens than between text)."""
        cache = self._model_cache(budget)
        if cache.separator_cost is None:
            probe = len(self.token_ids(budget, PROBE))
            cache.separator_cost = len(budget.encode(PROBE + self.separator + PROBE)) - 2 * probe
        return cache.separator_cost

    def room(self, budget: PromptBudget, render: Render, token_limit: int, subtask: int, question_id: str) -> int:
        """Tokens left for the documents (separators included) in one question's prompt: the
        limit minus the prompt rendered without documents, minus what the documents slot costs
        once filled (the template's text around it can tokenize differently next to a document).
        Raises ConfigError when the question does not fit even without documents."""
        fixed = budget.count(render(""))
        if fixed > token_limit:
            raise ConfigError(
                f"LongHealth sub-task {subtask} budget leaves {token_limit} prompt tokens, but "
                f"question {question_id} needs {fixed} without any document: raise the budget"
            )
        probe = budget.count(render(PROBE)) - len(self.token_ids(budget, PROBE))
        return token_limit - max(fixed, probe)

    def select(self, budget: PromptBudget, candidates: Sequence[Document], room: int, sep_tokens: int) -> list[Chosen]:
        """Whole documents while they fit `room` tokens (separators included); the first that
        does not fit is cut at what is left, and selection stops there (the reference's rule)."""
        chosen: list[Chosen] = []
        used = 0
        for doc in candidates:
            ids = self.token_ids(budget, doc.text)
            cost = len(ids) + (sep_tokens if chosen else 0)
            if used + cost <= room:
                chosen.append(Chosen(doc, ids, len(ids), doc.text))
                used += cost
                continue
            keep = room - used - (sep_tokens if chosen else 0)
            if keep > 0:
                chosen.append(Chosen(doc, ids, keep, budget.decode(ids[:keep])))
            break
        return chosen

    def fit(self, budget: PromptBudget, render: Render, chosen: list[Chosen], ordered: list[Chosen], limit: int) -> Packed:
        """Render and count the final prompt; while tokenization across document boundaries
        makes it exceed `limit`, trim the last-selected document by the excess (dropping it when
        nothing is left) and count again. Ends because the prompt without documents fits."""
        while True:
            messages = render(self.separator.join(c.text for c in ordered))
            n = budget.count(messages)
            if n <= limit or not chosen:
                return Packed(ordered, messages, n)
            victim = chosen[-1]
            victim.keep = max(victim.keep - (n - limit), 0)
            if victim.keep == 0:
                chosen.pop()
                ordered[:] = [c for c in ordered if c is not victim]
            else:
                victim.text = budget.decode(victim.ids[: victim.keep])

    def describe(self, budget: PromptBudget, candidates: Sequence[Document], packed: Packed) -> tuple[Truncation, dict]:
        """What was cut, whether the answers survived, and where the answer passages ended up
        (relative [start, end] over the characters of the final joined documents)."""
        kept = {c.doc.id: c for c in packed.ordered}
        dropped_tokens = 0
        for doc in candidates:
            if doc.id in kept:
                dropped_tokens += len(kept[doc.id].ids) - kept[doc.id].keep
            else:
                dropped_tokens += len(self.token_ids(budget, doc.text))
        separator = self.separator
        total_chars = sum(len(c.text) for c in packed.ordered) + len(separator) * max(len(packed.ordered) - 1, 0)
        positions: list[list[float]] = []
        spans_total = spans_kept = 0
        offset = 0
        for c in packed.ordered:
            if c.doc.is_answer:
                n_chars = len(c.doc.text)
                fraction = len(c.text) / n_chars if n_chars else 1.0
                for start, end in c.doc.spans:
                    if end <= fraction:
                        positions.append(
                            [
                                round((offset + start * n_chars) / total_chars, 6),
                                round((offset + end * n_chars) / total_chars, 6),
                            ]
                        )
            offset += len(c.text) + len(separator)
        answer_docs = [d for d in candidates if d.is_answer]
        for doc in answer_docs:
            spans_total += len(doc.spans)
            if doc.id in kept:
                fraction = len(kept[doc.id].text) / len(doc.text) if doc.text else 1.0
                spans_kept += sum(1 for _, end in doc.spans if end <= fraction)
        answer_dropped = [d.id for d in answer_docs if d.id not in kept]
        answer_cut = [d.id for d in answer_docs if d.id in kept and kept[d.id].cut]
        truncation = Truncation(
            truncated=dropped_tokens > 0,
            tokens_dropped=dropped_tokens,
            answer_survived=not answer_dropped and spans_kept == spans_total,
        )
        extra = {
            "doc_ids": [c.doc.id for c in packed.ordered],
            "answer_doc_ids": [d.id for d in answer_docs],
            "docs_cut": [c.doc.id for c in packed.ordered if c.cut],
            "docs_dropped": [d.id for d in candidates if d.id not in kept],
            "answer_docs_cut": answer_cut,
            "answer_docs_dropped": answer_dropped,
            "answer_positions": positions,
            "answer_spans": [spans_kept, spans_total],
        }
        return truncation, extra
