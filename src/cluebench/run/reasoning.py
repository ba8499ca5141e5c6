"""`clue run --reasoning off|on|auto`: when a model may think before it answers, how long, and
what of its output is scored.

off (default) is the paper's protocol: the task's answer cap, the raw output scored. A template
with a thinking switch gets it set to false, so a thinking model answers directly.
on: the switch set to true, `budget` thinking tokens allowed on top of each task's answer cap,
and only what follows the reasoning scored; a run with reasoning on is a variant of the protocol
(results.json says so, and `clue compare` will not pair it silently with a plain run).
auto: on when the chat template shows a reasoning model (a thinking switch or reasoning markers)
or, for a server that renders its own template, when a one-question probe comes back with
reasoning; off otherwise. The decision and its evidence are recorded and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from cluebench.errors import ConfigError
from cluebench.models.base import Backend, Completion, Decoding, Request, Tokenizer
from cluebench.models.reasoning import (
    SPECIAL_TOKEN_STYLES,
    detect_template,
    opens_in_prompt,
    split_reasoning,
    switch_value,
)

MODES = ("off", "on", "auto")
# Thinking tokens on top of each task's answer cap. Long enough for the clinical reasoning of
# 7-70B thinking models on these tasks (their MedNLI/LongHealth traces run a few hundred to ~2k
# tokens), short enough that a model stuck in a loop costs minutes, not hours.
DEFAULT_BUDGET = 4096

PROBE_MESSAGES = [{"role": "user", "content": "What is 2 + 3? Answer with the number only."}]
PROBE_MAX_TOKENS = 64


@dataclass(frozen=True)
class ReasoningPolicy:
    """The resolved reasoning settings of one run (recorded in config.json and results.json)."""

    requested: str = "off"
    active: bool = False
    budget: int = DEFAULT_BUDGET
    style: str | None = None  # marker style (None: recognise any)
    switch: str | None = None  # the template variable set (enable_thinking, thinking)
    evidence: str | None = None
    template_kwargs: dict = field(default_factory=dict)

    def key_part(self) -> dict | None:
        """What of these settings goes into every cache key. None for the paper's protocol with
        no template variable set, so plain runs keep the keys they always had."""
        if not self.active and not self.template_kwargs:
            return None
        return {
            "active": self.active,
            "budget": self.budget if self.active else None,
            "template_kwargs": dict(sorted(self.template_kwargs.items())),
        }

    def describe(self) -> dict:
        return {
            "requested": self.requested,
            "active": self.active,
            "budget": self.budget if self.active else None,
            "style": self.style,
            "switch": self.switch,
            "template_kwargs": dict(self.template_kwargs),
            "evidence": self.evidence,
        }

    def variant(self) -> dict | None:
        """results.json protocol.variant: None for the paper's protocol."""
        if not self.active:
            return None
        return {"reasoning": "on", "budget": self.budget, "switch": self.switch}

    def max_tokens(self, cap: int, prompt_tokens: int | None, context: int | None) -> int:
        """The generation limit: the task's answer cap, plus the budget with reasoning on (never
        more than the context leaves after the prompt, never less than the answer cap)."""
        if not self.active:
            return cap
        total = cap + self.budget
        if prompt_tokens is not None and context:
            total = min(total, max(cap, context - prompt_tokens))
        return total


def validate(mode: str, budget: int | None) -> None:
    """Refuse impossible settings before anything is loaded or written."""
    if mode not in MODES:
        raise ConfigError(f"--reasoning {mode}: expected one of {', '.join(MODES)}")
    if budget is not None and budget < 1:
        raise ConfigError(f"--reasoning-budget must be a positive number of tokens, got {budget}")
    if budget is not None and mode == "off":
        raise ConfigError("--reasoning-budget applies only with --reasoning on or auto")


