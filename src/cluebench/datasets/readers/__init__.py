"""One reader per task, each turning the exact upstream file into normalised rows.

Every reader takes the file's path and its bytes (read once by the caller, which also hashes
them) and returns a list of row dicts with a unique string ``id``; it raises
:class:`cluebench.errors.DataError` naming file, line and field for anything malformed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cluebench.datasets.readers.longhealth import read_longhealth
from cluebench.datasets.readers.medisum import read_medisumcode, read_medisumqa
from cluebench.datasets.readers.mednli import read_mednli
from cluebench.datasets.readers.meqsum import read_meqsum
from cluebench.datasets.readers.problem_summary import read_problem_summary

Reader = Callable[[Path, bytes], list[dict]]

READERS: dict[str, Reader] = {
    "mednli": read_mednli,
    "meqsum": read_meqsum,
    "problem_summary": read_problem_summary,
    "longhealth": read_longhealth,
    "medisumqa": read_medisumqa,
    "medisumcode": read_medisumcode,
}

__all__ = ["READERS", "Reader"]
