"""ROUGE as the reference computes it (rouge-score, no stemming, default tokenizer), by hand."""

import pytest

from cluebench.metrics.rouge import rouge_scores


def test_hand_computed_pair():
    # pred: the cat sat on the mat / ref: the cat is on the mat (6 tokens each)
    # unigrams in common: the x2, cat, on, mat = 5 -> P = R = 5/6
    # bigrams in common: "the cat", "on the", "the mat" = 3 of 5 -> 3/5
    # LCS: the cat on the mat = 5 -> 5/6
    [s] = rouge_scores(["the cat sat on the mat"], ["the cat is on the mat"])
    assert s["rouge1"] == pytest.approx(100 * 5 / 6)
    assert s["rouge2"] == pytest.approx(60.0)
    assert s["rougeL"] == pytest.approx(100 * 5 / 6)


def test_word_order_separates_rouge1_from_rougel():
    # all unigrams shared; no bigram shared; LCS of a b c d vs d c b a is 1 -> F = 1/4
    [s] = rouge_scores(["a b c d"], ["d c b a"])
    assert s == pytest.approx({"rouge1": 100.0, "rouge2": 0.0, "rougeL": 25.0})


def test_unequal_lengths_precision_recall():
    # pred 2 tokens both in ref of 4 tokens: P = 1, R = 1/2 -> F = 2/3
    [s] = rouge_scores(["diabetes treatment"], ["what is diabetes treatment"])
    assert s["rouge1"] == pytest.approx(100 * 2 / 3)
    assert s["rouge2"] == pytest.approx(100 * 2 * 1 * (1 / 3) / (1 + 1 / 3))


def test_case_and_punctuation_ignored_by_default_tokenizer():
    [s] = rouge_scores(["What is Diabetes?"], ["what is diabetes"])
    assert s == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0})


def test_empty_and_non_ascii_score_zero():
    # the default tokenizer keeps only [a-z0-9]: "ü" yields no tokens, like in the reference
    scores = rouge_scores(["", "ü", "text"], ["reference", "ü", ""])
    assert all(v == 0.0 for s in scores for v in s.values())


def test_order_preserved_and_length_mismatch_rejected():
    scores = rouge_scores(["a b", "x y"], ["a b", "p q"])
    assert [s["rouge1"] for s in scores] == [100.0, 0.0]
    with pytest.raises(ValueError):
        rouge_scores(["a"], [])
