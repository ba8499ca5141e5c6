"""ICD-10-CM parsing, validity and set P/R/F1 (0-100) at the three levels, by hand."""

import pytest

from cluebench.metrics import icd10
from cluebench.protocol import load_protocol

REFERENCE_REGEX = load_protocol().task("medisumcode").settings.code_regex
FIXED_REGEX = load_protocol().task("medisumcode").settings.code_regex_fixed


def test_normalize():
    assert icd10.normalize(" e11.9 ") == "E119"
    assert icd10.normalize("I25.10") == "I2510"


def test_parse_codes_keeps_every_entry_in_order_and_strips_dots():
    text = "ICD-10 Codes: E11.9, I10, E119, N18.30; U07.1 and 123, e11.9"
    # every match, duplicates included (the reference's re.findall); lower-case e11.9 is no match
    assert icd10.parse_codes(text, FIXED_REGEX) == ["E119", "I10", "E119", "N1830", "U071"]
    assert icd10.parse_codes(text, FIXED_REGEX, unique=True) == ["E119", "I10", "N1830", "U071"]
    # the reference regex excludes U codes; the default is the fixed one
    assert icd10.parse_codes(text, REFERENCE_REGEX) == ["E119", "I10", "E119", "N1830"]
    assert icd10.parse_codes(text) == icd10.parse_codes(text, FIXED_REGEX)
    assert icd10.parse_codes("") == []
    assert icd10.unique_codes(["i10", "I1.0", "E119"]) == ["I10", "E119"]


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


def test_empty_lists_reference_rule_and_dedup_rule():
    # the reference splits the gold string on ", ": "" -> [""], which nothing matches: 0, no crash
    for level in ("exact", "approx"):
        assert icd10.code_prf([], [], level) == (0.0, 0.0, 0.0)
        assert icd10.code_prf(["E119"], [], level) == (0.0, 0.0, 0.0)
        assert icd10.code_prf([], ["E119"], level) == (0.0, 0.0, 0.0)
    # the deduplicated variant defines it: nothing to find and nothing claimed is perfect
    assert icd10.code_prf([], [], dedup=True) == (100.0, 100.0, 100.0)
    assert icd10.code_prf(["E119"], [], dedup=True) == (0.0, 0.0, 0.0)
    assert icd10.code_prf([], [], "chapter") == (100.0, 100.0, 100.0)
    with pytest.raises(ValueError):
        icd10.code_prf(["E119"], ["E119"], "bogus")  # type: ignore[arg-type]


def test_duplicates_counted_as_the_reference_counts_them():
    # "I10, I10, E11.9" against gold "I10" (the example):
    pred = icd10.parse_codes("I10, I10, E11.9")
    assert pred == ["I10", "I10", "E119"]
    # reference exact: P = 2 of 3 entries in gold, R = 1 of 1 -> F = 2*(2/3)/(5/3) = 0.8
    assert icd10.code_prf(pred, ["I10"]) == pytest.approx((200 / 3, 100.0, 80.0))
    # deduplicated: {I10, E119} vs {I10}: P 1/2, R 1, F 2/3
    assert icd10.code_prf(pred, ["I10"], dedup=True) == pytest.approx((50.0, 100.0, 200 / 3))
    # approx uses sets in the reference too: {I10, E11} vs {I10}
    assert icd10.code_prf(pred, ["I10"], "approx") == pytest.approx((50.0, 100.0, 200 / 3))
    # duplicated gold entries count in recall: gold [I10, I10, E785], pred [I10] -> R 2/3, P 1
    assert icd10.code_prf(["I10"], ["I10", "I10", "E785"]) == pytest.approx((100.0, 200 / 3, 80.0))
    # valid ratio over entries: E99 twice + I10 once -> 1/3 valid; distinct {E99, I10} -> 1/2
    scores = icd10.code_scores(["E99", "E99", "I10"], ["I10"])
    assert scores["icd_valid_ratio"] == pytest.approx(100 / 3)
    assert scores["icd_valid_ratio_dedup"] == pytest.approx(50.0)
    assert scores["icd_exact_p"] == pytest.approx(100 / 3) and scores["icd_exact_p_dedup"] == pytest.approx(50.0)
    assert scores["icd_exact_f1"] == pytest.approx(50.0)  # P 1/3, R 1 -> 2*(1/3)/(4/3)
    assert scores["icd_exact_f1_dedup"] == pytest.approx(200 / 3)
    assert icd10.invalid_count(["E99", "E99", "I10"]) == 1


@pytest.mark.parametrize("code", ["Z66", "B20", "F99", "R99", "T07", "N99", "Z68", "z66", "Z66."])
def test_three_character_categories_that_are_codes_are_valid(code):
    # each of these is a category and a single-category block of the same name in the library;
    # the reference (icd10.find) counts them valid, and so do we
    assert icd10.is_valid(code)
    assert icd10.valid_ratio([code]) == 100.0
    assert icd10.description(code)


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
