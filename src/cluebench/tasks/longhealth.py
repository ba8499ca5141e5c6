"""LongHealth (Adams et al. 2024) as CLUE runs it: multiple-choice questions over a patient's
long discharge letters, in three sub-tasks (information extraction, distraction by other
patients' letters, and recognising that the answer is missing).

This module is the task: protocol facts, prompts and scoring. The data model (questions,
documents, the gold letter) is `longhealth_questions`; fitting documents into the token budget
and recording what was cut is `longhealth_packing`.

Why the task differs from the reference `eval_LongHealth.py` where it does:

* Budget. The reference counts only the user template and documents against the budget, so the
  chat template and the 50 generated tokens can push a prompt past the context. Here the whole
  rendered prompt (system + user, the model's own chat template) plus `max_new_tokens` must fit
  `min(budget, context_length)`; the final prompt is counted once and trimmed until it fits.
* Speed. Every document is tokenized once per model (cached by the task's packer); the prompt
  without documents and the in-context cost of a separator are measured once per (question,
  sub-task) and once per model, so a prompt usually costs one full count and no re-tokenization.
* Reproducibility. Every random choice (distractor sample, shuffle) is drawn from a generator
  seeded by (seed, patient, question, sub-task, repeat): reruns build byte-identical prompts, and
  adding or removing other questions changes none of them.
* Truncation is recorded per sample: which documents were cut or left out, how many tokens were
  dropped, whether the answer passages survived, and where they ended up in the prompt.

Scored as the reference scores: the gold letter is the last option containing `correct` (F in
sub-task 3), the strict answer regex decides `accuracy`; a question whose `correct` text is in
several options is flagged `ambiguous_gold`, never dropped.

Prompts, separator, option F text, repeats, distractor count, budget and answer regex are read
from the protocol file (`[tasks.longhealth]`), never from code.
"""

from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

from cluebench.errors import ConfigError
from cluebench.metrics.answers import longhealth_lenient, longhealth_strict
from cluebench.metrics.format_checks import answer_sentence_violation
from cluebench.metrics.loops import has_loop
from cluebench.models.base import Message
from cluebench.protocol import LongHealthSettings, Protocol, TaskSpec
from cluebench.tasks.base import PromptBudget, Sample, Score, Task
from cluebench.tasks.longhealth_packing import Packer, Render
from cluebench.tasks.longhealth_questions import Document, Question, distractor_pool, load_questions
from cluebench.tasks.registry import register_task

SUBTASKS = (1, 2, 3)


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
        self.packer = Packer(self.settings.separator)

    @classmethod
    def run_options(cls, settings: Any, demo: Mapping[str, Any] | None) -> dict[str, Any]:
        """`--longhealth-budget` / `--longhealth-budget-23` win over the demo's budgets; the demo
        may also ask for fewer repeats. None leaves the protocol's value."""
        demo = demo or {}
        return {
            "budget_subtask1": settings.longhealth_budget or demo.get("budget_subtask1"),
            "budget_subtask23": settings.longhealth_budget_23 or demo.get("budget_subtask23"),
            "repeats": demo.get("repeats"),
        }

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

    def gold(self, question: Question, subtask: int) -> str:
        """Sub-task 1: the question's letter; 2: the same with F appended (F if its text contains
        `correct`, as in the reference); 3: F."""
        if subtask == 3:
            return self.none_letter
        if subtask == 2:
            return question.gold_with(self.none_letter, self.settings.option_f)
        return question.gold

    # ---------------------------------------------------------------- rows → questions

    def questions(self, rows: Sequence[dict]) -> list[Question]:
        """Every question of every patient, in file order, validated (the reader's rule)."""
        return load_questions(rows, self.spec.data_file, self.settings.option_labels)

    @staticmethod
    def distractor_pool(rows: Sequence[dict]) -> list[Document]:
        return distractor_pool(rows)

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

    def candidates(
        self, question: Question, pool: Sequence[Document], subtask: int, rng: random.Random
    ) -> list[Document]:
        """Documents in the order they are offered to the budget: answer documents first."""
        if subtask == 1:
            return [*question.answer_docs, *question.other_docs]
        others = [d for d in pool if d.patient != question.patient]
        distractors = rng.sample(others, min(self.settings.distractors, len(others)))
        return distractors if subtask == 3 else [*question.answer_docs, *distractors]

    def build_samples(
        self, rows: list[dict], budget: PromptBudget, limit: int | None = None
    ) -> tuple[list[Sample], list[str]]:
        """15 samples per question (sub-tasks 1, 2, 3 x repeats); `limit` caps questions."""
        questions = self.questions(rows)
        if limit is not None:
            questions = questions[:limit]
        pool = self.distractor_pool(rows)
        sep_tokens = self.packer.separator_cost(budget)
        samples: list[Sample] = []
        for question in questions:
            for subtask in SUBTASKS:
                token_limit = self.token_limit(subtask, budget)
                room = self.packer.room(
                    budget, self._render(question, subtask), token_limit, subtask, question.id
                )
                for repeat in range(self.repeats):
                    samples.append(
                        self._sample(budget, question, pool, subtask, repeat, room, token_limit, sep_tokens)
                    )
        return samples, []

    def _render(self, question: Question, subtask: int) -> Render:
        """The question's messages as a function of the joined documents (what packing fits)."""
        return lambda documents: self.messages(question, subtask, documents)

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
        chosen = self.packer.select(budget, candidates, room, sep_tokens)
        ordered = list(chosen)
        rng.shuffle(ordered)
        packed = self.packer.fit(budget, self._render(question, subtask), chosen, ordered, token_limit)
        gold = self.gold(question, subtask)
        truncation, extra = self.packer.describe(budget, candidates, packed)
        truncation.fits = packed.prompt_tokens + self.max_tokens <= budget.context_length
        if token_limit + self.max_tokens < budget.context_length:
            truncation.budget = token_limit + self.max_tokens
        extra["prompt_tokens"] = packed.prompt_tokens
        extra["token_limit"] = token_limit
        if question.ambiguous and subtask != 3:
            extra["gold_ambiguous"] = list(question.gold_letters)
        return Sample(
            id=f"{question.id}/t{subtask}/r{repeat}",
            messages=packed.messages,
            reference=gold,
            max_tokens=self.max_tokens,
            cluster=question.id,
            subtask=subtask,
            gold=gold,
            truncation=truncation,
            extra=extra,
        )

    # ---------------------------------------------------------------- scoring

    def score(self, samples: Sequence[Sample], outputs: Sequence[str], scorers: Any) -> list[Score]:
        """`accuracy`: the reference's case-sensitive regex (first match) equals the gold letter;
        `accuracy_lenient`: a tolerant parse does; `parse_failed_rate`: the tolerant parse found
        no letter. `parsed` is the tolerant parse. Sub-task 3 also flags `hallucination` (a
        letter other than the 'cannot be answered' one); `ambiguous_gold` marks a question whose
        `correct` text is in several options (scored by the reference's rule all the same)."""
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
            if sample.extra.get("gold_ambiguous"):
                flags["ambiguous_gold"] = True
            metrics = {
                "accuracy": 100.0 if strict == sample.gold else 0.0,
                "accuracy_lenient": 100.0 if lenient == sample.gold else 0.0,
                "parse_failed_rate": 100.0 if lenient is None else 0.0,
            }
            scores.append(Score(parsed=lenient, metrics=metrics, flags=flags))
        return scores
