"""Generate through the response store: ask only what is not answered yet, commit as it returns."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from cluebench.models.base import Backend, Completion, Decoding, Message, Request
from cluebench.run.store import ResponseStore, request_key


def keyed_requests(
    backend: Backend,
    message_lists: Sequence[Sequence[Message]],
    decodings: Sequence[Decoding],
    reasoning: dict | None = None,
) -> tuple[list[Request], list[str]]:
    """Requests with their cache keys, and each request's rendered prompt. `reasoning`: the run's
    reasoning settings for the key (None for the paper's protocol)."""
    requests, rendered = [], []
    for messages, decoding in zip(message_lists, decodings):
        text = backend.render(messages)
        rendered.append(text)
        key = request_key(backend.model_id, text, decoding, reasoning)
        requests.append(Request(key, list(messages), decoding))
    return requests, rendered


def prompt_tokens_for_eta(backend: Backend, messages: Sequence[Message]) -> int:
    """Prompt tokens for a progress estimate: the backend's count, or ~4 characters per token
    for a backend that cannot count (an ETA must never stop a run)."""
    try:
        return int(backend.count_prompt_tokens(messages))
    except Exception:  # noqa: BLE001 - any backend, any failure: fall back to an estimate
        return sum(len(m.get("content", "")) for m in messages) // 4 + 1


def generate_missing(
    backend: Backend,
    store: ResponseStore,
    requests: Sequence[Request],
    on_progress: Callable[[Completion], None] | None = None,
) -> dict[str, Completion]:
    """All completions for `requests`: from the store, or generated now (each committed at once).

    Duplicate requests (same key) are sent once. Returns the successful completions by key;
    failures (retries exhausted) are in the store's failure table, so a rerun asks them again.
    """
    unique: dict[str, Request] = {}
    for r in requests:
        unique.setdefault(r.key, r)
    done = store.get_many(unique)
    missing = [r for k, r in unique.items() if k not in done]
    if missing:
        model_id = backend.model_id

        def commit(c: Completion) -> None:
            store.put(model_id, c)
            if c.finish_reason != "error":
                done[c.key] = c
            if on_progress is not None:
                on_progress(c)

        backend.generate(missing, commit)
    return done


def generate_cached(
    backend: Backend,
    store_path: Path,
    message_lists: list[list[Message]],
    decoding: Decoding,
    *,
    progress_label: str | None = None,
) -> list[Completion]:
    """Completions in input order, through the store at `store_path` (resume = call again)."""
    from cluebench.terminal import PendingRequest, RunProgress, TaskPlan

    requests, _ = keyed_requests(backend, message_lists, [decoding] * len(message_lists))
    label = progress_label or "generate"
    with ResponseStore(store_path) as store:
        cached = store.get_many(r.key for r in requests)
        missing = {r.key: r for r in requests if r.key not in cached}
        pending = [PendingRequest(prompt_tokens_for_eta(backend, r.messages), decoding.max_tokens) for r in missing.values()]
        plan = TaskPlan(label, total=len(cached) + len(missing), cached=len(cached), pending=pending)
        with RunProgress([plan]) as progress:
            progress.start_task(label)
            done = generate_missing(backend, store, requests, progress.advance)
            progress.finish_task(label)
        errors = store.failures(r.key for r in requests if r.key not in done)
    return [
        done.get(r.key) or Completion.failed(r.key, errors.get(r.key, "no answer"))
        for r in requests
    ]
