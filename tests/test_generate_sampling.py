"""Seeded keyed-hash selection: the N smallest ranks, independent of order, one item per key."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cluebench.generate.sampling import KeyedSample, rank


def test_rank_is_sha256_of_seed_and_key() -> None:
    expected = int.from_bytes(hashlib.sha256(b"cluebench-sample\x0044\x00abc").digest(), "big")
    assert rank(44, "abc") == expected
    assert rank(45, "abc") != expected


def _select(keys, n, seed):
    s: KeyedSample[str] = KeyedSample(n, seed)
    for k in keys:
        s.offer(k, f"item-{k}")
    return s.selected()


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=60),
    n=st.integers(min_value=0, max_value=20),
    seed=st.integers(min_value=0, max_value=1000),
    shuffle_seed=st.integers(),
)
def test_equals_brute_force_in_any_order(keys, n, seed, shuffle_seed) -> None:
    expected = sorted(keys, key=lambda k: rank(seed, k))[:n]
    shuffled = list(keys)
    random.Random(shuffle_seed).shuffle(shuffled)
    got = _select(shuffled, n, seed)
    assert [k for k, _ in got] == expected
    assert all(item == f"item-{k}" for k, item in got)


def test_repeated_key_keeps_preferred_item_whatever_the_order() -> None:
    offers = [("a", "a-old", (1, "x")), ("b", "b", (1, "y")), ("a", "a-new", (3, "z")), ("a", "a-mid", (2, "w"))]
    for order in (offers, offers[::-1], offers[1:] + offers[:1]):
        s: KeyedSample[str] = KeyedSample(5, 44)
        for key, item, prefer in order:
            s.offer(key, item, prefer)
        assert dict(s.selected()) == {"a": "a-new", "b": "b"}
        assert s.keys_with_several_offers() == 1


def test_would_keep_agrees_with_offer() -> None:
    s: KeyedSample[int] = KeyedSample(3, 7)
    keys = [str(i) for i in range(50)]
    for k in keys:
        keep = s.would_keep(k)
        s.offer(k, 0)
        assert keep == (k in dict(s.selected()))
    assert len(s) == 3
    assert [k for k, _ in s.selected()] == sorted(keys, key=lambda k: rank(7, k))[:3]
