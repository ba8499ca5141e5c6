"""Task id → task class. The protocol file says what each task is; the file
``cluebench/tasks/<id>.py`` says which code runs it, registering its class with
:func:`register_task` (as backends do with `cluebench.models.base.register`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cluebench.errors import ConfigError
from cluebench.protocol import Protocol, load_protocol
from cluebench.tasks.base import Task
from cluebench.util import import_if_present

T = TypeVar("T", bound=type[Task])

_TASKS: dict[str, type[Task]] = {}


def register_task(task_id: str) -> Callable[[T], T]:
    """Class decorator: `task_id`'s code (the protocol's `[tasks.<task_id>]` section)."""

    def decorate(cls: T) -> T:
        if _TASKS.get(task_id, cls) is not cls:
            raise ValueError(f"two task classes registered for {task_id!r}")
        cls.id = task_id
        _TASKS[task_id] = cls
        return cls

    return decorate


def task_class(task_id: str) -> type[Task]:
    """The registered class of `task_id`, importing ``cluebench.tasks.<task_id>`` on first use."""
    if task_id not in _TASKS and task_id.isidentifier():
        import_if_present(f"cluebench.tasks.{task_id}")
    if task_id not in _TASKS:
        raise KeyError(task_id)
    return _TASKS[task_id]


def resolve_task_class(task_id: str, protocol: Protocol) -> type[Task]:
    """The class running `protocol`'s task `task_id`; a `ConfigError` names what is missing."""
    if task_id not in protocol.tasks:
        raise ConfigError(f"unknown task '{task_id}': expected one of {', '.join(protocol.tasks)}")
    try:
        return task_class(task_id)
    except KeyError:
        raise ConfigError(
            f"task '{task_id}' of protocol {protocol.name} has no code: expected a file "
            f"cluebench/tasks/{task_id}.py with a class decorated @register_task({task_id!r})"
        ) from None


def get_task(task_id: str, protocol: Protocol | None = None, **options: Any) -> Task:
    """Instantiate a task; of `options` (run settings such as token budgets) each task takes the
    ones it names in `option_names`, so callers need not know which task wants which."""
    protocol = protocol or load_protocol()
    cls = resolve_task_class(task_id, protocol)
    taken = {k: v for k, v in options.items() if k in cls.option_names}
    return cls(protocol.task(task_id), protocol, **taken)  # type: ignore[call-arg]
