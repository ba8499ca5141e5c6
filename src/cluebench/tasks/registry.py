"""Task id → task class. The protocol file says what each task is; this says which code runs it."""

from __future__ import annotations

from typing import Any

from cluebench.errors import ConfigError
from cluebench.protocol import Protocol, load_protocol
from cluebench.tasks.base import Task


def _classes() -> dict[str, type[Task]]:
    from cluebench.tasks.coding import MeDiSumCodeTask
    from cluebench.tasks.longhealth import LongHealthTask
    from cluebench.tasks.mednli import MedNLITask
    from cluebench.tasks.summarization import MeDiSumQATask, MeQSumTask, ProblemSummaryTask

    return {
        c.id: c
        for c in (MedNLITask, MeQSumTask, ProblemSummaryTask, LongHealthTask, MeDiSumQATask, MeDiSumCodeTask)
    }


def get_task(task_id: str, protocol: Protocol | None = None, **options: Any) -> Task:
    """Instantiate a task; `options` go to tasks that take them (LongHealth's budgets)."""
    protocol = protocol or load_protocol()
    classes = _classes()
    if task_id not in classes or task_id not in protocol.tasks:
        raise ConfigError(f"unknown task '{task_id}': expected one of {', '.join(protocol.tasks)}")
    cls = classes[task_id]
    if task_id == "longhealth":
        return cls(protocol.task(task_id), protocol, **options)  # type: ignore[call-arg]
    return cls(protocol.task(task_id), protocol)