def resolve(
    mode: str,
    budget: int | None,
    backend: Backend,
    *,
    notice: Callable[[str], None] | None = None,
    known: str | None = None,
) -> ReasoningPolicy:
    """Decide the run's reasoning settings for this backend and set the template switch on it.

    known: evidence from elsewhere that the model thinks by default (the lineage data, passed in
    by the CLI); auto uses it when the template and server show nothing."""
    validate(mode, budget)
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    source = backend.chat_template()
    found = detect_template(source)
    evidence = found.evidence if found else None
    active = mode == "on"
    if mode == "auto":
        if found is not None:
            active = True
        elif known:
            active, evidence = True, known
        elif _renders_remotely(backend):
            evidence = probe(backend)
            active = evidence is not None
            if evidence is None:
                evidence = "a probe question came back without reasoning"
        else:
            evidence = (
                "chat template shows no thinking switch or reasoning markers"
                if source
                else "no chat template (a base model)"
            )
    switch = found.switch if found else None
    if switch is None and active and _renders_remotely(backend):
        switch = "enable_thinking"  # the common name; servers ignore variables a template lacks
    kwargs = {switch: switch_value(switch, active)} if switch else {}
    style = found.style if found else None
    backend.options.chat_template_kwargs = dict(kwargs)
    backend.options.keep_special_tokens = active and style in SPECIAL_TOKEN_STYLES
    policy = ReasoningPolicy(mode, active, budget, style, switch, evidence, kwargs)
    if notice is not None and mode == "auto":
        notice(
            f"reasoning auto: {'on' if active else 'off'} ({evidence})"
            + (f"; {budget} thinking tokens on top of each task's answer cap" if active else "")
        )
    return policy


def _renders_remotely(backend: Backend) -> bool:
    """A server backend without a local template (openai: without --tokenizer)."""
    return backend.name == "openai" and backend.chat_template() is None


def probe(backend: Backend) -> str | None:
    """Ask one neutral question; evidence that the model reasons, or None."""
    got: list[Completion] = []
    request = Request("reasoning-probe", PROBE_MESSAGES, Decoding(max_tokens=PROBE_MAX_TOKENS))
    try:
        backend.generate([request], got.append)
    except Exception:  # noqa: BLE001 - a failed probe is no evidence either way
        return None
    if not got or got[0].finish_reason == "error":
        return None
    c = got[0]
    if c.reasoning:
        return "the server returned reasoning apart from the answer (reasoning_content)"
    split = split_reasoning(c.text)
    if split.reasoning is not None:
        return f"the model answered a probe question with a reasoning block ({split.style})"
    return None


@dataclass
class Answer:
    """What of a completion is scored, and the reasoning kept beside it."""

    text: str
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    flags: dict[str, Any] = field(default_factory=dict)


def answer_of(
    policy: ReasoningPolicy,
    completion: Completion,
    rendered: str,
    cap: int,
    tokenizer: Tokenizer,
) -> Answer:
    """The scored answer of a completion under this policy.

    With reasoning on, the reasoning (a server's separate reasoning text, or a block split out of
    the text) is kept apart; reasoning that never ended, or a budget hit inside it, is flagged
    `reasoning_unfinished` and leaves no answer (scored as an empty output, never as the reasoning
    text); an answer longer than the task's cap is cut to it (`length_capped`), as the paper's
    caps would have cut it.
    """
    def count(t: str) -> int:
        return len(tokenizer.encode(t))

    reasoning_tokens = completion.reasoning_tokens
    if not policy.active:
        reasoning = completion.reasoning
        if reasoning and reasoning_tokens is None:
            reasoning_tokens = count(reasoning)
        return Answer(completion.text, reasoning, reasoning_tokens)
    text = completion.text
    if completion.reasoning is not None:
        inner = split_reasoning(text, policy.style)  # a server may still leave a block in content
        reasoning = "\n".join(r for r in (completion.reasoning, inner.reasoning) if r)
        answer, unfinished = inner.answer, inner.unfinished or not inner.answer.strip()
    else:
        split = split_reasoning(
            text, policy.style, opened=opens_in_prompt(rendered, policy.style)
        )
        reasoning, answer, unfinished = split.reasoning, split.answer, split.unfinished
    if reasoning_tokens is None:
        reasoning_tokens = count(reasoning) if reasoning else 0
    flags: dict[str, Any] = {"reasoning_unfinished": bool(unfinished)}
    if unfinished:
        answer = ""
    elif len(ids := tokenizer.encode(answer)) > cap:
        answer = tokenizer.decode(ids[:cap])
        flags["length_capped"] = True
    return Answer(answer, reasoning, reasoning_tokens, flags)
