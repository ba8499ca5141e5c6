"""LongHealth (Adams et al. 2024) as CLUE runs it: multiple-choice questions over a patient's
long discharge letters, in three sub-tasks (information extraction, distraction by other
patients' letters, and recognising that the answer is missing).

Why this module differs from the reference `eval_LongHealth.py` where it does:

* Budget. The reference counts only the user template and documents against the budget, so the
  chat template and the 50 generated tokens can push a prompt past the context. Here the whole
  rendered prompt (system + user, the model's own chat template) plus `max_new_tokens` must fit
  `min(budget, context_length)`; the final prompt is counted once and trimmed until it fits.
* Speed. Every document is tokenized once per model (cached on the task instance); the prompt
  without documents and the in-context cost of a separator are measured once per (question,
  sub-task) and once per model, so a prompt usually costs one full count and no re-tokenization.
* Reproducibility. Every random choice (distractor sample, shuffle) is drawn from a generator
  seeded by (seed, patient, question, sub-task, repeat): reruns build byte-identical prompts, and
  adding or removing other questions changes none of them.
* Truncation is recorded per sample: which documents were cut or left out, how many tokens were
  dropped, whether the answer passages survived, and where they ended up in the prompt.

Prompts, separator, option F text, repeats, distractor count, budget and answer regex are read
from the protocol file (`[tasks.longhealth]`), never from code.
"""

from __future__ import annotations

import random
import weakref
from dataclasses import dataclass, field
from typing import Any, Sequence

from cluebench.errors import ConfigError, DataError
from cluebench.metrics.answers import longhealth_lenient, longhealth_strict
from cluebench.metrics.format_checks import answer_sentence_violation
from cluebench.metrics.loops import has_loop
from cluebench.models.base import Message
from cluebench.protocol import LongHealthSettings, Protocol, TaskSpec
from cluebench.tasks.base import PromptBudget, Sample, Score, Task, Truncation
from cluebench.tasks.registry import register_task

SUBTASKS = (1, 2, 3)
# Text that stands in for a document when measuring what a document boundary costs in tokens
# (a separator or the template's documents slot tokenize differently next to text than alone).
_PROBE = "Probe text."


@dataclass(frozen=True)
class Document:
    """One letter that may go into a prompt. `spans` are the answer passages as relative
    (start, end) positions 0..1 within the text (LongHealth's `answer_location`); empty for
    documents that do not hold the answer."""

    patient: str
    text_id: str
    text: str
    spans: tuple[tuple[float, float], ...] = ()
    is_answer: bool = False

    @property
    def id(self) -> str:
        """`{patient}/{text_id}`: unique across the file."""
        return f"{self.patient}/{self.text_id}"


@dataclass(frozen=True)
class Question:
    """A validated question with its gold letter and the patient's documents split by role."""

    patient: str
    index: int
    text: str
    options: tuple[tuple[str, str], ...]  # (upper-case letter, option text), A..E
    gold: str
    answer_docs: tuple[Document, ...]
    other_docs: tuple[Document, ...]

    @property
    def id(self) -> str:
        return f"{self.patient}/q{self.index}"


@dataclass
class _Chosen:
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
class _Built:
    """The documents part of one prompt, in final (shuffled) order, and its rendered messages."""

    ordered: list[_Chosen]
    messages: list[Message]
    prompt_tokens: int


