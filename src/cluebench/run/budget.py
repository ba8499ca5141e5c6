"""The task-facing view of a backend's tokenizer and template (see tasks.base.PromptBudget)."""

from __future__ import annotations

from typing import Sequence

from cluebench.models.base import Backend, Message
from cluebench.tasks.base import PromptBudget


class BackendBudget(PromptBudget):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.context_length = backend.context_length
        self._tok = backend.tokenizer

    def count(self, messages: Sequence[Message]) -> int:
        return self._backend.count_prompt_tokens(messages)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(ids)
