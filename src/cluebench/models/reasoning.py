"""Reasoning ("thinking") models: how their chat templates show it, and how to split the
reasoning out of what they write so that only the answer is scored.

Why here: these are facts about model output formats, not about tasks or runs. The runner's
reasoning policy (`cluebench.run.reasoning`) decides when to use them.

Formats known (the first four are delimited blocks before the answer):
  think    `<think>…</think>`                 Qwen3, DeepSeek-R1 and its distillations, QwQ, most
                                               o1-style medical fine-tunes
  seed     `<seed:think>…</seed:think>`       ByteDance Seed-OSS
  mistral  `[THINK]…[/THINK]`                 Magistral
  gemma    `<unused94>thought…<unused95>`     MedGemma 27B (thinking opt-in by system prompt)
  huatuo   `## Thinking…## Final Response`    HuatuoGPT-o1 (plain text, no template markers)
  harmony  `<|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…`
                                               gpt-oss (OpenAI's harmony format)
A template that opens the block in the generation prompt (DeepSeek-R1's newer templates end with
`<think>\\n`) makes the model write only the closing marker; that is handled too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLOCKS: dict[str, tuple[str, str]] = {
    "think": ("<think>", "</think>"),
    "seed": ("<seed:think>", "</seed:think>"),
    "mistral": ("[THINK]", "[/THINK]"),
    "gemma": ("<unused94>", "<unused95>"),
    "huatuo": ("## Thinking", "## Final Response"),
}
# Styles whose markers are special tokens that a plain decode drops.
SPECIAL_TOKEN_STYLES = frozenset({"harmony", "gemma"})
HARMONY = "harmony"
STYLES = (*BLOCKS, HARMONY)

# Template variables that switch thinking on or off, in the order they are looked for.
# Qwen3 / Qwen3-based fine-tunes: enable_thinking; Baichuan-M2/M3: thinking_mode;
# Granite 3.2+, DeepSeek-V3.1: thinking.
_SWITCHES = (
    ("enable_thinking", re.compile(r"\benable_thinking\b")),
    ("thinking_mode", re.compile(r"\bthinking_mode\b")),
    ("thinking", re.compile(r"\bthinking\s+is\s+(?:not\s+)?(?:defined|true|false|sameas)\b"
                            r"|\bif\s+(?:not\s+)?thinking\b")),
)
# The values each switch takes for (thinking on, thinking off).
_SWITCH_VALUES: dict[str, tuple[object, object]] = {
    "enable_thinking": (True, False),
    "thinking_mode": ("on", "off"),  # Baichuan-M2's card: thinking_mode='on' # on/off/auto
    "thinking": (True, False),
}


def switch_value(switch: str, on: bool) -> object:
    """The value that turns thinking on (or off) through this template variable."""
    values = _SWITCH_VALUES.get(switch, (True, False))
    return values[0] if on else values[1]


_HARMONY_TOKENS = ("<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|return|>", "<|call|>")


@dataclass(frozen=True)
class TemplateReasoning:
    """What a chat template shows about thinking: the marker style, the switch variable (None:
    the template has none, e.g. a model that always thinks), and the evidence in words."""

    style: str
    switch: str | None
    evidence: str


def detect_template(source: str | None) -> TemplateReasoning | None:
    """A reasoning model's chat template, recognised by its thinking switch or its markers;
    None for any other template (or none)."""
    if not source:
        return None
    switch = next((name for name, rx in _SWITCHES if rx.search(source)), None)
    style = None
    if "<|channel|>" in source:
        style = HARMONY
    else:
        style = next((s for s, (open_, _) in BLOCKS.items() if open_ in source), None)
    if style is None and switch is None:
        return None
    if switch is not None:
        evidence = f"chat template has a thinking switch ({switch})"
        if style is not None:
            evidence += f" and emits {_marker_name(style)}"
    else:
        evidence = f"chat template emits {_marker_name(style)}"  # type: ignore[arg-type]
    return TemplateReasoning(style or "think", switch, evidence)


def _marker_name(style: str) -> str:
    return "harmony channels" if style == HARMONY else BLOCKS[style][0]


def opens_in_prompt(rendered_prompt: str, style: str | None) -> bool:
    """True when the generation prompt itself opens the reasoning block (the model then writes
    reasoning straight away and only the closing marker)."""
    tail = rendered_prompt.rstrip()
    styles = [style] if style in BLOCKS else list(BLOCKS) if style is None else []
    return any(tail.endswith(BLOCKS[s][0]) for s in styles)


@dataclass(frozen=True)
class Split:
    """A model's output split into reasoning and answer.

    `reasoning` is None when the output has no reasoning part. `unfinished` is True when the
    reasoning never ended (no closing marker / no final channel): there is then no answer."""

    answer: str
    reasoning: str | None
    unfinished: bool = False
    style: str | None = None


def split_reasoning(text: str, style: str | None = None, *, opened: bool = False) -> Split:
    """Split `text` into reasoning and answer.

    style: one of STYLES, or None to recognise any of them. opened: the prompt already opened
    the block (see opens_in_prompt), so the text starts inside the reasoning.
    """
    if style == HARMONY or (style is None and _looks_harmony(text)):
        return _split_harmony(text)
    styles = [style] if style in BLOCKS else list(BLOCKS)
    stripped = text.lstrip()
    for s in styles:
        open_, close = BLOCKS[s]
        if stripped.startswith(open_):
            return _split_block(stripped[len(open_):], s)
    for s in styles:
        open_, close = BLOCKS[s]
        # opened by the prompt, or a closing marker with no opening one before it (a template
        # that opens the block without our knowing, e.g. an older tokenizer config)
        if (opened and (style is not None or s == "think")) or (
            close in text and open_ not in text[: text.find(close)]
        ):
            return _split_block(text, s)
    return Split(answer=text, reasoning=None)


def _split_block(body: str, style: str) -> Split:
    open_, close = BLOCKS[style]
    end = body.find(close)
    if end < 0:
        return Split(answer="", reasoning=body.strip(), unfinished=True, style=style)
    reasoning = body[:end]
    if style == "gemma":  # "<unused94>thought\n…": the word names the channel, it is not reasoning
        reasoning = re.sub(r"^\s*thought\b", "", reasoning)
    answer = body[end + len(close):]
    # further complete blocks (a model that thinks again) are reasoning too, never the answer
    while (i := answer.find(open_)) >= 0:
        j = answer.find(close, i)
        if j < 0:
            break
        reasoning += "\n" + answer[i + len(open_): j]
        answer = answer[:i] + answer[j + len(close):]
    return Split(answer=answer.strip(), reasoning=reasoning.strip(), style=style)


def _looks_harmony(text: str) -> bool:
    """Harmony markers in the text. The stripped form ("analysis…assistantfinal…") is read only
    when the template is known to be harmony: an ordinary answer may begin with "analysis"."""
    return "<|channel|>" in text


_HARMONY_MSG = re.compile(
    r"<\|channel\|>\s*(\w+)[^<]*?<\|message\|>(.*?)(?=<\|end\|>|<\|return\|>|<\|call\|>|<\|start\|>|$)",
    re.DOTALL,
)
# harmony decoded without its special tokens (e.g. by a server that drops them):
# "analysis…assistantfinal…"
_STRIPPED_HARMONY = re.compile(r"^\s*analysis(.*?)(?:assistant\s*final(.*))?$", re.DOTALL)


def _split_harmony(text: str) -> Split:
    if "<|channel|>" not in text:
        m = _STRIPPED_HARMONY.match(text)
        if m is None:
            return Split(answer=text, reasoning=None)
        if m.group(2) is None:
            return Split(answer="", reasoning=m.group(1).strip(), unfinished=True, style=HARMONY)
        return Split(answer=m.group(2).strip(), reasoning=m.group(1).strip(), style=HARMONY)
    thoughts, final = [], None
    for channel, content in _HARMONY_MSG.findall(text):
        if channel == "final":
            final = content if final is None else final + content
        else:
            thoughts.append(content.strip())
    reasoning = "\n".join(t for t in thoughts if t) or None
    if final is None:
        return Split(answer="", reasoning=reasoning or "", unfinished=True, style=HARMONY)
    for token in _HARMONY_TOKENS:
        final = final.replace(token, "")
    return Split(answer=final.strip(), reasoning=reasoning, style=HARMONY)
