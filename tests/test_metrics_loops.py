"""The loop detector: degenerate repetition flagged, normal prose and code lists not."""

import random

import pytest

from cluebench.metrics.loops import has_loop

NOT_LOOPS = {
    "prose": "The patient was admitted with chest pain and shortness of breath. An ECG showed ST "
    "elevation. He was taken to the cath lab, where a stent was placed. He recovered well and was "
    "discharged home on aspirin and clopidogrel.",
    "codes": "ICD-10 Codes: E11.9, I10, N18.3, E78.5, I25.10, Z79.4, K21.9, F32.9, J44.9, Z87.891",
    "counting codes": ", ".join(f"E11.{i}" for i in range(10)),  # a different flag
    "templated list": "\n".join(f"- Patient was given medication number {i} for condition {i * 3}" for i in range(20)),
    "emphasis": "it was very very very good",
    "markdown table": "| a | b | c |\n|---|---|---|\n" + "\n".join(f"| {i} | {i+1} | {i+2} |" for i in range(20)),
    "two labels": "ENTAILMENT ENTAILMENT",
    "short": "NEUTRAL",
    "empty": "",
}

LOOPS = {
    "sentence x3": "What are the treatments for my condition and how long will they take to work? " * 3,
    "sentence x4": "The patient has diabetes and hypertension. " * 4,
    "code x6": "E11.9, " * 6,
    "word x8": "no " * 8,
    "label x10": "NEUTRAL\n" * 10,
    "variations": " ".join(f"The patient should continue taking the prescribed medication {w} daily." for w in "ABCDEFGHIJ"),
}


@pytest.mark.parametrize("name", NOT_LOOPS)
def test_not_a_loop(name):
    assert has_loop(NOT_LOOPS[name]) is False


@pytest.mark.parametrize("name", LOOPS)
def test_loop(name):
    assert has_loop(LOOPS[name]) is True


def test_linear_enough_on_100k_characters():
    rng = random.Random(0)
    words = ["the", "a", "patient", "was", "given", "with", "of", "and", "to", "for", "in", "on", "at", "by"] + [f"w{i}" for i in range(3000)]
    prose = " ".join(rng.choice(words) for _ in range(25000))[:100_000]
    looping = ("The patient has diabetes. " * 5000)[:100_000]
    assert has_loop(prose) is False
    assert has_loop(looping) is True
