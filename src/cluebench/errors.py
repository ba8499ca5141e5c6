"""User-facing errors.

Everything a user can cause (bad data file, bad flag, unreachable model) is raised as a
:class:`ClueError`; the CLI prints its one-line message and exits with code 2, never a traceback.
Programming errors stay ordinary exceptions so they are not mistaken for user mistakes.
"""

from __future__ import annotations

from pathlib import Path


class ClueError(Exception):
    """An error the user can fix; its message is a complete, one-line explanation."""

    exit_code = 2


class DataError(ClueError):
    """A dataset file is missing or malformed. Names file, line and field so it can be fixed."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.detail = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class ConfigError(ClueError):
    """A command-line flag, model spec or setting is invalid or conflicts with another."""


class BackendError(ClueError):
    """A model backend cannot be loaded or reached (not a per-request failure, which is retried)."""


class DataProtectionError(ClueError):
    """Credentialed (DUA-bound) data would leave the machine without the user's explicit consent."""

    @classmethod
    def check(cls, what: str, hosts: list[str], allow: bool) -> None:
        """The one data-protection rule: refuse, before any connection is opened, to send `what`
        (credentialed data) to `hosts` (the backend's remote hosts) unless the user allowed it."""
        if hosts and not allow:
            raise cls(
                f"refusing to send {what} to remote host(s) {', '.join(hosts)}: PhysioNet's data-use "
                "agreement forbids sharing it with third parties; pass --allow-remote-credentialed-data "
                "only if this endpoint is covered by your DUA"
            )


class RunLockedError(ClueError):
    """Another `clue` process is writing to the same run directory."""


class RunFileError(ClueError):
    """A run file cannot be read or written: a corrupt store, a read-only directory, a full disk.
    Nothing committed before is lost; the message says what to do."""
