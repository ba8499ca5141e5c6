"""The score cache: a rerun recomputes no score and loads no encoder; a changed scorer setting
rescores only the metric family it affects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluebench.metrics import bertscore as bertscore_module
from cluebench.metrics import rouge as rouge_module
from cluebench.run.runner import RunSettings, run
from cluebench.tasks.scorers import Scorers


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, dict] = {}

    def get_scores(self, keys):  # type: ignore[no-untyped-def]
        return {k: self.data[k] for k in keys if k in self.data}

    def put_scores(self, values, family):  # type: ignore[no-untyped-def]
        self.data.update(values)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Count real ROUGE calls; replace BERTScore's encoder by a deterministic stand-in that
    records each call and fails if the encoder would be loaded."""
    calls: dict[str, list] = {"rouge": [], "bertscore": []}
    real_rouge = rouge_module.rouge_scores

    def rouge(preds, refs):  # type: ignore[no-untyped-def]
        calls["rouge"].append(len(preds))
        return real_rouge(preds, refs)

    def bert(self, preds, refs):  # type: ignore[no-untyped-def]
        calls["bertscore"].append((self.num_layers, len(preds)))
        v = float(self.num_layers)
        return [{"bertscore_p": v, "bertscore_r": v, "bertscore_f1": v} for _ in preds]

    def no_load(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the BERTScore encoder was loaded")

    monkeypatch.setattr(rouge_module, "rouge_scores", rouge)
    monkeypatch.setattr(bertscore_module.BertScorer, "score", bert)
    monkeypatch.setattr(bertscore_module.BertScorer, "_load", no_load)
    return calls


def test_scorers_cache_each_family_separately(counted: dict[str, list]) -> None:
    cache = DictCache()
    preds, refs = ["a cough", "a fever", "a cough"], ["the cough", "fever", "the cough"]
    first = Scorers(cache=cache, protocol_sha256="p1")
    r1 = first.rouge(preds, refs)
    b1 = first.bertscore_pairs(preds, refs)
    assert counted["rouge"] == [2] and counted["bertscore"] == [(6, 2)]  # the duplicate pair once
    assert r1[0] == r1[2] and b1[1]["bertscore_f1"] == 6.0

    again = Scorers(cache=cache, protocol_sha256="p1")
    assert again.rouge(preds, refs) == r1 and again.bertscore_pairs(preds, refs) == b1
    assert counted["rouge"] == [2] and counted["bertscore"] == [(6, 2)]
    assert again.computed == {"rouge": 0, "bertscore": 0} and again.cached["rouge"] == 3

    layer5 = Scorers(bertscore_layers=5, cache=cache, protocol_sha256="p1")
    assert layer5.rouge(preds, refs) == r1
    assert layer5.bertscore_pairs(preds, refs)[0]["bertscore_f1"] == 5.0
    assert counted["rouge"] == [2] and counted["bertscore"] == [(6, 2), (5, 2)]

    other_protocol = Scorers(cache=cache, protocol_sha256="p2")
    other_protocol.rouge(preds, refs)
    assert counted["rouge"] == [2, 2]

    changed_answer = Scorers(cache=cache, protocol_sha256="p1")
    changed_answer.rouge(["a cough", "no fever"], ["the cough", "fever"])
    assert counted["rouge"] == [2, 2, 1] and changed_answer.cached["rouge"] == 1


def _settings(out: Path, **kw) -> RunSettings:
    base = dict(model="fake:demo", tasks=["mednli", "meqsum"], limit=3, out=out, progress=False,
                write_report=False)
    base.update(kw)
    return RunSettings(**base)


def test_rerun_scores_nothing_and_a_changed_setting_rescores_only_its_family(
    tmp_path: Path, counted: dict[str, list]
) -> None:
    out = tmp_path / "run"
    run(_settings(out))
    assert counted["rouge"] == [3] and counted["bertscore"] == [(6, 3)]
    first = (out / "meqsum" / "samples.jsonl").read_text()
    results = (out / "results.json").read_text()

    run(_settings(out))  # unchanged: nothing rescored, the encoder never touched
    assert counted["rouge"] == [3] and counted["bertscore"] == [(6, 3)]
    assert (out / "meqsum" / "samples.jsonl").read_text() == first
    assert (out / "results.json").read_text() == results

    run(_settings(out, bertscore_layers=4))  # BERTScore changed: only BERTScore is recomputed
    assert counted["rouge"] == [3] and counted["bertscore"] == [(6, 3), (4, 3)]
    rows = [json.loads(l) for l in (out / "meqsum" / "samples.jsonl").read_text().splitlines()]
    assert all(r["metrics"]["bertscore_f1"] == 4.0 for r in rows)
    before = [json.loads(l) for l in first.splitlines()]
    assert [r["metrics"]["rougeL"] for r in rows] == [r["metrics"]["rougeL"] for r in before]


def test_icd10_scores_are_cached_and_a_new_code_list_rescores(monkeypatch: pytest.MonkeyPatch) -> None:
    from cluebench.metrics import icd10

    calls: list[int] = []
    real = icd10.sample_scores

    def counting(pred, gold):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(pred, gold)

    monkeypatch.setattr(icd10, "sample_scores", counting)
    cache = DictCache()
    pred, gold = [["E119", "I10", "I10", "E999"], []], [["E119", "N179"], ["I10"]]
    first = Scorers(cache=cache).icd10_pairs(pred, gold)
    assert len(calls) == 2
    assert first[0]["icd_exact_p"] == 25.0 and first[0]["icd_exact_r"] == 50.0  # duplicates counted
    assert first[0]["invalid_codes"] == 1.0 and first[1]["icd_exact_f1"] == 0.0

    again = Scorers(cache=cache)
    assert again.icd10_pairs(pred, gold) == first and len(calls) == 2
    assert again.computed["icd10"] == 0 and again.cached["icd10"] == 2

    info = {**icd10.library_info(), "version": "99.0"}  # an upgraded code list
    monkeypatch.setattr(icd10, "library_info", lambda: info)
    Scorers(cache=cache).icd10_pairs(pred, gold)
    assert len(calls) == 4


def test_rerun_of_medisumcode_never_consults_the_code_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cluebench.metrics import icd10

    out = tmp_path / "run"
    run(_settings(out, tasks=["medisumcode"]))
    first = (out / "medisumcode" / "samples.jsonl").read_text()

    def refuse(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the ICD-10 code list was consulted on a rerun")

    monkeypatch.setattr(icd10, "sample_scores", refuse)
    monkeypatch.setattr(icd10, "_icd", refuse)
    run(_settings(out, tasks=["medisumcode"]))
    assert (out / "medisumcode" / "samples.jsonl").read_text() == first
