"""Which general model each biomedical model was built from (data: lineage.toml).

CLUE's central question is whether biomedical training helps, so the report compares each
biomedical model against its own base. Runs name models by spec (`hf:epfl-llm/meditron-7b`,
`llamacpp:/models/meditron-7b.Q4_K_M.gguf`, `vllm:/scratch/Llama-2-7b-hf`), so matching works on
the HF id or its last part, case-insensitively, inside paths and GGUF file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import tomllib

from cluebench.errors import ClueError

_PREFIX = re.compile(r"^[a-z][a-z0-9_]*:(?!//)", re.IGNORECASE)
_TAIL = re.compile(
    r"([-._](gguf|q\d\w*|iq\d\w*|f16|f32|bf16|fp16|awq|gptq|exl2|mlx|int4|int8|\d+bit))+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ModelPair:
    """A biomedical model (candidate) and the general model it was built from (base)."""

    candidate: str
    base: str
    relation: str
    verified: bool
    source: str
    note: str = ""
    aliases: tuple[str, ...] = field(default=())
    base_aliases: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "candidate": self.candidate,
            "base": self.base,
            "relation": self.relation,
            "verified": self.verified,
            "source": self.source,
            "note": self.note,
        }


@lru_cache(maxsize=1)
def _load() -> tuple[ModelPair, ...]:
    path = resources.files("cluebench.analysis") / "lineage.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    pairs = []
    for i, row in enumerate(data.get("pair", []), 1):
        try:
            pairs.append(
                ModelPair(
                    candidate=row["candidate"],
                    base=row["base"],
                    relation=row["relation"],
                    verified=bool(row["verified"]),
                    source=row["source"],
                    note=row.get("note", ""),
                    aliases=tuple(row.get("aliases", ())),
                    base_aliases=tuple(row.get("base_aliases", ())),
                )
            )
        except KeyError as e:
            raise ClueError(
                f"{path}: [[pair]] #{i} lacks field {e.args[0]!r}"
            ) from None
    return tuple(pairs)


def load_lineage() -> list[ModelPair]:
    """All known (biomedical model, base model) pairs."""
    return list(_load())


def _names(hf_id: str, aliases: tuple[str, ...]) -> set[str]:
    """Names a model may appear under: owner/name, name, name without -hf / Meta- prefixes."""
    name = hf_id.split("/")[-1]
    out = {hf_id.lower(), name.lower(), *(a.lower() for a in aliases)}
    for n in tuple(out):  # a snapshot: the loop adds to `out`
        if n.endswith("-hf"):
            out.add(n[:-3])
        if n.startswith("meta-"):
            out.add(n[5:])
    return out


def _spec_keys(spec: str) -> list[str]:
    """Normalised forms of a spec or id to compare with model names (full path tail first)."""
    s = _PREFIX.sub("", spec.strip()).replace("\\", "/").rstrip("/").lower()
    parts = [p for p in s.split("/") if p]
    if not parts:
        return []
    last = parts[-1]
    last = last.removesuffix(".gguf")
    last = _TAIL.sub("", last)
    keys = [last]
    if len(parts) >= 2:
        keys.insert(0, f"{parts[-2]}/{last}")
    # HF cache folders look like models--owner--name
    if last.startswith("models--"):
        keys.append(last[8:].replace("--", "/"))
        keys.append(last.split("--")[-1])
    return keys


def _score(spec: str, names: set[str]) -> int:
    """Length of the longest name the spec matches (0 = no match); longest wins so that
    BioMistral-7B-DARE never matches plain BioMistral-7B."""
    best = 0
    for key in _spec_keys(spec):
        for name in names:
            if key == name or key.endswith("/" + name):
                best = max(best, len(name))
    return best


def find_pair(model_spec_or_id_a: str, b: str) -> ModelPair | None:
    """The pair whose candidate and base are these two models (in either order), else None."""
    best: tuple[int, ModelPair] | None = None
    for pair in _load():
        cand_names = _names(pair.candidate, pair.aliases)
        base_names = _names(pair.base, pair.base_aliases)
        for x, y in ((model_spec_or_id_a, b), (b, model_spec_or_id_a)):
            sc, sb = _score(x, cand_names), _score(y, base_names)
            if sc and sb and (best is None or sc + sb > best[0]):
                best = (sc + sb, pair)
    return best[1] if best else None


def identify(model_spec_or_id: str) -> tuple[str, str] | None:
    """("candidate" | "base", HF id) for a model named in the lineage, else None."""
    best: tuple[int, str, str] | None = None
    for pair in _load():
        for role, hf_id, aliases in (
            ("candidate", pair.candidate, pair.aliases),
            ("base", pair.base, pair.base_aliases),
        ):
            s = _score(model_spec_or_id, _names(hf_id, aliases))
            if s and (best is None or s > best[0]):
                best = (s, role, hf_id)
    return (best[1], best[2]) if best else None
