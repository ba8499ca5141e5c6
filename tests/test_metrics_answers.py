"""MedNLI and LongHealth answer parsing: the reference rules and the strict/lenient parses."""

import pytest

from cluebench.protocol import load_protocol
from cluebench.metrics.answers import (
    longhealth_lenient,
    longhealth_strict,
    mednli_reference_correct,
    mednli_strict_label,
)

ANSWER_REGEX = load_protocol().task("longhealth").settings.answer_regex
LABELS = load_protocol().task("mednli").settings.labels


@pytest.mark.parametrize(
    ("output", "gold", "correct"),
    [
        ("NEUTRAL", "neutral", True),
        ("The relation is neutral.", "neutral", True),
        ("neutral neutral", "neutral", False),  # twice
        ("CONTRADICTION", "neutral", False),
        # the reference's defect, kept: every label once counts as correct
        ("ENTAILMENT, NEUTRAL or CONTRADICTION", "contradiction", True),
        ("NON-ENTAILMENT", "entailment", True),  # substring count
        ("anything", "", False),
    ],
)
def test_mednli_reference_rule(output, gold, correct):
    assert mednli_reference_correct(output, gold) is correct


@pytest.mark.parametrize(
    ("output", "label"),
    [
        ("NEUTRAL", "neutral"),
        ("  contradiction.", "contradiction"),
        ("ENTAILMENT, NEUTRAL or CONTRADICTION", "entailment"),  # the first one mentioned
        ("It is a Contradiction, not neutral", "contradiction"),
        ("NON-ENTAILMENT", "entailment"),  # the hyphen is a word boundary
        ("neutrality", None),
        ("contradictory", None),
        ("", None),
    ],
)
def test_mednli_strict_label(output, label):
    assert mednli_strict_label(output, LABELS) == label


def test_longhealth_strict_is_the_reference_regex():
    assert ANSWER_REGEX == "The correct answer is (\\w):"
    assert longhealth_strict("The correct answer is C: Acute bronchitis.", ANSWER_REGEX) == "C"
    assert longhealth_strict("x The correct answer is B: y. The correct answer is D: z", ANSWER_REGEX) == "B"
    assert longhealth_strict("the correct answer is C: y", ANSWER_REGEX) is None  # case-sensitive
    assert longhealth_strict("The correct answer is C - y", ANSWER_REGEX) is None
    assert longhealth_strict("The correct answer is c: y", ANSWER_REGEX) == "c"  # as written


@pytest.mark.parametrize(
    ("output", "letter"),
    [
        ("The correct answer is C: Acute bronchitis.", "C"),
        ("the answer is c", "C"),
        ("Answer: C", "C"),
        ("answer: (C)", "C"),
        ("(C)", "C"),
        ("The most likely option is (D) given the labs.", "D"),
        ("C: Acute bronchitis", "C"),
        ("C. Acute bronchitis", "C"),
        ("c) acute bronchitis", "C"),
        ("**B**", "B"),
        ("Option C", "C"),
        ("Option C is correct.", "C"),
        ("The correct answer is C Acute bronchitis", "C"),
        ("The correct answer is **D**: text", "D"),
        ("The correct answer is: E - Lung cancer", "E"),
        ("The answer is A", "A"),
        ("answer: a", "A"),
        ("The correct answer is (F) Question cannot be answered", "F"),
        ("Option A is wrong; the answer is C.", "C"),  # an explicit answer beats an option mention
    ],
)
def test_longhealth_lenient_accepts(output, letter):
    assert longhealth_lenient(output) == letter


@pytest.mark.parametrize(
    "output",
    [
        "The answer is a chest X-ray.",  # the article "a"
        "A patient with fever was admitted.",
        "Answer: A 45-year-old woman",
        "The answer is a-fib",
        "It is an option a doctor might take",
        "The answer is a 'fever'",
        "E.g. the patient was treated",
        "I answered everything",
        "the options are listed (a) and (b)",
        "The correct answer is G: none of these",  # not an option letter
        "Because of the history, it is unclear.",
        "",
    ],
)
def test_longhealth_lenient_rejects_near_misses(output):
    assert longhealth_lenient(output) is None


def test_longhealth_lenient_respects_letters():
    assert longhealth_lenient("The correct answer is F: cannot be answered", letters="ABCDE") is None
    assert longhealth_lenient("The correct answer is F: cannot be answered", letters="ABCDEF") == "F"
    assert longhealth_lenient("answer is c", letters="abcde") == "C"
    assert longhealth_lenient("answer is c", letters="") is None
