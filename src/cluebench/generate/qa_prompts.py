"""MeDiSumQA's generation prompts, read from `medisumqa_prompts.toml` (never written in code)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cluebench.models.base import Message

PROMPTS_FILE = "medisumqa_prompts.toml"


@dataclass(frozen=True)
class QaPrompts:
    """The parsed prompt file plus its sha256 (recorded in the manifest)."""

    data: dict
    sha256: str

    @classmethod
    def load(cls, path: Path | None = None) -> "QaPrompts":
        raw = Path(path).read_bytes() if path else (resources.files("cluebench.generate") / PROMPTS_FILE).read_bytes()
        return cls(tomllib.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest())

    def __getitem__(self, key: str):  # noqa: ANN204 - TOML values are of many types
        return self.data[key]

    def statements_block(self, statements: list[str]) -> str:
        """`- a\\n- b` (the reference's "- " + "\\n- ".join(statements))."""
        line = self.data["step2"]["statement_line"]
        return "\n".join(line.format(statement=s) for s in statements)

    def step1_messages(self, instructions: str) -> list[Message]:
        """System, the synthetic shot (user, assistant), then this note's instructions."""
        s = self.data["step1"]
        return [
            {"role": "system", "content": s["system"]},
            {"role": "user", "content": s["user"].format(instructions=s["shot"]["instructions"])},
            {"role": "assistant", "content": s["assistant"].format(statements=s["shot"]["statements"])},
            {"role": "user", "content": s["user"].format(instructions=instructions)},
        ]

    def step2_messages(self, statements: list[str]) -> list[Message]:
        """System, the synthetic shot, then this note's statements as `- ` lines."""
        s = self.data["step2"]
        return [
            {"role": "system", "content": s["system"]},
            {"role": "user", "content": s["user"].format(statements=s["shot"]["statements"])},
            {"role": "assistant", "content": s["shot"]["answer"]},
            {"role": "user", "content": s["user"].format(statements=self.statements_block(statements))},
        ]