@register_task("longhealth")
class LongHealthTask(Task):
    """Builds 15 prompts per question (5 repeats x 3 sub-tasks) and scores the answers.

    budget_subtask1: total prompt + generation tokens for sub-task 1 (`--longhealth-budget`);
        default the protocol's `subtask1_budget` (8,140, the paper's).
    budget_subtask23: the same for sub-tasks 2 and 3; default the model's context length.
    seed: base of every per-prompt seed; default the protocol's `shot_seed`.
    Both budgets are capped at the model's context length.
    """

    error_flags = ("loop", "parse_failed", "format_violation", "hallucination")
    option_names = ("budget_subtask1", "budget_subtask23", "repeats")

    def __init__(
        self,
        spec: TaskSpec,
        protocol: Protocol,
        *,
        budget_subtask1: int | None = None,
        budget_subtask23: int | None = None,
        seed: int | None = None,
        repeats: int | None = None,
    ) -> None:
        super().__init__(spec, protocol)
        for name, value in (("budget_subtask1", budget_subtask1), ("budget_subtask23", budget_subtask23), ("repeats", repeats)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ConfigError(f"LongHealth {name} must be a positive number of tokens, got {value!r}")
        self.settings: LongHealthSettings = spec.settings
        self.budget_subtask1 = budget_subtask1
        self.budget_subtask23 = budget_subtask23
        # prompts per question and sub-task: the protocol's 5 unless a smaller demo asks for fewer
        self.repeats = self.settings.repeats if repeats is None else repeats
        self.seed = protocol.shot_seed if seed is None else int(seed)
        # Token ids per document text, per model (budget object, held weakly so a finished model
        # can be freed): each document is encoded once per model.
        self._cache: weakref.WeakKeyDictionary[PromptBudget, _ModelCache] = weakref.WeakKeyDictionary()

    # ---------------------------------------------------------------- protocol facts

    def pair_gold(self, reference: str, row: dict) -> tuple[Any, int | None]:
        return reference.strip().upper()[:1], int(row.get("subtask", 1))

    @property
    def max_tokens(self) -> int:
        return self.spec.max_new_tokens

    @property
    def letters(self) -> str:
        """Option letters of sub-task 1 ("ABCDE")."""
        return self.settings.option_labels.upper()

    @property
    def none_letter(self) -> str:
        """The letter of the added 'cannot be answered' option (the protocol's ``option_f_letter``)."""
        return self.settings.option_f_letter

    def letters_for(self, subtask: int) -> str:
        return self.letters if subtask == 1 else self.letters + self.none_letter

    def token_limit(self, subtask: int, budget: PromptBudget) -> int:
        """Most tokens the rendered prompt may have: min(budget, context) - max_new_tokens."""
        if subtask == 1:
            total = self.budget_subtask1 or self.settings.subtask1_budget
        else:
            total = self.budget_subtask23 or budget.context_length
        return min(total, budget.context_length) - self.max_tokens

    # ---------------------------------------------------------------- rows → questions

    def questions(self, rows: Sequence[dict]) -> list[Question]:
        """Every question of every patient, in file order, validated."""
        out: list[Question] = []
        for row in rows:
            pid = str(row["id"])
            texts = row.get("texts")
            if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
                raise DataError(
                    self.spec.data_file,
                    "expected an object of text_id: document text",
                    field=f"{pid}.texts",
                )
            for qi, q in enumerate(row.get("questions") or []):
                out.append(self._question(pid, texts, qi, q))
        return out

    def _question(self, pid: str, texts: dict[str, str], qi: int, q: dict) -> Question:
        where = f"{pid}.questions[{qi}]"
        labels = self.settings.option_labels
        try:
            options = tuple((lab.upper(), str(q[f"answer_{lab}"])) for lab in labels)
            question_text = str(q["question"])
            correct = str(q["correct"])
            location = q["answer_location"]
        except KeyError as exc:
            raise DataError(self.spec.data_file, f"missing key {exc.args[0]!r}", field=where) from None
        # The datasets reader validates the file and records the letter; rows built elsewhere
        # (tests, `clue score`) get the same rule here.
        gold = q.get("correct_letter") or correct_letter(options, correct)
        if gold is None:
            raise DataError(
                self.spec.data_file,
                f"no option contains the correct answer {correct!r}",
                field=f"{where}.correct",
            )
        answer_docs = []
        for text_id, loc in (location or {}).items():
            if text_id not in texts:
                raise DataError(
                    self.spec.data_file,
                    f"answer_location names unknown text {text_id!r}",
                    field=f"{where}.answer_location",
                )
            try:
                spans = tuple((float(s), float(e)) for s, e in zip(loc["start"], loc["end"]))
            except (KeyError, TypeError, ValueError):
                raise DataError(
                    self.spec.data_file,
                    "expected {start: [..], end: [..]} relative positions",
                    field=f"{where}.answer_location.{text_id}",
                ) from None
            answer_docs.append(Document(pid, text_id, texts[text_id], spans, True))
        others = tuple(Document(pid, tid, t) for tid, t in texts.items() if tid not in (location or {}))
        return Question(pid, qi, question_text, options, gold, tuple(answer_docs), others)

    @staticmethod
    def distractor_pool(rows: Sequence[dict]) -> list[Document]:
        """All documents of all patients, ordered by patient id then file order, so a sample of
        it depends on the seed and the data only, never on row order."""
        pool = []
        for row in sorted(rows, key=lambda r: str(r["id"])):
            pid = str(row["id"])
            pool.extend(Document(pid, tid, text) for tid, text in row["texts"].items())
        return pool

    # ---------------------------------------------------------------- prompts

    def messages(self, question: Question, subtask: int, documents: str) -> list[Message]:
        options = list(question.options)
        if subtask != 1:
            options.append((self.none_letter, self.settings.option_f))
        line = self.settings.option_line
        user = self.spec.user.format(
            documents=documents,
            question_text=question.text,
            options="\n".join(line.format(letter=letter, text=text) for letter, text in options),
        )
        return [{"role": "system", "content": self.spec.system}, {"role": "user", "content": user}]

    def _model_cache(self, budget: PromptBudget) -> _ModelCache:
        cache = self._cache.get(budget)
        if cache is None:
            cache = self._cache[budget] = _ModelCache()
        return cache

    def token_ids(self, budget: PromptBudget, text: str) -> Sequence[int]:
        """A document's token ids under this model, encoded at most once per task instance."""
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
            sep = self.settings.separator
            probe = len(self.token_ids(budget, _PROBE))
            cache.separator_cost = len(budget.encode(_PROBE + sep + _PROBE)) - 2 * probe
        return cache.separator_cost

    def room(self, budget: PromptBudget, question: Question, subtask: int, token_limit: int) -> int:
        """Tokens left for the documents (separators included) in this question's prompt: the
        limit minus the prompt rendered without documents, minus what the documents slot costs
        once filled (the template's text around it can tokenize differently next to a document).
        Raises ConfigError when the question does not fit even without documents."""
        fixed = budget.count(self.messages(question, subtask, ""))
        if fixed > token_limit:
            raise ConfigError(
                f"LongHealth sub-task {subtask} budget leaves {token_limit} prompt tokens, but "
                f"question {question.id} needs {fixed} without any document: raise the budget"
            )
        probe = budget.count(self.messages(question, subtask, _PROBE)) - len(self.token_ids(budget, _PROBE))
        return token_limit - max(fixed, probe)

    def candidates(
        self, question: Question, pool: Sequence[Document], subtask: int, rng: random.Random
    ) -> list[Document]:
        """Documents in the order they are offered to the budget: answer documents first."""
        if subtask == 1:
            return [*question.answer_docs, *question.other_docs]
        others = [d for d in pool if d.patient != question.patient]
        distractors = rng.sample(others, min(self.settings.distractors, len(others)))
        return distractors if subtask == 3 else [*question.answer_docs, *distractors]

    def select(
        self, budget: PromptBudget, candidates: Sequence[Document], room: int, sep_tokens: int
    ) -> list[_Chosen]:
        """Whole documents while they fit `room` tokens (separators included); the first that
        does not fit is cut at what is left, and selection stops there (the reference's rule)."""
        chosen: list[_Chosen] = []
        used = 0
        for doc in candidates:
            ids = self.token_ids(budget, doc.text)
            cost = len(ids) + (sep_tokens if chosen else 0)
            if used + cost <= room:
                chosen.append(_Chosen(doc, ids, len(ids), doc.text))
                used += cost
                continue
            keep = room - used - (sep_tokens if chosen else 0)
            if keep > 0:
                chosen.append(_Chosen(doc, ids, keep, budget.decode(ids[:keep])))
            break
        return chosen

    def fit(
        self,
        budget: PromptBudget,
        question: Question,
        subtask: int,
        chosen: list[_Chosen],
        ordered: list[_Chosen],
        limit: int,
    ) -> _Built:
        """Render and count the final prompt; while tokenization across document boundaries
        makes it exceed `limit`, trim the last-selected document by the excess (dropping it when
        nothing is left) and count again. Ends because the prompt without documents fits."""
        separator = self.settings.separator
        while True:
            messages = self.messages(question, subtask, separator.join(c.text for c in ordered))
            n = budget.count(messages)
            if n <= limit or not chosen:
                return _Built(ordered, messages, n)
            victim = chosen[-1]
            victim.keep = max(victim.keep - (n - limit), 0)
            if victim.keep == 0:
                chosen.pop()
                ordered[:] = [c for c in ordered if c is not victim]
            else:
                victim.text = budget.decode(victim.ids[: victim.keep])

    def build_samples(
        self, rows: list[dict], budget: PromptBudget, limit: int | None = None
    ) -> tuple[list[Sample], list[str]]:
        """15 samples per question (sub-tasks 1, 2, 3 x repeats); `limit` caps questions."""
        questions = self.questions(rows)
        if limit is not None:
            questions = questions[:limit]
        pool = self.distractor_pool(rows)
        sep_tokens = self.separator_cost(budget)
        samples: list[Sample] = []
        for question in questions:
            for subtask in SUBTASKS:
                token_limit = self.token_limit(subtask, budget)
                room = self.room(budget, question, subtask, token_limit)
                for repeat in range(self.repeats):
                    samples.append(
                        self._sample(
                            budget,
                            question,
                            pool,
                            subtask,
                            repeat,
                            room,
                            token_limit,
                            sep_tokens,
                        )
                    )
        return samples, []

    def _sample(
        self,
        budget: PromptBudget,
        question: Question,
        pool: Sequence[Document],
        subtask: int,
        repeat: int,
        room: int,
        token_limit: int,
        sep_tokens: int,
    ) -> Sample:
        rng = random.Random(f"{self.seed}:{question.patient}:{question.index}:{subtask}:{repeat}")
        candidates = self.candidates(question, pool, subtask, rng)
        chosen = self.select(budget, candidates, room, sep_tokens)
        ordered = list(chosen)
        rng.shuffle(ordered)
        built = self.fit(budget, question, subtask, chosen, ordered, token_limit)
        gold = question.gold if subtask != 3 else self.none_letter
        truncation, extra = self.describe(budget, candidates, built)
        extra["prompt_tokens"] = built.prompt_tokens
        extra["token_limit"] = token_limit
        return Sample(
            id=f"{question.id}/t{subtask}/r{repeat}",
            messages=built.messages,
            reference=gold,
            max_tokens=self.max_tokens,
            cluster=question.id,
            subtask=subtask,
            gold=gold,
            truncation=truncation,
            extra=extra,
        )

    def describe(
        self, budget: PromptBudget, candidates: Sequence[Document], built: _Built
    ) -> tuple[Truncation, dict]:
        """What was cut, whether the answers survived, and where the answer passages ended up
        (relative [start, end] over the characters of the final joined documents)."""
        kept = {c.doc.id: c for c in built.ordered}
        dropped_tokens = 0
        for doc in candidates:
            if doc.id in kept:
                dropped_tokens += len(kept[doc.id].ids) - kept[doc.id].keep
            else:
                dropped_tokens += len(self.token_ids(budget, doc.text))
        separator = self.settings.separator
        total_chars = sum(len(c.text) for c in built.ordered) + len(separator) * max(
            len(built.ordered) - 1, 0
        )
        positions: list[list[float]] = []
        spans_total = spans_kept = 0
        offset = 0
        for c in built.ordered:
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
            "doc_ids": [c.doc.id for c in built.ordered],
            "answer_doc_ids": [d.id for d in answer_docs],
            "docs_cut": [c.doc.id for c in built.ordered if c.cut],
            "docs_dropped": [d.id for d in candidates if d.id not in kept],
            "answer_docs_cut": answer_cut,
            "answer_docs_dropped": answer_dropped,
            "answer_positions": positions,
            "answer_spans": [spans_kept, spans_total],
        }
        return truncation, extra

    # ---------------------------------------------------------------- scoring

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        """`accuracy`: the reference's case-sensitive regex (first match) equals the gold letter;
        `accuracy_lenient`: a tolerant parse does; `parse_failed_rate`: the tolerant parse found
        no letter. `parsed` is the tolerant parse. Sub-task 3 also flags `hallucination` (a
        letter other than the 'cannot be answered' one)."""
        pattern = self.settings.answer_regex
        prefix = self.settings.answer_prefix
        scores = []
        for sample, output in zip(samples, outputs):
            text = output if isinstance(output, str) else ""
            subtask = sample.subtask or 1
            strict = longhealth_strict(text, pattern)
            lenient = longhealth_lenient(text, self.letters_for(subtask))
            flags: dict[str, Any] = {
                "parse_failed": lenient is None,
                "format_violation": bool(answer_sentence_violation(text, prefix)),
                "loop": bool(has_loop(text)),
            }
            if subtask == 3:
                flags["hallucination"] = lenient is not None and lenient != self.none_letter
            metrics = {
                "accuracy": 100.0 if strict == sample.gold else 0.0,
                "accuracy_lenient": 100.0 if lenient == sample.gold else 0.0,
                "parse_failed_rate": 100.0 if lenient is None else 0.0,
            }
            scores.append(Score(parsed=lenient, metrics=metrics, flags=flags))
        return scores


def correct_letter(options: Sequence[tuple[str, str]], correct: str) -> str | None:
    """The letter of the option that is the correct answer: an option equal to `correct` if one
    is, else the last option containing it (the reference loops over all options and keeps the
    last match), else None."""
    for letter, text in options:
        if text.strip() == correct.strip():
            return letter
    found = None
    for letter, text in options:
        if correct in text:
            found = letter
    return found
