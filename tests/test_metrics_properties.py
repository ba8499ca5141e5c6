"""Property tests: every parser and metric survives arbitrary text, stays in range, is deterministic.

Inputs: arbitrary Unicode (control characters, surrogate-free), empty strings, ~100k-character
outputs, and adversarial near misses of the answer formats.
"""

import functools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluebench.metrics import answers, format_checks, icd10, loops
from cluebench.protocol import load_protocol
from cluebench.metrics.entities import entity_prf, get_extractor
from cluebench.metrics.rouge import rouge_scores

_LONGHEALTH = load_protocol().task("longhealth").settings
_CODES = load_protocol().task("medisumcode").settings
ANSWER_REGEX = _LONGHEALTH.answer_regex
ANSWER_PREFIX = _LONGHEALTH.answer_prefix
CODE_REGEXES = (_CODES.code_regex, _CODES.code_regex_fixed)
CODES_PREFIX = _CODES.codes_prefix_regex
LABELS = ("entailment", "neutral", "contradiction")

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])

unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
control_text = st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=200)


@st.composite
def huge_text(draw):
    """A ~100k-character output built from a random chunk (repetitive, like a runaway model)."""
    chunk = draw(st.text(min_size=1, max_size=40)) + draw(st.sampled_from([" ", "\n", ", ", ". "]))
    return (chunk * (100_000 // len(chunk) + 1))[:100_000]


near_miss = st.builds(
    lambda prefix, letter, sep, tail: f"{prefix}{letter}{sep}{tail}",
    st.sampled_from(
        ["The correct answer is ", "the correct answer is ", "The correct answer is: ", "Answer: ",
         "answer is ", "Option ", "(", "", "**", "The answer is a", "A", "I think ", "The correct answeris "]
    ),
    st.sampled_from(list("ABCDEFGaf") + ["", "a patient", "AB", "1", "ü", "\x00"]),
    st.sampled_from([":", ")", ".", " ", "", "-", ": ", ".g.", "**", "\n", "'"]),
    st.sampled_from(["Acute bronchitis.", "", "chest X-ray", "NEUTRAL", "E11.9, E11.2", "?"]),
)

any_text = st.one_of(unicode_text, control_text, near_miss, st.just(""))


def in_range(values):
    return all(isinstance(v, float) and not math.isnan(v) and 0.0 <= v <= 100.0 for v in values)


@FAST
@given(any_text, any_text)
def test_answer_parsers_never_raise_and_are_deterministic(output, gold):
    for _ in range(2):
        results = (
            answers.mednli_reference_correct(output, gold),
            answers.mednli_strict_label(output, LABELS),
            answers.longhealth_strict(output, ANSWER_REGEX),
            answers.longhealth_lenient(output),
            answers.longhealth_lenient(output, "ABCDE"),
        )
        if _ == 0:
            first = results
    assert results == first
    assert first[1] in (None, *LABELS)
    assert first[3] is None or first[3] in "ABCDEF"
    assert first[4] is None or first[4] in "ABCDE"
    assert first[2] is None or len(first[2]) == 1


@FAST
@given(any_text)
def test_format_checks_and_loops_never_raise(output):
    flags = [
        format_checks.label_only_violation(output, LABELS),
        format_checks.codes_only_violation(output, None, CODES_PREFIX),
        format_checks.answer_sentence_violation(output, ANSWER_PREFIX),
        format_checks.single_question_violation(output),
        loops.has_loop(output),
    ]
    assert all(isinstance(f, bool) for f in flags)
    assert flags == [
        format_checks.label_only_violation(output, LABELS),
        format_checks.codes_only_violation(output, None, CODES_PREFIX),
        format_checks.answer_sentence_violation(output, ANSWER_PREFIX),
        format_checks.single_question_violation(output),
        loops.has_loop(output),
    ]


@FAST
@given(any_text, st.lists(st.sampled_from(["E119", "I10", "E785", "U071", "Z3A", "X99", "Q999Z"]), max_size=5))
def test_icd_metrics_in_range(output, gold):
    for regex in CODE_REGEXES:
        predicted = icd10.parse_codes(output, regex)
        assert predicted == icd10.parse_codes(output, regex)
        assert len(predicted) == len(set(predicted))
        assert all(code == icd10.normalize(code) for code in predicted)
        for level in ("exact", "approx", "chapter"):
            assert in_range(icd10.code_prf(predicted, gold, level))
        assert in_range([icd10.valid_ratio(predicted)])
        assert in_range(icd10.code_scores(predicted, gold).values())
        assert isinstance(icd10.increasing_digits(predicted), bool)
    assert isinstance(icd10.is_valid(output), bool)


@FAST
@given(any_text, any_text)
def test_rouge_in_range_and_deterministic(prediction, reference):
    first = rouge_scores([prediction], [reference])
    assert first == rouge_scores([prediction], [reference])
    assert in_range(first[0].values())


@functools.lru_cache(maxsize=1)
def lexicon():
    return get_extractor("lexicon")


@FAST
@given(any_text, any_text)
def test_lexicon_entity_f1_in_range(prediction, reference):
    scores = entity_prf(prediction, reference, lexicon())
    assert set(scores) == {"entity_p", "entity_r", "entity_f1"}
    assert in_range(scores.values())
    assert scores == entity_prf(prediction, reference, lexicon())
    assert entity_prf(prediction, prediction, lexicon())["entity_f1"] in (0.0, 100.0)


@FEW
@given(huge_text())
def test_everything_survives_100k_character_outputs(output):
    assert isinstance(loops.has_loop(output), bool)
    answers.longhealth_lenient(output)
    answers.longhealth_strict(output, ANSWER_REGEX)
    answers.mednli_strict_label(output, LABELS)
    format_checks.codes_only_violation(output, None, CODES_PREFIX)
    format_checks.answer_sentence_violation(output, ANSWER_PREFIX)
    format_checks.single_question_violation(output)
    assert in_range(icd10.code_prf(icd10.parse_codes(output), ["E119"]))
    assert in_range(rouge_scores([output], ["a short reference"])[0].values())
    assert in_range(entity_prf(output, "fever and aspirin", lexicon()).values())


@functools.lru_cache(maxsize=1)
def bert():
    from cluebench.metrics.bertscore import BertScorer

    return BertScorer(device="cpu")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(unicode_text, control_text, near_miss, st.just("")), min_size=2, max_size=4))
def test_bertscore_in_range_on_arbitrary_text(texts):
    predictions, references = texts, texts[::-1]
    first = bert().score(predictions, references)
    assert len(first) == len(texts)
    assert all(in_range(s.values()) for s in first)
    assert first == bert().score(predictions, references)


def test_bertscore_on_a_100k_character_output():
    output = ("The patient has diabetes. " * 4000)[:100_000]
    [score] = bert().score([output], ["The patient has diabetes."])  # cut at 512 tokens, no crash
    assert in_range(score.values()) and score["bertscore_f1"] > 0.0
    assert [score] == bert().score([output], ["The patient has diabetes."])
