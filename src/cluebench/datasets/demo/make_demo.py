"""Write the SYNTHETIC demo data set, byte for byte reproducibly, in the exact upstream formats.

Every sentence, note, question and name was invented for cluebench; none comes from a real
patient or from the real datasets. The set lets `clue run` work out of the box and lets tests
exercise every reader; scores on it mean nothing.

Each task owns its demo rows: they sit next to its reader in `cluebench/datasets/readers/<id>.py`
with the writer of its upstream format (`@demo_writer("<id>")`). This driver only asks every task
of the protocol for its file, at the protocol's `data_file` path.

Usage:  python src/cluebench/datasets/demo/make_demo.py [OUT_DIR]   (default: this folder)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(out: Path | None = None, protocol: str | None = None) -> Path:
    """Write every task's demo file of `protocol` (default: the paper's) under `out`."""
    from cluebench.datasets.readers import demo_writer_for
    from cluebench.protocol import load_protocol

    out = Path(out) if out is not None else HERE
    spec = load_protocol(protocol) if protocol is not None else load_protocol()
    for task, rel in spec.data_files.items():
        demo_writer_for(task)(out / rel)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[2]))  # this checkout's cluebench, installed or not
    print(f"wrote the synthetic demo set to {main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)}")
