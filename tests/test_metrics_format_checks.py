"""Format-violation detectors for the "only ..." instructions."""

import pytest

from cluebench.metrics.format_checks import (
    answer_sentence_violation,
    codes_only_violation,
    label_only_violation,
    single_question_violation,
)

from cluebench.protocol import load_protocol

LABELS = ("entailment", "neutral", "contradiction")
CODES_PREFIX = load_protocol().task("medisumcode").settings.codes_prefix_regex
ANSWER_PREFIX = load_protocol().task("longhealth").settings.answer_prefix


@pytest.mark.parametrize(
    ("output", "violation"),
    [
        ("NEUTRAL", False),
        (" neutral.\n", False),
        ("**Contradiction**", False),
        ("", True),
        ("The answer is NEUTRAL", True),
        ("NEUTRAL NEUTRAL", True),
        ("ENTAILMENT or NEUTRAL", True),
        ("neutrality", True),
    ],
)
def test_label_only(output, violation):
    assert label_only_violation(output, LABELS) is violation


@pytest.mark.parametrize(
    ("output", "violation"),
    [
        ("ICD-10 Codes: E11.9, I10, N18.30", False),
        ("E119, I10", False),
        ("icd-10-cm codes: E11.9; I10", False),
        ("- E11.9\n- I10\n1. N18.3", False),
        ("", False),  # nothing beyond codes: a parse failure, not a format violation
        ("ICD-10 Codes: E11.9 (Type 2 diabetes), I10", True),
        ("None", True),
        ("Here are the codes: E11.9", True),
        ("e11.9", True),  # lower case is not a code to the protocol's regex
    ],
)
def test_codes_only(output, violation):
    assert codes_only_violation(output, None, CODES_PREFIX) is violation


@pytest.mark.parametrize(
    ("output", "violation"),
    [
        ("The correct answer is C: Acute bronchitis.", False),
        ("  'The correct answer is C: Acute bronchitis, e.g. viral.'", False),
        ("The correct answer is B: 2.5 mg daily", False),
        ("The correct answer is C: Acute bronchitis. It fits the history.", True),
        ("The correct answer is C: Acute bronchitis\nBecause ...", True),
        ("the correct answer is C: Acute bronchitis.", True),  # prefix is case-sensitive
        ("C: Acute bronchitis", True),
        ("", True),
    ],
)
def test_answer_sentence(output, violation):
    assert answer_sentence_violation(output, ANSWER_PREFIX) is violation


@pytest.mark.parametrize(
    ("output", "violation"),
    [
        ("What are the side effects of metformin?", False),
        ('"What is the dose of Dr. Smith\'s drug?"', False),
        ("Sure. What is diabetes?", True),
        ("What is X? What is Y?", True),
        ("What is diabetes", True),
        ("Question:\nWhat is diabetes?", True),
        ("", True),
    ],
)
def test_single_question(output, violation):
    assert single_question_violation(output) is violation
