"""ICD-10-CM parsing, validity and set P/R/F1 (0-100) at the three levels, by hand."""

import pytest

from cluebench.metrics import icd10
from cluebench.protocol import load_protocol

REFERENCE_REGEX = load_protocol().task("medisumcode").settings.code_regex
FIXED_REGEX = load_protocol().task("medisumcode").settings.code_regex_fixed


def test_normalize():
    assert icd10.normalize(" e11.9 ") == "E119"
    assert icd10.normalize("I25.10") == "I2510"


def test_parse_codes_dedups_in_order_and_strips_dots():
    text = "ICD-10 Codes: E11.9, I10, E119, N18.30; U07.1 and 123, e11.9"
    assert icd10.parse_codes(text, FIXED_REGEX) == ["E119", "I10", "N1830", "U071"]
    # the reference regex excludes U codes; the default is the fixed one
    assert icd10.parse_codes(text, REFERENCE_REGEX) == ["E119", "I10", "N1830"]
    assert icd10.parse_codes(text) == icd10.parse_codes(text, FIXED_REGEX)
    assert icd10.parse_codes("") == []


def test_exact_prf_by_hand():
    # pred {E119, I10, E99}, gold {E119, E785}: 1 hit -> P 1/3, R 1/2, F 0.4
    p, r, f = icd10.code_prf(["E119", "I10", "E99"], ["E119", "E785"], "exact")
    assert (p, r, f) == pytest.approx((100 / 3, 50.0, 40.0))


def test_approx_uses_three_character_categories():
    # categories pred {E11, I10}, gold {E11, I25}: 1 of 2 each
    p, r, f = icd10.code_prf(["E119", "E1165", "I10"], ["E118", "I2510"], "approx")
    assert (p, r, f) == pytest.approx((50.0, 50.0, 50.0))


def test_chapter_level():
    # E119 -> chapter 4, I10 -> 9, K219 -> 11; gold E785 (4), I2510 (9): P 2/3, R 1
    p, r, f = icd10.code_prf(["E119", "I10", "K219"], ["E785", "I2510"], "chapter")
    assert (p, r, f) == pytest.approx((200 / 3, 100.0, 80.0))
    assert icd10.chapter_of("E11.9") == "4"
    assert icd10.chapter_of("U071") == "22"
    assert icd10.chapter_of("E99") == "4"  # invented category inside the E chapter
    assert icd10.chapter_of("T99") == "19"


def test_empty_lists_are_defined():
    assert icd10.code_prf([], []) == (100.0, 100.0, 100.0)
    assert icd10.code_prf(["E119"], []) == (0.0, 0.0, 0.0)
    assert icd10.code_prf([], ["E119"]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        icd10.code_prf(["E119"], ["E119"], "bogus")  # type: ignore[arg-type]


def test_is_valid_categories_and_billable_codes():
    assert icd10.is_valid("E11")  # category
    assert icd10.is_valid("E119") and icd10.is_valid("E11.9") and icd10.is_valid("e11.9")
    assert icd10.is_valid("S72001A")  # 7-character code
    assert icd10.is_valid("U071")  # missing from the reference's 2022 list
    assert not icd10.is_valid("E99")
    assert not icd10.is_valid("4")  # a chapter
    assert not icd10.is_valid("E08-E13")  # a block
    assert not icd10.is_valid("")


def test_valid_ratio():
    assert icd10.valid_ratio(["E119", "I10", "E99", "Q999Z"]) == pytest.approx(50.0)
    assert icd10.valid_ratio([]) == 0.0


def test_increasing_digits():
    assert icd10.increasing_digits(["E111", "E112", "E113"])
    assert icd10.increasing_digits(["I10", "E11.1", "E11.2", "E11.3", "Z794"])
    assert not icd10.increasing_digits(["E111", "E112"])  # run of two
    assert not icd10.increasing_digits(["E111", "E113", "E119"])  # not +1 steps
    assert not icd10.increasing_digits(["E111", "I10", "E112", "E113"])  # not adjacent
    assert not icd10.increasing_digits(["E119", "I10", "N183"])
    assert icd10.increasing_digits(["E111", "E112"], min_run=2)


def test_code_scores_names_match_protocol_metrics():
    scores = icd10.code_scores(["E119", "I10"], ["E119"])
    assert scores["icd_exact_p"] == pytest.approx(50.0)
    assert scores["icd_exact_r"] == 100.0
    assert scores["icd_valid_ratio"] == 100.0
    protocol_metrics = set(load_protocol().task("medisumcode").metrics)
    assert protocol_metrics <= set(scores)


def test_library_info():
    info = icd10.library_info()
    assert info["library"] == "simple-icd-10-cm"
    assert info["version"]
    assert isinstance(info["release_year"], int) and info["release_year"] >= 2024
    assert info["release_month"] in {"April", "October"}
