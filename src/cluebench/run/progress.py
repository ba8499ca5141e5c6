"""A progress bar per task with throughput, on stderr so `--json` output stays clean."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    ProgressColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cluebench.models.base import Completion

_console = Console(stderr=True)


class _RateColumn(ProgressColumn):
    """Requests per second over this session (rich's own speed column is for bytes)."""

    def render(self, task):  # type: ignore[no-untyped-def]
        from rich.text import Text

        speed = task.speed
        return Text(f"{speed:.2f} req/s" if speed else "- req/s")


class TaskProgress:
    def __init__(self, label: str, total: int, done: int = 0, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.label = label
        self.total = total
        self._tokens = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TextColumn("{task.fields[tok]} tok/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=_console,
            disable=not self.enabled,
            transient=False,
        )
        self._task = self._progress.add_task(label, total=total, completed=done, tok="-")

    def advance(self, completion: Completion) -> None:
        self._tokens += completion.completion_tokens or 0
        elapsed = self._progress.tasks[0].elapsed or 0.0
        tok = f"{self._tokens / elapsed:.1f}" if elapsed > 0 else "-"
        self._progress.update(self._task, advance=1, tok=tok)

    def __enter__(self) -> "TaskProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
