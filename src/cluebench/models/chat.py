"""Chat rendering shared by the local backends: Jinja chat templates, the plain template for base
models, and merging the system text into the first user turn for templates that reject it.

Why here and not in each backend: llama.cpp (GGUF metadata), transformers and vLLM (tokenizer
config) all carry HF-style Jinja templates; rendering them the same way everywhere means the same
messages give the same prompt text whichever engine runs the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime

from cluebench.errors import ConfigError
from cluebench.models.base import Message

PLAIN_KEYS = ("first_turn", "next_turn", "query", "zero_shot", "merged_system")


def template_sha256(template: str | None) -> str | None:
    return hashlib.sha256(template.encode("utf-8")).hexdigest() if template else None


def _raise_exception(message: str) -> None:
    raise ValueError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(x: object, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    """transformers' `tojson` (no HTML escaping, unlike Jinja's own)."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _ignore_generation_tags() -> type:
    """HF's `{% generation %}...{% endgeneration %}` tag, rendered as its content."""
    from jinja2.ext import Extension

    class IgnoreGenerationTags(Extension):
        tags = {"generation"}  # noqa: RUF012 - jinja's Extension API uses a class attribute

        def parse(self, parser):  # type: ignore[no-untyped-def]
            parser.stream.skip(1)
            return parser.parse_statements(("name:endgeneration",), drop_needle=True)

    return IgnoreGenerationTags


class JinjaTemplate:
    """An HF-style chat template compiled the way llama-cpp-python's Jinja2ChatFormatter and
    transformers do it: sandboxed, trim_blocks + lstrip_blocks, loop controls, the `generation`
    tag, transformers' `tojson`, `raise_exception` and `strftime_now`,
    `add_generation_prompt=True`. `extra` gives further template variables at each call (the
    thinking switch, `BackendOptions.chat_template_kwargs`), as transformers'
    `apply_chat_template(**kwargs)` passes them."""

    def __init__(
        self,
        source: str,
        *,
        bos_token: str = "",
        eos_token: str = "",
        extra: Callable[[], dict] | None = None,
    ) -> None:
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[_ignore_generation_tags(), jinja2.ext.loopcontrols],
        )
        env.filters["tojson"] = _tojson
        self.source = source
        self._template = env.from_string(source)
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._extra = extra

    def __call__(self, messages: Sequence[Message]) -> str:
        return self._template.render(
            **(self._extra() if self._extra is not None else {}),
            messages=list(messages),
            bos_token=self.bos_token,
            eos_token=self.eos_token,
            add_generation_prompt=True,
            raise_exception=_raise_exception,
            strftime_now=_strftime_now,
        )


def merge_system(messages: Sequence[Message], merged_system: str) -> list[Message]:
    """Fold the system message into the first user turn with the protocol's `merged_system`
    format ("{system}\\n\\n{user}"); other turns are unchanged."""
    msgs = [dict(m) for m in messages]
    system = "\n\n".join(m["content"] for m in msgs if m["role"] == "system")
    rest = [m for m in msgs if m["role"] != "system"]
    if not system:
        return rest
    for m in rest:
        if m["role"] == "user":
            m["content"] = merged_system.format(system=system, user=m["content"])
            return rest
    return [{"role": "user", "content": system}] + rest


def check_plain_template(plain: dict | None) -> dict:
    """The protocol's [plain_template] table, validated; needed for base models and merging."""
    if not plain:
        raise ConfigError(
            "this model needs the protocol's [plain_template] table (BackendOptions.plain_template)"
            " but none was given"
        )
    missing = [k for k in PLAIN_KEYS if k not in plain]
    if missing:
        raise ConfigError(f"protocol [plain_template] lacks keys: {', '.join(missing)}")
    return plain


def render_plain(messages: Sequence[Message], plain: dict) -> str:
    """The reference's rendering for models without a chat template (see the protocol TOML):
    first shot "{system}\\n\\n{user}\\n\\n{assistant}", later shots "\\n\\n{user}\\n\\n{assistant}",
    the query "\\n\\n{user}\\n\\n"; zero-shot "{system}\\n\\n\\n{user}"."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    pairs: list[tuple[str, str]] = []
    i = 0
    while i + 1 < len(turns) and turns[i]["role"] == "user" and turns[i + 1]["role"] == "assistant":
        pairs.append((turns[i]["content"], turns[i + 1]["content"]))
        i += 2
    rest = turns[i:]
    if len(rest) != 1 or rest[0]["role"] != "user":
        raise ValueError("plain template expects [system], (user, assistant)*, user")
    query = rest[0]["content"]
    if not pairs:
        return plain["zero_shot"].format(system=system, user=query)
    out = plain["first_turn"].format(system=system, user=pairs[0][0], assistant=pairs[0][1])
    for user, assistant in pairs[1:]:
        out += plain["next_turn"].format(user=user, assistant=assistant)
    return out + plain["query"].format(user=query)


def choose_renderer(
    template: Callable[[Sequence[Message]], str] | None, plain: dict | None
) -> tuple[Callable[[Sequence[Message]], str], str]:
    """Pick how messages become prompt text; returns (render function, system_role).

    system_role is "native" when the template takes a system message, "merged" when it raises
    on one (the system text then goes into the first user turn), "plain" without a template.
    A template that silently drops the system message is treated as rejecting it too.
    """
    if template is None:
        p = check_plain_template(plain)
        return (lambda messages: render_plain(messages, p)), "plain"
    marker = "\u2063SYSTEM\u2063"  # distinctive, so a template that drops the system text is caught
    try:
        native = marker in template(
            [{"role": "system", "content": marker}, {"role": "user", "content": "u"}]
        )
    except Exception:  # noqa: BLE001 - any template error on the system probe means "rejects"
        native = False
    if native:
        return template, "native"
    merged = check_plain_template(plain)["merged_system"]
    return (lambda messages: template(merge_system(messages, merged))), "merged"
