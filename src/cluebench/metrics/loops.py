"""Degenerate-repetition ("loop") detection for model outputs.

The paper attributes many low scores to generations that get stuck repeating themselves until the
token limit. :func:`has_loop` flags them so the error analysis can count them.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

# Words, and runs of punctuation as single tokens (so "-----" or "|---|" is one token, not a loop).
_TOKEN = re.compile(r"\w+|[^\w\s]+")

MAX_PERIOD = 64  # longest repeated unit (tokens) looked for by the tandem rule
MIN_REPEATS = 3  # tandem rule: at least this many back-to-back copies ...
MIN_SPAN = 20  # ... covering at least this many tokens,
MANY_REPEATS = 6  # or this many back-to-back copies of any unit (>= 2 tokens) ...
MANY_REPEATS_SINGLE = 8  # ... or this many copies of one token ("no no no no no no no no")
SHARE_N = 8  # share rule: n-gram length
SHARE_MIN_TOKENS = 60  # share rule applies to outputs of at least this many tokens
SHARE = 0.5  # share rule: one n-gram's occurrences cover at least this share of the tokens


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _longest_true_run(mask: np.ndarray) -> int:
    """Length of the longest run of True values in a 1-D boolean array."""
    if not mask.any():
        return 0
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def _tandem_loop(ids: np.ndarray) -> bool:
    n = len(ids)
    for period in range(1, min(MAX_PERIOD, n // 2) + 1):
        run = _longest_true_run(ids[period:] == ids[:-period])
        if run == 0:
            continue
        repeats = run // period + 1  # copies of the unit back to back
        span = run + period
        needed = MANY_REPEATS_SINGLE if period == 1 else MANY_REPEATS
        if repeats >= needed or (repeats >= MIN_REPEATS and span >= MIN_SPAN):
            return True
    return False


def _share_loop(tokens: list[str]) -> bool:
    if len(tokens) < SHARE_MIN_TOKENS:
        return False
    grams = Counter(zip(*(tokens[i:] for i in range(SHARE_N))))
    count = grams.most_common(1)[0][1]
    return count * SHARE_N >= SHARE * len(tokens)


def has_loop(text: str) -> bool:
    """True when the output degenerates into repetition.

    Text is split into lower-cased tokens (words; runs of punctuation count as one token). It is a
    loop when either

    * tandem rule: some unit of 1..64 tokens is repeated back to back at least 3 times covering at
      least 20 tokens (a sentence said three times over), or at least 6 times whatever its length
      (8 times for a single token: "no no no ..."); or
    * share rule: in an output of at least 60 tokens, one 8-gram's occurrences cover at least half
      of the tokens (repetition with small variations in between).

    Normal prose, bullet lists and code lists (E11.9, I10, ...) do not trigger it; a list that
    counts up (E11.1, E11.2, ...) is a different flag (`icd10.increasing_digits`). Cost is
    O(64 * tokens) vectorised comparisons: well under a second for 100k characters.
    """
    tokens = _tokens(text)
    if len(tokens) < 2:
        return False
    vocabulary: dict[str, int] = {}
    ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in tokens), dtype=np.int64)
    return _tandem_loop(ids) or _share_loop(tokens)
