"""An approximate tokenizer for servers whose tokenizer we do not have locally.

Why approximate rather than "chars / 4": tasks cut documents to a token budget, so they need
encode/decode that round-trip and a prefix of the ids must decode to a prefix of the text.

How it counts (designed to over-count real BPE/SentencePiece tokenizers, so budgets stay safe):
  - letters in chunks of at most 4, a chunk may carry one leading space ("patient" -> " pati" "ent");
  - every digit is its own token (Llama-2/Mistral split numbers into digits);
  - every other ASCII character (punctuation, newline, extra spaces) is one token;
  - a non-ASCII character costs one token per UTF-8 byte (byte-level BPE fallback).
Ids are reversible without a vocabulary: an ASCII piece is packed into an int (with a 0x01 length
marker, so ids are >= 256); a non-ASCII byte is its own id (0-255).

The chat framing is ChatML ("<|im_start|>role\\n...<|im_end|>\\n" + the generation prompt), whose
few-tokens-per-message overhead is at least that of common templates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cluebench.models.base import Message

_PIECE = re.compile(r" ?[A-Za-z]{1,4}|[0-9]|[\x00-\x7f]|[^\x00-\x7f]")
DESCRIPTION = (
    "approximate: regex pieces (<=4 letters with optional leading space, single digits, single "
    "ASCII symbols, non-ASCII per UTF-8 byte) over ChatML framing; over-counts real tokenizers"
)


class ApproxTokenizer:
    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in _PIECE.findall(text):
            raw = piece.encode("utf-8")
            if piece.isascii():
                ids.append(int.from_bytes(b"\x01" + raw, "big"))
            else:
                ids.extend(raw)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        out = bytearray()
        for i in ids:
            if i < 256:
                out.append(i)
            else:
                raw = i.to_bytes((i.bit_length() + 7) // 8, "big")
                out.extend(raw[1:])  # drop the 0x01 marker
        return out.decode("utf-8", errors="ignore")


def render_chatml(messages: Sequence[Message]) -> str:
    """What we count for a server that applies its own template: a ChatML-framed rendering."""
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"
