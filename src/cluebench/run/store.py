"""The response store: every completion, committed the moment it returns.

SQLite in WAL mode with one writer (the thread that drives the backend), so a `kill -9` at any
point loses at most the requests in flight and never corrupts what was committed. Keys are
sha256(model id, rendered prompt, decoding): the same request is never asked twice, whichever
command asks it (`clue run`, `clue generate`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Iterator

from cluebench.errors import RunFileError
from cluebench.models.base import Completion, Decoding

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_s REAL,
    attempts INTEGER,
    created REAL,
    reasoning TEXT,
    reasoning_tokens INTEGER
);
CREATE TABLE IF NOT EXISTS scores (
    key TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    error TEXT,
    attempts INTEGER,
    created REAL
);
"""


# Columns added after the first release; a store written before them gets them on open.
_ADDED_COLUMNS = {"reasoning": "TEXT", "reasoning_tokens": "INTEGER"}


def request_key(
    model_id: str, rendered: str, decoding: Decoding, reasoning: dict | None = None
) -> str:
    """sha256 of what decides the answer. `reasoning` (the run's reasoning settings, see
    run.reasoning.ReasoningPolicy.key_part) is left out when None, so plain-protocol keys are the
    ones they always were."""
    request: dict = {"model": model_id, "prompt": rendered, "decoding": decoding.to_dict()}
    if reasoning is not None:
        request["reasoning"] = reasoning
    payload = json.dumps(request, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def messages_hash(messages: list[dict]) -> str:
    """Template-independent identity of a prompt: the same chat gives the same hash for any model,
    which is what `clue compare` pairs samples on."""
    return text_hash(json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False))


class ResponseStore:
    """Completions by request key. Failed requests are kept apart, so a rerun asks them again.
    The `scores` table is the score cache: per-pair metric values by score key."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self._errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file() and self.path.stat().st_size == 0:
                log.warning(
                    "%s is empty (0 bytes): it holds no answers, so every request is asked again",
                    self.path,
                )
            self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: crash-durable
                check = self._db.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed ({check})")
                self._db.executescript(_SCHEMA)
                self._migrate()
            except BaseException:
                self._db.close()
                raise

    def _migrate(self) -> None:
        """Stores written before the reasoning columns existed get them (empty)."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(responses)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE responses ADD COLUMN {name} {kind}")

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """SQLite and OS errors as one line that says what happened and what to do; what was
        committed before stays committed (every answer is its own transaction)."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            text = str(exc).lower()
            if isinstance(exc, sqlite3.DatabaseError) and (
                "not a database" in text or "malformed" in text or "file is encrypted" in text
            ):
                hint = ("the file is corrupt; move it aside to start the run over (its answers "
                        "cannot be reused)")
            elif "full" in text or getattr(exc, "errno", None) == 28:
                hint = "the disk is full; free space and run the same command again"
            elif "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
                hint = "the run directory is not writable; fix its permissions or choose another --out"
            else:
                hint = "answers committed before this are kept; run the same command again"
            raise RunFileError(f"cannot {doing} the response store {self.path}: {exc} ({hint})") from None

    def _rows_for(self, columns: str, table: str, keys: Iterable[str]) -> Iterator[tuple]:
        """SELECT columns FROM table WHERE key IN keys, in chunks under SQLite's variable limit."""
        unique = list(dict.fromkeys(keys))
        with self._errors("read"):
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                marks = ",".join("?" * len(chunk))
                yield from self._db.execute(
                    f"SELECT {columns} FROM {table} WHERE key IN ({marks})", chunk
                ).fetchall()

    def get_many(self, keys: Iterable[str]) -> dict[str, Completion]:
        columns = (
            "key, text, finish_reason, prompt_tokens, completion_tokens, latency_s, attempts,"
            " reasoning, reasoning_tokens"
        )
        return {
            key: Completion(key, text, finish, pt, ct, lat or 0.0, None, att or 1, rs, rt)
            for key, text, finish, pt, ct, lat, att, rs, rt in self._rows_for(
                columns, "responses", keys
            )
        }

    def failures(self, keys: Iterable[str]) -> dict[str, str]:
        return {key: error or "" for key, error in self._rows_for("key, error", "failures", keys)}

    def put(self, model_id: str, completion: Completion) -> None:
        """Commit one completion now (autocommit): the resume point moves with every answer."""
        now = time.time()
        with self._errors("write to"):
            if completion.finish_reason == "error":
                self._db.execute(
                    "INSERT OR REPLACE INTO failures (key, model_id, error, attempts, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (completion.key, model_id, completion.error, completion.attempts, now),
                )
                return
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model_id, text, finish_reason, "
                "prompt_tokens, completion_tokens, latency_s, attempts, created, reasoning, "
                "reasoning_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    completion.key,
                    model_id,
                    completion.text,
                    completion.finish_reason,
                    completion.prompt_tokens,
                    completion.completion_tokens,
                    completion.latency_s,
                    completion.attempts,
                    now,
                    completion.reasoning,
                    completion.reasoning_tokens,
                ),
            )
            self._db.execute("DELETE FROM failures WHERE key = ?", (completion.key,))

    def get_scores(self, keys: Iterable[str]) -> dict[str, dict[str, float]]:
        """Cached per-pair metric scores by score key (see tasks.scorers.Scorers)."""
        return {key: json.loads(value) for key, value in self._rows_for("key, value", "scores", keys)}

    def put_scores(self, values: dict[str, dict[str, float]], family: str) -> None:
        """Keep freshly computed per-pair scores, in one transaction."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                [(k, family, json.dumps(v, sort_keys=True), now) for k, v in values.items()],
            )

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ResponseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
