"""Which general model each biomedical model was built from (data: lineage.toml).

CLUE's central question is whether biomedical training helps, so the report compares each
biomedical model against its own base. Runs name models by spec (`hf:epfl-llm/meditron-7b`,
`llamacpp:/models/meditron-7b.Q4_K_M.gguf`, `vllm:/scratch/Llama-2-7b-hf`), so matching works on
the HF id or its last part, case-insensitively, inside paths and GGUF file names.

Each pair also says whether the candidate and the base are reasoning models (think before they
answer), so that `clue run` can suggest `--reasoning on`: see `reasoning_model` and
`reasoning_info`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


# How a model treats thinking, as lineage.toml records it (the file's header explains each value).
REASONING_KINDS = ("no", "yes", "hybrid", "opt-in", "unknown")
# Whether a model of each kind thinks before answering under its default template settings: the
# question `clue run` asks, since a model that does is cut off by the paper's answer caps.
_THINKS_BY_DEFAULT: dict[str, bool | None] = {
    "no": False,
    "yes": True,
    "hybrid": True,
    "opt-in": False,
    "unknown": None,
}


@dataclass(frozen=True)
class ReasoningInfo:
    """What the lineage data knows about one model's thinking (candidate or base of a pair)."""

    model: str  # the HF id the query matched
    kind: str  # one of REASONING_KINDS
    markers: tuple[str, ...] = ()  # (opening, closing) text around the reasoning, if known
    switch: str = ""  # template variable or prompt that turns thinking on, if any
    source: str = ""  # the card's words behind the kind
    verified: bool = False  # True only when `source` is on the model's own card

    @property
    def thinks_by_default(self) -> bool | None:
        return _THINKS_BY_DEFAULT[self.kind]


@dataclass(frozen=True)
class ModelPair:
    """A biomedical model (candidate) and the general model it was built from (base)."""

    candidate: str
    base: str
    relation: str
    verified: bool
    source: str
    reasoning: str
    base_reasoning: str
    note: str = ""
    aliases: tuple[str, ...] = field(default=())
    base_aliases: tuple[str, ...] = field(default=())
    reasoning_source: str = ""
    reasoning_verified: bool = False
    reasoning_markers: tuple[str, ...] = field(default=())
    thinking_switch: str = ""
    base_reasoning_markers: tuple[str, ...] = field(default=())
    base_thinking_switch: str = ""
    base_reasoning_source: str = ""
    base_reasoning_verified: bool = False

    def candidate_reasoning_info(self) -> ReasoningInfo:
        return ReasoningInfo(
            self.candidate,
            self.reasoning,
            self.reasoning_markers,
            self.thinking_switch,
            self.reasoning_source,
            self.reasoning_verified,
        )

    def base_reasoning_info(self) -> ReasoningInfo:
        return ReasoningInfo(
            self.base,
            self.base_reasoning,
            self.base_reasoning_markers,
            self.base_thinking_switch,
            self.base_reasoning_source,
            self.base_reasoning_verified,
        )

    def to_dict(self) -> dict:
        return {
            "candidate": self.candidate,
            "base": self.base,
            "relation": self.relation,
            "verified": self.verified,
            "source": self.source,
            "note": self.note,
        }


_PAIR_FIELDS = frozenset(
    {
        "candidate", "base", "relation", "verified", "source", "note", "aliases",
        "base_aliases", "reasoning", "base_reasoning", "reasoning_source",
        "reasoning_verified", "reasoning_markers", "thinking_switch",
        "base_reasoning_source", "base_reasoning_verified", "base_reasoning_markers",
        "base_thinking_switch",
    }
)


@lru_cache(maxsize=1)
def _load() -> tuple[ModelPair, ...]:
    path = resources.files("cluebench.analysis") / "lineage.toml"
    return tuple(parse_lineage(path.read_text(encoding="utf-8"), str(path)))


