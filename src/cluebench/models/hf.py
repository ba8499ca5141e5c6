"""`hf:NAME_OR_PATH` — a transformers causal LM, from local files only (never downloads).

NAME_OR_PATH is a model directory, a name already in the HF cache, or a `.gguf` file (loaded by
transformers' GGUF support; needs the `gguf` and `accelerate` packages — the `hf` extra).
Batched generation: requests with the same decoding settings are grouped, sorted by prompt length
and run `batch_size` at a time with left padding; greedy when temperature is 0; seeded otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cluebench.errors import BackendError, ConfigError
from cluebench.models.base import (
    Backend,
    BackendOptions,
    Completion,
    Decoding,
    OnCompletion,
    Request,
    register,
)
from cluebench.models.chat import template_sha256
from cluebench.models.hashing import file_sha256, model_dir_sha256
from cluebench.models.hf_common import (
    HFTemplateBackend,
    HFTokenizer,
    hf_renderer,
    load_hf_tokenizer,
)

log = logging.getLogger(__name__)

FALLBACK_CONTEXT = 2048
_DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
           "bfloat16": "bfloat16", "bf16": "bfloat16"}


def _torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise BackendError("hf: backend needs torch and transformers") from exc
    return torch


@register("hf")
class HFBackend(HFTemplateBackend, Backend):
    name = "hf"
    option_names = ("device", "dtype", "batch_size", "max_model_len", "trust_remote_code", "keep_special_tokens")

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        torch = self._torch = _torch()
        from transformers import AutoModelForCausalLM

        self.source = spec.partition(":")[2]
        load_from, extra = self.source, {}
        path = Path(self.source).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ConfigError(f"model spec '{spec}': {path} does not exist")
            load_from, extra = str(path.parent), {"gguf_file": path.name}
        self._path = path if path.exists() else None
        self.device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = _DTYPES.get((options.dtype or "").lower())
        if options.dtype and dtype_name is None and options.dtype != "auto":
            raise ConfigError(f"--dtype {options.dtype}: expected one of {sorted(_DTYPES)} or auto")
        if dtype_name is None:
            dtype_name = "bfloat16" if self.device.startswith("cuda") else "float32"
        try:
            self._tok = (
                load_hf_tokenizer(load_from, trust_remote_code=options.trust_remote_code)
                if not extra
                else self._gguf_tokenizer(load_from, extra)
            )
            self._model = AutoModelForCausalLM.from_pretrained(
                load_from,
                local_files_only=True,
                dtype=getattr(torch, dtype_name),
                trust_remote_code=options.trust_remote_code,
                **extra,
            )
        except (OSError, ValueError, ImportError) as exc:
            raise BackendError(f"transformers could not load '{self.source}' locally: {exc}") from exc
        self._model.to(self.device).eval()
        self.dtype = dtype_name
        self._render, self._system_role, self._template = hf_renderer(
            self._tok,
            options.plain_template,
            override=options.chat_template,
            extra=lambda: self.options.chat_template_kwargs,
        )
        self._tokenizer = HFTokenizer(self._tok)
        self._pad_id = self._tok.pad_token_id
        if self._pad_id is None:
            self._pad_id = self._tok.eos_token_id if self._tok.eos_token_id is not None else 0
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            eos = self._tok.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        self._digest: str | None = None

    def _gguf_tokenizer(self, directory: str, extra: dict) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(directory, local_files_only=True, **extra)

    # -- the interface ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        if self._digest is None:
            commit = getattr(self._model.config, "_commit_hash", None)
            if self._path is not None and self._path.is_file():
                self._digest = file_sha256(self._path)
            elif self._path is not None and self._path.is_dir():
                self._digest = model_dir_sha256(self._path)
            else:
                self._digest = f"{self.source}@{commit}" if commit else self.source
        return f"hf:{self._digest}"

    @property
    def context_length(self) -> int:
        if self.options.max_model_len:
            return self.options.max_model_len
        n = getattr(self._model.config, "max_position_embeddings", None)
        if isinstance(n, int) and n > 0:
            return n
        n = getattr(self._tok, "model_max_length", None)
        return n if isinstance(n, int) and 0 < n < 10**7 else FALLBACK_CONTEXT

    def info(self) -> dict:
        import transformers

        return {
            **super().info(),
            "chat_template_sha256": template_sha256(self._template),
            "system_role": self._system_role,
            "tokenizer": "exact",
            "context_length": self.context_length,
            "device": self.device,
            "dtype": self.dtype,
            "batch_size": self.options.batch_size,
            "versions": {
                "transformers": transformers.__version__,
                "torch": self._torch.__version__,
            },
        }

    def close(self) -> None:
        self._model = None

    # -- generation --------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], on_completion: OnCompletion) -> None:
        groups: dict[Decoding, list[tuple[Request, list[int]]]] = {}
        for req in requests:
            try:
                ids = self.prompt_ids(req.messages)
            except Exception as exc:  # noqa: BLE001 - a template error fails this request only
                on_completion(_failed(req, exc, 0.0))
                continue
            groups.setdefault(req.decoding, []).append((req, ids))
        size = max(1, self.options.batch_size)
        for decoding, items in groups.items():
            items.sort(key=lambda it: len(it[1]), reverse=True)  # similar lengths pad less
            for i in range(0, len(items), size):
                for c in self._batch(items[i : i + size], decoding):
                    on_completion(c)

    def _batch(self, items: list[tuple[Request, list[int]]], d: Decoding) -> list[Completion]:
        start = time.perf_counter()
        try:
            outs = self._run(items, d)
        except Exception as exc:  # noqa: BLE001
            if len(items) == 1:
                return [_failed(items[0][0], exc, time.perf_counter() - start)]
            log.warning("hf batch of %d failed (%s); retrying one by one", len(items), exc)
            return [c for it in items for c in self._batch([it], d)]
        took = time.perf_counter() - start
        return [
            Completion(
                key=req.key,
                text=text,
                finish_reason=finish,
                prompt_tokens=len(ids),
                completion_tokens=n_gen,
                latency_s=took,
            )
            for (req, ids), (text, finish, n_gen) in zip(items, outs)
        ]

    def _run(self, items: list[tuple[Request, list[int]]], d: Decoding) -> list[tuple[str, str, int]]:
        torch = self._torch
        from transformers import GenerationConfig

        width = max(len(ids) for _, ids in items)
        input_ids = torch.tensor(
            [[self._pad_id] * (width - len(ids)) + ids for _, ids in items], device=self.device
        )
        mask = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for _, ids in items], device=self.device
        )
        sample = d.temperature > 0
        config = GenerationConfig(
            max_new_tokens=d.max_tokens,
            do_sample=sample,
            temperature=d.temperature if sample else None,
            top_p=d.top_p if sample else None,
            top_k=None,
            pad_token_id=self._pad_id,
            eos_token_id=sorted(self._eos_ids) or None,
        )
        torch.manual_seed(d.seed)
        with torch.inference_mode():
            out = self._model.generate(
                input_ids=input_ids, attention_mask=mask, generation_config=config
            )
        results = []
        for row in out[:, width:].tolist():
            cut = next((j for j, t in enumerate(row) if t in self._eos_ids), None)
            gen = row if cut is None else row[:cut]
            finish = "stop" if cut is not None or len(row) < d.max_tokens else "length"
            text = self._tok.decode(gen, skip_special_tokens=not self.options.keep_special_tokens)
            results.append((text, finish, len(gen) + (cut is not None)))
        return results


def _failed(req: Request, exc: BaseException, latency: float) -> Completion:
    return Completion.failed(req.key, f"{type(exc).__name__}: {exc}", latency_s=latency)
