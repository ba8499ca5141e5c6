"""Helpers of the real-engine tests: constants, the dequantised model directory, `vllm serve`.

A plain module (conftest.py cannot be imported by name) used by conftest.py and the tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cluebench.protocol import load_protocol

# each test module starts with pytest.importorskip("vllm", reason=SKIP_REASON)
SKIP_REASON = "vLLM is not installed here: the engine tests run with `bash scripts/test-engines.sh`"

PLAIN = load_protocol().plain_template.as_dict()
MAX_MODEL_LEN = 2048  # small: the CPU KV cache is VLLM_CPU_KVCACHE_SPACE GiB (1 in the script)
SERVED_NAME = "smollm2-135m"


def build_dequantised_dir(gguf: Path, dest: Path) -> Path:
    """Save the GGUF's weights, dequantised by transformers, and its tokenizer as a HF model
    directory (float32: the Q4_1 values d*q+m are exact in float32, not in bfloat16)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = dest.with_name(dest.name + ".partial")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    tok.save_pretrained(tmp)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    )
    # transformers marks a GGUF-loaded model as quantised (not serialisable); its tensors are
    # already plain float32, so drop the marker and save them as safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tmp.rename(dest)
    return dest


def serve_command(model_dir: Path) -> list[str]:
    """`vllm serve MODEL`, or where that CLI cannot start, the same server by its module.

    vllm-cpu 0.32.0's `vllm` CLI dies at once: it asks importlib.metadata for the version of a
    distribution named "vllm", and the CPU build is installed as "vllm-cpu"
    (PackageNotFoundError). `python -m vllm.entrypoints.openai.api_server` runs the same
    server (same argument parser and app) without that lookup."""
    import importlib.metadata

    try:
        importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir)]
    return [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve", str(model_dir)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VLLMServer:
    """`vllm serve MODEL` on 127.0.0.1 as a child process: start, kill -9, restart."""

    def __init__(self, model_dir: Path, log_dir: Path, *extra: str) -> None:
        self.model_dir = model_dir
        self.port = free_port()
        self.log_dir = log_dir
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 900.0) -> None:
        import httpx

        self.starts += 1
        log = open(self.log_dir / f"vllm-serve-{self.starts}.log", "w")  # noqa: SIM115
        cmd = [
            *serve_command(self.model_dir),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--served-model-name", SERVED_NAME, "--dtype", "float32",
            "--max-model-len", str(MAX_MODEL_LEN), "--enable-prefix-caching", *self.extra,
        ]
        # its own process group, so that a kill reaches the engine core and workers too
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited with {self.proc.returncode}: see {log.name}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(2.0)
        self.kill()
        raise RuntimeError(f"vllm serve not healthy after {timeout:.0f} s: see {log.name}")

    def kill(self) -> None:
        """SIGKILL the whole process group (API server, engine core, workers): a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
