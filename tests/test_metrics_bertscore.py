"""BERTScore with the bundled offline MiniLM: identity, ordering, batching, empty texts."""

import pytest

from cluebench.errors import ConfigError
from cluebench.metrics.bertscore import BertScorer, default_model_dir

PREDS = [
    "What are the side effects of metformin?",
    "How is high blood pressure treated?",
    "Where can I buy cheap concert tickets?",
    "Is ibuprofen safe during pregnancy?",
]
REFS = [
    "What are the adverse effects of metformin?",
    "What is the treatment for hypertension?",
    "What causes kidney stones?",
    "Can I take ibuprofen while pregnant?",
]


@pytest.fixture(scope="module")
def scorer():
    return BertScorer(batch_size=64, device="cpu")


def test_identical_pair_scores_100(scorer):
    [s] = scorer.score(["The patient has type 2 diabetes."], ["The patient has type 2 diabetes."])
    assert s["bertscore_p"] == pytest.approx(100.0, abs=1e-3)
    assert s["bertscore_r"] == pytest.approx(100.0, abs=1e-3)
    assert s["bertscore_f1"] == pytest.approx(100.0, abs=1e-3)


def test_related_beats_unrelated(scorer):
    scores = scorer.score(PREDS, REFS)
    f1 = [s["bertscore_f1"] for s in scores]
    assert f1[0] > f1[2] and f1[3] > f1[2]
    assert all(0.0 <= v <= 100.0 for s in scores for v in s.values())


def test_order_and_batch_invariance_and_determinism(scorer):
    base = scorer.score(PREDS, REFS)
    reversed_scores = scorer.score(PREDS[::-1], REFS[::-1])[::-1]
    small_batches = BertScorer(batch_size=1, device="cpu")
    small_batches._scorer = scorer._load()  # same encoder, different batch size
    small_batches.batch_size = 1
    batched = small_batches.score(PREDS, REFS)
    again = scorer.score(PREDS, REFS)
    for a, b, c, d in zip(base, reversed_scores, batched, again):
        for key in a:
            assert a[key] == pytest.approx(b[key], abs=1e-3)
            assert a[key] == pytest.approx(c[key], abs=1e-3)
            assert a[key] == d[key]


def test_empty_and_tokenless_texts_score_zero_without_crashing(scorer):
    scores = scorer.score(["", "   ", "\x00\x01", "fine text", "fine text"], ["ref", "ref", "ref", "", "fine text"])
    assert [s["bertscore_f1"] for s in scores[:4]] == [0.0, 0.0, 0.0, 0.0]
    assert scores[4]["bertscore_f1"] == pytest.approx(100.0, abs=1e-3)
    assert scorer.score([], []) == []


def test_describe_names_model_and_settings():
    info = BertScorer().describe()
    assert info["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["num_layers"] == 6
    assert info["idf"] is False and info["rescale_with_baseline"] is False
    assert info["bert_score_version"]
    assert info["paper_setting"] is False
    assert (default_model_dir() / "config.json").is_file()


def test_paper_model_is_recognised_and_unknown_model_needs_layers():
    paper = BertScorer(model_type="allenai/scibert_scivocab_uncased")
    assert paper.num_layers == 8  # from bert-score's table, as lang="en-sci" did
    assert paper.describe()["paper_setting"] is True
    local = BertScorer(model_type="/models/scibert_scivocab_uncased", num_layers=8)
    assert local.describe()["paper_setting"] is True
    assert BertScorer(model_type="/models/scibert_scivocab_uncased", num_layers=6).describe()["paper_setting"] is False
    with pytest.raises(ConfigError, match="num_layers"):
        BertScorer(model_type="/nonexistent/model-dir")


def test_missing_local_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        BertScorer(model_type=str(tmp_path / "missing"), num_layers=4).score(["a"], ["b"])
    with pytest.raises(ValueError):
        BertScorer().score(["a"], [])


def test_long_texts_are_truncated_by_bert_score_without_a_warning(scorer, capfd):
    """bert-score keeps the first 510 word pieces of a text over the encoder's 512 tokens; what
    follows does not change the score, and transformers' length warning is not printed."""
    import logging

    head = "The patient was admitted with community acquired pneumonia and treated with antibiotics. "
    long_a = head * 60 + "Completely different ending about orthopaedic surgery. " * 20
    long_b = head * 60 + "Another unrelated tail about dermatology and eczema. " * 20
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("transformers").addHandler(handler)
    try:
        [s] = scorer.score([long_a], [long_b])
    finally:
        logging.getLogger("transformers").removeHandler(handler)
    assert s["bertscore_f1"] == pytest.approx(100.0, abs=1e-3)  # the differing tails were cut off
    assert scorer.describe()["max_tokens"] == 512
    messages = [r.getMessage() for r in records] + [capfd.readouterr().err]
    assert not any("longer than the specified maximum sequence length" in m for m in messages)