def parse_lineage(text: str, origin: str = "lineage.toml") -> list[ModelPair]:
    """The [[pair]] entries of a lineage file's text; ClueError naming `origin`, the entry and
    the field when one is missing or malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ClueError(f"{origin}: not valid TOML ({e})") from None
    pairs = []
    for i, row in enumerate(data.get("pair", []), 1):
        unknown = sorted(set(row) - _PAIR_FIELDS)
        if unknown:
            raise ClueError(
                f"{origin}: [[pair]] #{i} has unknown field {unknown[0]!r} "
                f"(known: {', '.join(sorted(_PAIR_FIELDS))})"
            )
        try:
            pair = ModelPair(
                candidate=row["candidate"],
                base=row["base"],
                relation=row["relation"],
                verified=bool(row["verified"]),
                source=row["source"],
                reasoning=row["reasoning"],
                base_reasoning=row["base_reasoning"],
                note=row.get("note", ""),
                aliases=tuple(row.get("aliases", ())),
                base_aliases=tuple(row.get("base_aliases", ())),
                reasoning_source=row.get("reasoning_source", ""),
                reasoning_verified=bool(row.get("reasoning_verified", False)),
                reasoning_markers=tuple(row.get("reasoning_markers", ())),
                thinking_switch=row.get("thinking_switch", ""),
                base_reasoning_markers=tuple(row.get("base_reasoning_markers", ())),
                base_thinking_switch=row.get("base_thinking_switch", ""),
                base_reasoning_source=row.get("base_reasoning_source", ""),
                base_reasoning_verified=bool(row.get("base_reasoning_verified", False)),
            )
        except KeyError as e:
            raise ClueError(
                f"{origin}: [[pair]] #{i} lacks field {e.args[0]!r}"
            ) from None
        _check_pair(origin, i, pair)
        pairs.append(pair)
    return pairs


def _check_pair(origin: str, i: int, pair: ModelPair) -> None:
    """One clear line for a malformed entry, naming the entry and the field."""
    where = f"{origin}: [[pair]] #{i} ({pair.candidate})"
    for name in ("reasoning", "base_reasoning"):
        value = getattr(pair, name)
        if value not in REASONING_KINDS:
            raise ClueError(
                f"{where}: {name} = {value!r}, expected one of {', '.join(REASONING_KINDS)}"
            )
    for name in ("reasoning_markers", "base_reasoning_markers"):
        if len(getattr(pair, name)) not in (0, 2):
            raise ClueError(f"{where}: {name} must be [opening, closing]")
    for kind, source, name in (
        (pair.reasoning, pair.reasoning_source, "reasoning_source"),
        (pair.base_reasoning, pair.base_reasoning_source, "base_reasoning_source"),
    ):
        if kind != "no" and not source:
            raise ClueError(f"{where}: a reasoning kind other than \"no\" needs {name}")


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


def best_match(model_spec_or_id: str, models: dict[str, tuple[str, ...]]) -> str | None:
    """The HF id (a key of `models`, mapped to its aliases) that the spec names, longest match
    first (so Mistral-7B-Instruct-v0.1 never matches plain Mistral-7B-v0.1), else None."""
    best: tuple[int, str] | None = None
    for hf_id, aliases in models.items():
        s = _score(model_spec_or_id, _names(hf_id, aliases))
        if s and (best is None or s > best[0]):
            best = (s, hf_id)
    return best[1] if best else None


@lru_cache(maxsize=1)
def published_names() -> dict[str, dict[str, str]]:
    """{"v3": {published name: HF id}, "v5": {...}} from lineage.toml's [published_names]."""
    path = resources.files("cluebench.analysis") / "lineage.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: dict(v) for k, v in (data.get("published_names") or {}).items()}


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


def reasoning_info(model_spec_or_id: str) -> ReasoningInfo | None:
    """What the lineage data says about this model's thinking, or None if it is not listed.

    Accepts what `identify` accepts (HF ids, backend specs, local paths, GGUF file names),
    matched by the last path component; the longest matching name wins, so
    `II-Medical-8B-1706` never reads as `II-Medical-8B`.
    """
    best: tuple[int, ReasoningInfo] | None = None
    for pair in _load():
        for info, aliases in (
            (pair.candidate_reasoning_info(), pair.aliases),
            (pair.base_reasoning_info(), pair.base_aliases),
        ):
            s = _score(model_spec_or_id, _names(info.model, aliases))
            if s and (best is None or s > best[0]):
                best = (s, info)
    return best[1] if best else None


def reasoning_model(model_id: str) -> bool | None:
    """Whether this model thinks before answering under its default template settings.

    True: it writes reasoning first (an o1-style fine-tune, or a hybrid model such as Qwen3 whose
    thinking switch is on by default), so a run under the paper's answer caps (20 tokens for
    MedNLI, 50 for LongHealth) would cut it off mid-thought: suggest `--reasoning on`.
    False: it answers directly by default (it may still have an opt-in thinking mode, see
    `reasoning_info`). None: the model is not in the lineage data, or its card does not say.

    `model_id` may be an HF id (`UCSC-VLAA/m1-7B-23K`), a backend spec (`hf:...`, `vllm:...`) or
    a local path or GGUF file (`/models/HuatuoGPT-o1-8B.Q4_K_M.gguf`); it is matched by its last
    path component, case-insensitively.
    """
    info = reasoning_info(model_id)
    return info.thinks_by_default if info else None
