"""Answer parsing for the classification tasks: MedNLI labels and LongHealth option letters.

Each task gets the reference's rule (for comparability with the paper) next to a stricter or more
lenient parse, so a near miss is counted and visible rather than silently scored wrong.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence



def mednli_reference_correct(output: str, gold: str) -> bool:
    """The reference rule: the upper-cased gold label occurs exactly once in the upper-cased output.

    Plain substring count, so "ENTAILMENT" inside "NON-ENTAILMENT" counts, and an output naming all
    three labels once each is "correct" (a known defect, kept for faithfulness). An empty gold
    label is never correct.
    """
    label = gold.strip().upper()
    return bool(label) and output.upper().count(label) == 1


def mednli_strict_label(output: str, labels: Sequence[str]) -> str | None:
    """The first of `labels` (the protocol's) mentioned as a whole word (any case), lower-cased;
    None if none."""
    match = _label_words(tuple(labels)).search(output)
    return match.group(1).lower() if match else None


@functools.lru_cache(maxsize=8)
def _label_words(labels: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(label) for label in labels) + r")\b", re.IGNORECASE)


@functools.lru_cache(maxsize=16)
def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def longhealth_strict(output: str, pattern: str) -> str | None:
    """The reference parse: group 1 of the first match of `pattern`, case-sensitive, as written.

    `pattern` is the protocol's ``answer_regex`` (``The correct answer is (\\w):``); there is no
    default so the rule lives only in the protocol file.
    """
    match = _compiled(pattern).search(output)
    return match.group(1) if match and match.groups() else None


# Lenient LongHealth parsing.
#
# A letter is accepted only where it is clearly an option label, never where it could be the
# English article "a". Two shapes:
#   delimited: right after the letter comes ":", ")", "]", ",", ";", "*", a quote, a "." that does
#              not start an abbreviation ("e.g."), a spaced dash, or the end of the line/text
#              ("answer is C", "(c)", "C.", "answer: c)");
#   bare:      after "answer is"/"option"/"choice"/"letter", an upper-case letter followed by a
#              space ("The correct answer is C Acute bronchitis", "Option C is correct"). A
#              lower-case "a" + space is prose ("the answer is a fever"), and so is a capital after
#              "Answer:" ("Answer: A 45-year-old woman ...").
_OPEN = r"[\s(\[*\"'`]*"
_DELIM = r"(?=[:)\],;*\"'`]|\.(?!\w)|\s*$|\s+[:)]|\s*[-\u2013\u2014]\s)"
_CUE_ANSWER = r"\banswer\b\s*(?:is|would\s+be|will\s+be|=|:)?\s*:?"
_CUE_ANSWER_VERB = r"\banswer\b\s+(?:is|would\s+be|will\s+be)\s*"
_CUE_OPTION = r"\b(?:option|choice|letter)\b\s*:?"


@functools.lru_cache(maxsize=8)
def _lenient_patterns(letters: str) -> tuple[re.Pattern[str], ...]:
    """Patterns in priority order; the first pattern that matches anywhere wins."""
    cls = "[" + re.escape(letters.upper() + letters.lower()) + "]"
    upper = "[" + re.escape(letters.upper()) + "]"
    flags = re.IGNORECASE | re.MULTILINE
    return (
        # 1. "The correct answer is C:" / "answer: (c)" / "answer is C" at the end of the text.
        re.compile(_CUE_ANSWER + _OPEN + f"(?P<x>{cls})" + _DELIM, flags),
        # 2. "answer is C Acute bronchitis" (upper-case letter, then a space).
        re.compile(_CUE_ANSWER_VERB + r"[(\[*\"'`]*" + f"(?-i:(?P<x>{upper}))" + r"(?=\s)", flags),
        # 3. "option C" / "choice (c)" / "Option C is correct".
        re.compile(_CUE_OPTION + _OPEN + f"(?P<x>{cls})" + _DELIM, flags),
        re.compile(_CUE_OPTION + _OPEN + f"(?-i:(?P<x>{upper}))" + r"(?=\s)", flags),
        # 4. A line that starts with the label: "C: ...", "c) ...", "(C) ...", "C." or "C" alone.
        re.compile(r"^[ \t*>#\"'`]*\(?" + f"(?P<x>{cls})" + r"(?=[*\"'`]*(?:[:)\]]|\.(?!\w)|[ \t]*$))", flags),
        # 5. "(C)" anywhere (upper case only: "(a)" is common in prose enumerations).
        re.compile(r"\((?-i:(?P<x>" + upper + r"))\)"),
    )


def longhealth_lenient(output: str, letters: str = "ABCDEF") -> str | None:
    """A tolerant parse of a LongHealth answer letter (upper case), or None.

    Accepts "The correct answer is C: ...", "the answer is c", "Answer: C", "answer: (C)",
    "Option C", "(C)", and outputs starting with "C:", "C.", "C)" or "(C)". Never reads the article
    "a" in prose ("The answer is a chest X-ray", "A patient with ...") as option A. Letters outside
    `letters` are ignored, and a pattern with no valid letter falls through to the next one.
    """
    if not letters:
        return None
    for pattern in _lenient_patterns(letters):
        for match in pattern.finditer(output):
            letter = match.group("x").upper()
            if letter in letters.upper():
                return letter
    return None
