"""Model backends behind one interface (see `base.py`), chosen by the prefix of a model spec:

    llamacpp:PATH.gguf     llama.cpp in-process (the embedded default is one of these)
    hf:NAME_OR_PATH        transformers, local files only
    vllm:NAME_OR_PATH      vLLM in-process engine (GPU; tensor/pipeline parallel, Ray)
    openai:MODEL           any OpenAI-compatible server(s), with --base-url (one or more)

Heavy libraries (llama_cpp, torch, vllm) are imported only when a backend is constructed.
"""

from __future__ import annotations

from cluebench.errors import ConfigError
from cluebench.models import hf, llamacpp, openai_compat, vllm_engine  # noqa: F401 (register)
from cluebench.models.base import (
    Backend,
    BackendOptions,
    Completion,
    Decoding,
    Message,
    OnCompletion,
    Request,
    Tokenizer,
    _factory,
    register,
    registered_prefixes,
)
from cluebench.models.embedded import default_model_path

DEFAULT_SPECS = (None, "", "default")

__all__ = [
    "Backend",
    "BackendOptions",
    "Completion",
    "Decoding",
    "Message",
    "OnCompletion",
    "Request",
    "Tokenizer",
    "default_model_path",
    "load_backend",
    "parse_spec",
    "register",
    "registered_prefixes",
]


def parse_spec(spec: str | None) -> tuple[str, str]:
    """Split `PREFIX:REST` (first colon only: HF names and paths may contain more).

    None/""/"default" mean the embedded default and resolve to ("llamacpp", its path).
    """
    if spec in DEFAULT_SPECS:
        return "llamacpp", str(default_model_path())
    assert spec is not None
    valid = ", ".join(f"{p}:" for p in registered_prefixes())
    prefix, sep, rest = spec.partition(":")
    if not sep:
        hint = f" (did you mean llamacpp:{spec}?)" if spec.endswith(".gguf") else ""
        raise ConfigError(
            f"model spec '{spec}' has no prefix{hint}; expected one of {valid} or 'default'"
        )
    if _factory(prefix) is None:
        raise ConfigError(f"model spec '{spec}': unknown prefix '{prefix}:'; valid: {valid}")
    if not rest.strip():
        raise ConfigError(f"model spec '{spec}': nothing after '{prefix}:' (expected a model)")
    return prefix, rest


def load_backend(spec: str | None, options: BackendOptions | None = None) -> Backend:
    """Construct the backend for a model spec. Opens no network connection."""
    prefix, rest = parse_spec(spec)
    factory = _factory(prefix)
    assert factory is not None
    return factory(f"{prefix}:{rest}", options or BackendOptions())

