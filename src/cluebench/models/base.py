"""The one small interface every model backend implements, and the registry keyed by spec prefix.

A backend knows nothing about tasks: it turns chat messages into prompt text with the model's own
template, counts tokens, and generates completions for a batch of requests, reporting each one the
moment it finishes so the runner can commit it before the next one arrives (a crash loses at most
the requests in flight).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@dataclass(frozen=True)
class Decoding:
    """Decoding settings; part of every cache key and recorded in every result."""

    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 1234

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Request:
    """One generation request. `key` is the runner's cache key, echoed on the completion."""

    key: str
    messages: Sequence[Message]
    decoding: Decoding


FINISH_REASONS = ("stop", "length", "content_filter", "error")


@dataclass
class Completion:
    """What came back for one request.

    finish_reason is "stop", "length", "content_filter" (a server's filter withheld the answer;
    recorded as the server said it) or "error"; "error" means the backend gave up after its
    retries (the sample is then recorded as failed, never scored as a wrong answer).
    `reasoning` is reasoning text returned apart from the answer (a server's `reasoning_content`,
    or a `<think>` block split out of `text`), `reasoning_tokens` its length when known; kept on
    the sample, never scored.
    """

    key: str
    text: str
    finish_reason: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    error: str | None = None
    attempts: int = 1
    reasoning: str | None = None
    reasoning_tokens: int | None = None

    @classmethod
    def failed(
        cls, key: str, error: str, *, latency_s: float = 0.0, attempts: int = 1
    ) -> "Completion":
        """The one shape of a request a backend gave up on: no text, finish "error", the reason."""
        return cls(
            key=key, text="", finish_reason="error", latency_s=latency_s, error=error,
            attempts=attempts,
        )


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


OnCompletion = Callable[[Completion], None]


@dataclass
class BackendOptions:
    """Every backend option the CLI can set; each backend reads the ones it understands."""

    base_urls: list[str] = field(default_factory=list)
    concurrency: int = 8
    timeout: float = 600.0
    max_retries: int = 5
    api_key_env: str | None = None
    tokenizer: str | None = None  # HF tokenizer name/path for exact counts on openai: backends
    max_model_len: int | None = None
    n_ctx: int | None = None
    n_threads: int | None = None
    n_gpu_layers: int = 0
    device: str | None = None
    dtype: str | None = None
    batch_size: int = 8
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    distributed_executor_backend: str | None = None
    gpu_memory_utilization: float = 0.9
    enable_prefix_caching: bool = True
    trust_remote_code: bool = False
    # The protocol's [plain_template] table (first_turn, next_turn, query, zero_shot,
    # merged_system), passed in by the runner so backends never read the protocol file.
    plain_template: dict | None = None
    # A Jinja chat template that replaces the model's own (llamacpp:, hf:, vllm:, and openai: with
    # --tokenizer): for models whose shipped template is stale or missing.
    chat_template: str | None = None
    # Extra variables every chat template sees (e.g. {"enable_thinking": False}); openai: sends
    # them as `chat_template_kwargs`. Set by the runner's reasoning policy after the backend loads,
    # read by the renderers at call time.
    chat_template_kwargs: dict = field(default_factory=dict)
    # Keep special tokens in decoded text (the reasoning markers of some templates, e.g. gpt-oss's
    # harmony channels, are special tokens that a plain decode would drop).
    keep_special_tokens: bool = False
    # openai: retry/drain tuning. Full-jitter backoff: sleep ~ U(0, min(max, base * 2**attempt)).
    retry_backoff_base: float = 0.5
    retry_backoff_max: float = 30.0
    retry_after_max: float = 300.0  # cap on a server's Retry-After, so a typo can't stall a run
    drain_after_failures: int = 5  # consecutive failures that take an endpoint out of rotation
    drain_cooldown: float = 30.0  # seconds a drained endpoint rests before it is tried again


class Backend(abc.ABC):
    """A model. Constructing one must not open network connections (the data-protection check
    runs after construction and before any request)."""

    name: str = "backend"
    #: The BackendOptions fields this backend reads (what `--model-arg KEY=VALUE` may set).
    option_names: tuple[str, ...] = ()

    def __init__(self, spec: str, options: BackendOptions) -> None:
        self.spec = spec
        self.options = options

    @property
    @abc.abstractmethod
    def model_id(self) -> str:
        """Stable identity used in cache keys (e.g. a GGUF file's sha256, a HF name + revision)."""

    @property
    @abc.abstractmethod
    def context_length(self) -> int:
        """Maximum tokens of prompt + generation."""

    @property
    @abc.abstractmethod
    def tokenizer(self) -> Tokenizer:
        """The model's tokenizer, or a documented approximation (see info()["tokenizer"])."""

    @abc.abstractmethod
    def render(self, messages: Sequence[Message]) -> str:
        """The exact prompt text the model sees for these messages, generation prompt included."""

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenizer.encode(self.render(messages)))

    def chat_template(self) -> str | None:
        """The Jinja chat template this backend renders with (None: none known here, e.g. a
        server that renders its own); the reasoning policy reads it for a thinking switch."""
        return None

    @abc.abstractmethod
    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        """Generate all requests; call on_completion in the calling thread as each one finishes."""

    def identity(self) -> dict:
        """What makes this model *this* model, recorded in config.json: a run directory refuses
        to resume under another identity (its answers would be mixed with the new model's)."""
        return {"model_id": self.model_id}

    def remote_hosts(self) -> list[str]:
        """Hosts outside this machine that requests would be sent to (empty for local engines)."""
        return []

    def info(self) -> dict:
        """Facts recorded in config.json: template sha256, system-role handling, tokenizer kind."""
        return {"backend": self.name, "spec": self.spec, "model_id": self.model_id}

    def close(self) -> None:
        """Release engines, sockets and threads."""


BackendFactory = Callable[[str, BackendOptions], Backend]
_REGISTRY: dict[str, BackendFactory] = {}


def register(prefix: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: make a backend available as `PREFIX:...` model specs."""

    def deco(cls: BackendFactory) -> BackendFactory:
        _REGISTRY[prefix] = cls
        return cls

    return deco


def registered_prefixes() -> list[str]:
    return sorted(_REGISTRY)


def _factory(prefix: str) -> BackendFactory | None:
    return _REGISTRY.get(prefix)
