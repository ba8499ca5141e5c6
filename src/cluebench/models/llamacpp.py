"""`llamacpp:PATH.gguf` — a GGUF model run in-process by llama-cpp-python.

The prompt is rendered here with the GGUF's own chat template (metadata
`tokenizer.chat_template`, rendered like llama-cpp-python's Jinja2ChatFormatter) and tokenized
here; the token ids themselves go to `create_completion`, so the count a task budgets with is
exactly what the model sees (no second BOS, no hidden template).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cluebench.errors import BackendError, ConfigError
from cluebench.models.base import (
    Backend,
    BackendOptions,
    Completion,
    Message,
    OnCompletion,
    Request,
    register,
)
from cluebench.models.chat import JinjaTemplate, choose_renderer, template_sha256
from cluebench.models.hashing import file_sha256

log = logging.getLogger(__name__)

MAX_DEFAULT_CTX = 8192  # default n_ctx: the model's training context, capped (memory, speed)

# llama.cpp settings that change speed but not greedy outputs, chosen by
# benchmarks/bench_first_run.py (figures in the README): 512 tokens per logical batch and, on
# the CPU, 128 per physical step (n_ubatch; 1.16x prompt and 1.07x generation throughput for
# the embedded model on an idle 2-core machine, the same greedy outputs on every demo prompt);
# with layers on a GPU, 512, llama.cpp's own default, since larger steps suit a GPU. Flash
# attention stays off (it changed greedy outputs) and the KV cache stays f16.
N_BATCH = 512
N_UBATCH_CPU = 128


def _import_llama_cpp() -> Any:
    # llama.cpp's CPU threads come from OpenMP; with the default active wait policy, threads
    # spin when a core is shared (the scorer, a second process), which was measured here at 2-7x
    # slower generation. Passive waiting costs little when the cores are free. A user's own
    # setting wins; it must be set before the OpenMP runtime loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendError(
            "llamacpp: backend needs llama-cpp-python (`pip install llama-cpp-python`)"
        ) from exc
    return llama_cpp


class LlamaTokenizer:
    """Plain-text tokenization with the model's vocabulary (no BOS, special tokens as text)."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def encode(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self._llm.detokenize(list(ids)).decode("utf-8", errors="ignore")


