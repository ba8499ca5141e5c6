"""The paper's published results, shipped with cluebench so every run can stand next to them.

Data (package folder ``analysis/published_data/``, each file with its own ``source`` fields):

* ``clue_v3_website_results.json`` - the v3 results (arXiv 2404.04067v3, 25 models) as published
  on the CLUE website (dadaamin/CLUE-website, ``src/views/Dashboard.vue`` at commit 354cc30): every
  task metric and the Level 1 / Level 2 score of each model;
* ``clue_v5_table3_deltas.json`` - the later version's Table 3: biomedical-minus-base Level 1 /
  Level 2 deltas (ACL 2025 GEM2 version; a third-party copy of the table, see its caveat).

Published names map to Hugging Face ids in ``lineage.toml``'s ``[published_names]``; this module
maps the published task and metric names to cluebench's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from cluebench.analysis.lineage import best_match, published_names
from cluebench.util import fmt_number

V3_FILE = "clue_v3_website_results.json"
V5_FILE = "clue_v5_table3_deltas.json"
V3_LABEL = "published, v3"

# published task name -> cluebench task id
TASKS = {
    "MedNLI": "mednli",
    "MeQSum": "meqsum",
    "Problem Summary": "problem_summary",
    "LongHealth": "longhealth",
    "MeDiSumQA": "medisumqa",
    "MeDiSumCode": "medisumcode",
}
# published metric name -> cluebench metric name
METRICS = {
    "accuracy": "accuracy",
    "rouge_l": "rougeL",
    "rouge_1": "rouge1",
    "rouge_2": "rouge2",
    "bertscore_f1": "bertscore_f1",
    "umls_f1": "umls_f1",
    "task1_accuracy": "task1_accuracy",
    "task2_accuracy": "task2_accuracy",
    "task3_accuracy": "task3_accuracy",
    "exact_match_f1": "icd_exact_f1",
    "approximate_match_f1": "icd_approx_f1",
    "valid_code_rate": "icd_valid_ratio",
}


@lru_cache(maxsize=4)
def _load(name: str) -> dict:
    path = resources.files("cluebench.analysis") / "published_data" / name
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class PublishedModel:
    """One model's published v3 numbers: `tasks` {task id: {metric: value}} on the 0-100 scale."""

    name: str
    hf_id: str | None
    level1: float | None
    level2: float | None
    tasks: dict[str, dict[str, float]] = field(default_factory=dict)

    def entries(self) -> dict[str, dict]:
        """results.json-shaped task entries (``metrics: {name: {"mean": v}}``), the published
        values computed with the paper's scorers (so nothing is flagged not comparable)."""
        return {
            task: {
                "metrics": {m: {"mean": v, "ci": None} for m, v in metrics.items()},
                "scorers": {"bertscore": {"paper_setting": True}, "entities": {"extractor": "scispacy-umls"}},
            }
            for task, metrics in self.tasks.items()
        }

    def level(self, key: str) -> float | None:
        return {"level1": self.level1, "level2": self.level2}.get(key)


@lru_cache(maxsize=1)
def v3_models() -> tuple[PublishedModel, ...]:
    """Every model of the v3 website table, in published order."""
    data = _load(V3_FILE)
    names = published_names().get("v3", {})
    out = []
    for name in data["models_in_published_order"]:
        row = data["results"][name]
        tasks = {
            TASKS[t]: {METRICS[m]: float(v) for m, v in metrics.items()}
            for t, metrics in (row.get("tasks") or {}).items()
            if metrics
        }
        out.append(PublishedModel(name, names.get(name), row.get("level1"), row.get("level2"), tasks))
    return tuple(out)


def v3_source() -> dict:
    """Where the v3 numbers come from (the file's `version` and `source.primary`)."""
    data = _load(V3_FILE)
    primary = data["source"]["primary"]
    return {"version": data["version"], "address": primary["address"], "commit": primary["commit"]}


def v5_deltas() -> list[dict]:
    """Table 3 rows: {"model", "hf_id", "base_family", "level1_delta", "level2_delta", ...}."""
    names = published_names().get("v5", {})
    return [{**row, "hf_id": names.get(row["model"])} for row in _load(V5_FILE)["table3_biomedical_minus_base"]["rows"]]


def v5_source() -> dict:
    data = _load(V5_FILE)
    table = data["source"]["table3"]
    return {"version": data["version"], "address": table["address"], "caveat": table.get("caveat", "")}


def find_published(model_spec_or_id: str) -> PublishedModel | None:
    """The published v3 model a run's spec or id names (via its HF id or published name)."""
    models = {m.hf_id: (m.name,) for m in v3_models() if m.hf_id}
    hf_id = best_match(model_spec_or_id, models)
    return next((m for m in v3_models() if m.hf_id == hf_id), None) if hf_id else None


def by_hf_id(hf_id: str) -> PublishedModel | None:
    return next((m for m in v3_models() if m.hf_id == hf_id), None)


def _levels(hf_id: str) -> str:
    m = by_hf_id(hf_id)
    return "–" if m is None else f"{fmt_number(m.level1)} / {fmt_number(m.level2)}"


def models_table() -> str:
    """`clue models`: the lineage pairs with the published v3 Level 1 / Level 2 of each side and
    the v5 Table 3 deltas (biomedical − base) of the candidate."""
    from cluebench.analysis.lineage import ModelPair, load_lineage
    from cluebench.terminal import format_models_table

    deltas = {r["hf_id"]: r for r in v5_deltas() if r["hf_id"]}

    def v5(pair: ModelPair) -> str:
        row = deltas.get(pair.candidate)
        if row is None:
            return "–"
        sign = lambda x: "–" if x is None else f"{x:+.2f}"  # noqa: E731
        return f"{sign(row['level1_delta'])} / {sign(row['level2_delta'])}"

    src3, src5 = v3_source(), v5_source()
    footer = [
        "v3 L1 / L2: the paper's published Level 1 / Level 2 (" + src3["version"] + "; " + src3["address"] + ").",
        "v5 Δ L1 / L2: the later version's Table 3, biomedical − base (" + src5["version"] + "; "
        + src5["address"] + "; " + src5["caveat"] + ") — against the paper's base of that version.",
        "–: not published.",
    ]
    return format_models_table(
        load_lineage(),
        {
            "v3 L1 / L2 (biomedical)": lambda p: _levels(p.candidate),
            "v3 L1 / L2 (base)": lambda p: _levels(p.base),
            "v5 Δ L1 / L2": v5,
        },
        footer,
    )
