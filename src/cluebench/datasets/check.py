"""`clue data check`: say, for every task, whether its file is in the data directory, whether it
reads cleanly, and (where a checksum is known) whether it is the exact upstream file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cluebench.datasets.dataset import DATA_FILES, read_dataset
from cluebench.datasets.fetch import PUBLIC_SOURCES, credentialed_instructions, expected_sha256
from cluebench.datasets.readers import reader_entry
from cluebench.errors import DataError

Status = Literal["found", "missing", "malformed"]


@dataclass
class CheckResult:
    task: str
    expected_path: Path
    status: Status
    rows: int | None = None
    problem: str | None = None
    sha256: str | None = None
    # What reads but deserves a look (e.g. a LongHealth question whose `correct` text is in two
    # options): the rows' own `warnings`, never a reason to refuse the file.
    warnings: list[str] = field(default_factory=list)
    # What a row is where it is not what the paper's n counts (the reader's `rows_note`).
    rows_note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "found"


def check_task(data_dir: Path, task: str) -> CheckResult:
    """Check one task's file under `data_dir`."""
    path = Path(data_dir) / DATA_FILES[task]
    if not path.exists():
        if task in PUBLIC_SOURCES:
            how = f"no file at {path}; `clue data fetch --data-dir {data_dir}` downloads it"
        else:
            how = f"no file at {path}. {credentialed_instructions(task, Path(data_dir))}"
        return CheckResult(task, path, "missing", problem=how)
    try:
        ds = read_dataset(task, path)
    except DataError as exc:
        return CheckResult(task, path, "malformed", problem=str(exc))
    expected, origin = expected_sha256(Path(data_dir), task)
    rows_note = reader_entry(task).rows_note
    if expected is not None and expected != ds.sha256:
        problem = (f"sha256 {ds.sha256} differs from the {origin} {expected}; "
                   "re-fetch it with `clue data fetch --force`")
        return CheckResult(task, path, "malformed", rows=len(ds.rows), problem=problem, sha256=ds.sha256,
                           rows_note=rows_note)
    warnings = [w for row in ds.rows for w in row.get("warnings") or []]
    return CheckResult(task, path, "found", rows=len(ds.rows), sha256=ds.sha256, warnings=warnings,
                       rows_note=rows_note)


def check_data_dir(data_dir: Path, tasks: list[str] | None = None) -> list[CheckResult]:
    """One result per task (all six by default), in protocol order."""
    unknown = [t for t in tasks or [] if t not in DATA_FILES]
    if unknown:
        raise DataError(", ".join(unknown), f"unknown task; expected one of {', '.join(DATA_FILES)}")
    return [check_task(Path(data_dir), t) for t in (tasks or list(DATA_FILES))]
