"""Seeded, streaming, order-independent selection of N items from a stream too large to hold.

The reference shuffles *all* notes with `random.seed(44)` and takes the first N, which needs
every note in memory. Here each item's key (an admission id or a note id) is ranked by
sha256("cluebench-sample", seed, key) and the N smallest ranks are kept in a heap: O(N) memory,
one pass, and the result depends only on (seed, the set of keys) -- not on file order, chunking,
or the machine. It is reproducible but cannot reproduce the reference's exact selection (which
depends on Python's Mersenne Twister shuffling the full file in memory).
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

SELECTION_METHOD = (
    "keyed-hash: keep the N keys with the smallest sha256('cluebench-sample\\0{seed}\\0{key}'); "
    "order-independent, O(N) memory; differs from the reference's random.seed(44) shuffle"
)


def rank(seed: int, key: str) -> int:
    """The key's position in the seeded order (smaller = selected first)."""
    digest = hashlib.sha256(f"cluebench-sample\0{seed}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest, "big")


@dataclass
class _Entry(Generic[T]):
    rank: int
    prefer: Any
    item: T
    offers: int = 1


class KeyedSample(Generic[T]):
    """The N keys with the smallest seeded rank, one item per key.

    A key offered more than once (an admission with two discharge notes) keeps the item with the
    largest ``prefer`` value, so the choice does not depend on which came first. A key evicted or
    rejected once can never come back (the heap's largest rank only decreases), which is what
    makes the result independent of order.
    """

    def __init__(self, n: int, seed: int) -> None:
        if n < 0:
            raise ValueError("n must be >= 0")
        self.n = n
        self.seed = seed
        self._heap: list[tuple[int, str]] = []  # (-rank, key): heap top = largest rank kept
        self._entries: dict[str, _Entry[T]] = {}
        self.offered = 0

    def would_keep(self, key: str) -> bool:
        """Whether an offer for `key` could change the selection (lets callers skip costly work)."""
        if key in self._entries:
            return True
        if len(self._heap) < self.n:
            return True
        return rank(self.seed, key) < -self._heap[0][0] if self.n else False

    def offer(self, key: str, item: T, prefer: Any = 0) -> None:
        self.offered += 1
        entry = self._entries.get(key)
        if entry is not None:
            entry.offers += 1
            if prefer > entry.prefer:
                entry.prefer, entry.item = prefer, item
            return
        if self.n == 0:
            return
        r = rank(self.seed, key)
        if len(self._heap) < self.n:
            heapq.heappush(self._heap, (-r, key))
        elif r < -self._heap[0][0]:
            _, evicted = heapq.heapreplace(self._heap, (-r, key))
            del self._entries[evicted]
        else:
            return
        self._entries[key] = _Entry(r, prefer, item)

    def __len__(self) -> int:
        return len(self._entries)

    def keys_with_several_offers(self) -> int:
        return sum(1 for e in self._entries.values() if e.offers > 1)

    def selected(self) -> list[tuple[str, T]]:
        """(key, item) in rank order: the output order is part of the seeded selection."""
        ordered = sorted(self._entries.items(), key=lambda kv: (kv[1].rank, kv[0]))
        return [(k, e.item) for k, e in ordered]
