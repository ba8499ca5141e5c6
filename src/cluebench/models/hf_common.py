"""HF tokenizer helpers shared by the `hf:`, `vllm:` and `openai:` (with --tokenizer) backends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cluebench.errors import BackendError, ConfigError
from cluebench.models.base import Message
from cluebench.models.chat import choose_renderer


def load_hf_tokenizer(name: str, *, trust_remote_code: bool = False) -> Any:
    """AutoTokenizer from local files only (model hubs are never contacted)."""
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise BackendError("this backend needs transformers (`pip install transformers`)") from exc
    try:
        return AutoTokenizer.from_pretrained(
            name, local_files_only=True, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"tokenizer '{name}' could not be loaded from local files (a directory or a model "
            f"already in the HF cache is expected; nothing is downloaded): {exc}"
        ) from exc


class HFTokenizer:
    """encode/decode of plain text (no special tokens added), as tasks need for truncation."""

    def __init__(self, tok: Any) -> None:
        self.tok = tok

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tok.decode(list(ids)))


def template_source(tok: Any) -> str | None:
    tpl = getattr(tok, "chat_template", None)
    if isinstance(tpl, dict):  # named templates: the default one renders chats
        tpl = tpl.get("default")
    return tpl if isinstance(tpl, str) and tpl else None


def hf_renderer(
    tok: Any,
    plain: dict | None,
    *,
    override: str | None = None,
    extra: Callable[[], dict] | None = None,
) -> tuple[Callable[[Sequence[Message]], str], str, str | None]:
    """(render, system_role, template source) using the tokenizer's own chat template, or
    `override` (--chat-template) when given. `extra` gives further template variables at each call
    (the thinking switch), passed the way transformers passes `apply_chat_template` kwargs."""
    source = override or template_source(tok)
    template: Callable[[Sequence[Message]], str] | None = None
    if source is not None:

        def template(messages: Sequence[Message]) -> str:
            return str(
                tok.apply_chat_template(
                    [dict(m) for m in messages],
                    chat_template=source,
                    tokenize=False,
                    add_generation_prompt=True,
                    **(extra() if extra is not None else {}),
                )
            )

    render, role = choose_renderer(template, plain)
    return render, role, source


def prompt_ids(tok: Any, text: str, system_role: str) -> list[int]:
    """Token ids of a rendered prompt. A chat template writes BOS itself when the model wants one
    (as transformers' apply_chat_template(tokenize=True) assumes), so nothing is added then; the
    plain template of a base model gets the tokenizer's usual special tokens (BOS)."""
    return list(tok.encode(text, add_special_tokens=system_role == "plain"))


class HFTemplateBackend:
    """Rendering and counting shared by the backends that use a Hugging Face tokenizer (hf:,
    vllm:): subclasses set `_tok` (the tokenizer), `_tokenizer` (its HFTokenizer view),
    `_render` (from hf_renderer) and `_system_role`."""

    _tok: Any
    _tokenizer: HFTokenizer
    _render: Callable[[Sequence[Message]], str]
    _system_role: str

    @property
    def tokenizer(self) -> HFTokenizer:
        return self._tokenizer

    def render(self, messages: Sequence[Message]) -> str:
        return self._render(messages)

    def chat_template(self) -> str | None:
        return getattr(self, "_template", None)

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        return prompt_ids(self._tok, self.render(messages), self._system_role)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.prompt_ids(messages))