@register("llamacpp")
class LlamaCppBackend(Backend):
    name = "llamacpp"
    option_names = ("n_ctx", "n_threads", "n_gpu_layers", "keep_special_tokens")

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        path = Path(spec.partition(":")[2]).expanduser()
        if not path.is_file():
            raise ConfigError(f"model spec '{spec}': GGUF file {path} does not exist")
        self.path = path
        self._llama_cpp = _import_llama_cpp()
        self._digest: str | None = None
        self._llm = self._load(path, options)
        meta: dict[str, str] = dict(self._llm.metadata or {})
        self._bos_token = self._token_text(self._llm.token_bos())
        self._eos_token = self._token_text(self._llm.token_eos())
        self._add_bos = meta.get("tokenizer.ggml.add_bos_token", "true").lower() != "false"
        source = options.chat_template or meta.get("tokenizer.chat_template")
        self._template_source = source or None
        template = (
            JinjaTemplate(
                source,
                bos_token=self._bos_token,
                eos_token=self._eos_token,
                extra=lambda: self.options.chat_template_kwargs,
            )
            if source
            else None
        )
        self._render, self._system_role = choose_renderer(template, options.plain_template)
        self._tokenizer = LlamaTokenizer(self._llm)

    def _load(self, path: Path, options: BackendOptions) -> Any:
        """Load with n_ctx = --n-ctx, else the training context capped at MAX_DEFAULT_CTX.

        The training context is only known once the model is loaded, so the uncapped default is
        loaded first and reloaded smaller in the rare case of a model trained on fewer tokens
        (cheaper and quieter than a separate metadata probe)."""
        Llama = self._llama_cpp.Llama

        def load(n_ctx: int) -> Any:
            self._settings = self.llama_settings(options, n_ctx)
            return Llama(str(path), n_ctx=n_ctx, n_gpu_layers=options.n_gpu_layers, verbose=False, **self._settings)

        try:
            if options.n_ctx:
                return load(options.n_ctx)
            llm = load(MAX_DEFAULT_CTX)
            meta = llm.metadata or {}
            train = int(meta.get(f"{meta.get('general.architecture')}.context_length") or 0)
            if 0 < train < MAX_DEFAULT_CTX:
                llm.close()
                llm = load(train)
            return llm
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendError(f"llama.cpp could not load {path}: {exc}") from exc

    @staticmethod
    def llama_settings(options: BackendOptions, n_ctx: int) -> dict[str, Any]:
        """Threads and batch sizes given to llama.cpp (recorded in config.json)."""
        threads = options.n_threads or os.cpu_count() or 1
        batch = min(N_BATCH, n_ctx)
        step = batch if options.n_gpu_layers else min(N_UBATCH_CPU, batch)
        return {"n_threads": threads, "n_threads_batch": threads, "n_batch": batch, "n_ubatch": step}

    def _token_text(self, token_id: int) -> str:
        if token_id is None or token_id < 0:
            return ""
        return self._llm.detokenize([token_id], special=True).decode("utf-8", errors="ignore")

    # -- the interface ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        if self._digest is None:
            self._digest = file_sha256(self.path)
        return f"llamacpp:{self._digest}"

    @property
    def context_length(self) -> int:
        return int(self._llm.n_ctx())

    @property
    def tokenizer(self) -> LlamaTokenizer:
        return self._tokenizer

    def render(self, messages: Sequence[Message]) -> str:
        return self._render(messages)

    def chat_template(self) -> str | None:
        return self._template_source

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """Token ids fed to the model: the rendered text (special tokens parsed) plus a BOS when
        the model wants one and the template did not already write it."""
        text = self.render(messages)
        add_bos = self._add_bos and not (self._bos_token and text.startswith(self._bos_token))
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.prompt_ids(messages))

    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        keep = self.options.keep_special_tokens
        if keep:
            # create_completion decodes without special tokens, which would drop reasoning markers
            # that are special tokens (gpt-oss's harmony channels); decode them for this call.
            llm = self._llm
            llm.detokenize = functools.partial(type(llm).detokenize, llm, special=True)
        try:
            for req in requests:
                on_completion(self._one(req))
        finally:
            if keep and self._llm is not None:
                self._llm.__dict__.pop("detokenize", None)

    def _one(self, req: Request) -> Completion:
        start = time.perf_counter()
        try:
            ids = self.prompt_ids(req.messages)
            d = req.decoding
            out = self._llm.create_completion(
                prompt=ids,
                max_tokens=d.max_tokens,
                temperature=d.temperature,
                top_p=d.top_p,
                seed=d.seed,
                # Neutral sampler settings so temperature/top_p mean what they mean elsewhere
                # (llama-cpp-python's defaults add top_k=40 and min_p=0.05).
                top_k=0,
                min_p=0.0,
                repeat_penalty=1.0,
                stop=[self._eos_token] if self._eos_token else None,
            )
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the batch
            log.warning("llama.cpp failed on request %s: %s", req.key[:12], exc)
            return Completion.failed(
                req.key, f"{type(exc).__name__}: {exc}", latency_s=time.perf_counter() - start
            )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            key=req.key,
            text=choice.get("text") or "",
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            prompt_tokens=usage.get("prompt_tokens", len(ids)),
            completion_tokens=usage.get("completion_tokens"),
            latency_s=time.perf_counter() - start,
        )

    def info(self) -> dict:
        import jinja2

        return {
            **super().info(),
            "path": str(self.path),
            "chat_template_sha256": template_sha256(self._template_source),
            "system_role": self._system_role,
            "tokenizer": "exact",
            "context_length": self.context_length,
            "n_threads": self._settings["n_threads"],
            "llama_settings": dict(self._settings),
            "sampler": {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0},
            "versions": {"llama_cpp": self._llama_cpp.__version__, "jinja2": jinja2.__version__},
        }

    def close(self) -> None:
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None and hasattr(llm, "close"):
            llm.close()
