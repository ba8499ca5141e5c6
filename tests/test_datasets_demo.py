"""The bundled synthetic demo set: complete, readable, clearly marked, reproducible from its
generator, and what `resolve_dataset` falls back to when no real file is available."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from cluebench.datasets import DATA_FILES, DEMO_DIR, data_source_description, demo_path, resolve_dataset
from cluebench.datasets.readers._demo_notes import NOTE_BANNER
from cluebench.datasets.readers.longhealth import DEMO_ROWS as LONGHEALTH_DEMO
from cluebench.errors import DataError

EXPECTED_ROWS = {"mednli": 20, "meqsum": 20, "problem_summary": 12, "longhealth": 3, "medisumqa": 10,
                 "medisumcode": 10}


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv("CLUE_DATA_DIR", raising=False)


def load_generator():
    spec = importlib.util.spec_from_file_location("make_demo", DEMO_DIR / "make_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", list(DATA_FILES))
def test_demo_reads_cleanly_and_is_marked_synthetic(task):
    ds = resolve_dataset(task, None)
    assert ds.synthetic is True
    assert ds.path == DEMO_DIR / DATA_FILES[task]
    assert len(ds.rows) == EXPECTED_ROWS[task]
    assert len({r["id"] for r in ds.rows}) == len(ds.rows)
    assert "SYNTHETIC" in data_source_description(ds)


def test_demo_markers():
    assert "SYNTHETIC" in (DEMO_DIR / "README.txt").read_text().splitlines()[0]
    assert all(r["id"].startswith("SYNTHETIC-") for t in ("mednli", "meqsum", "problem_summary", "medisumqa")
               for r in resolve_dataset(t, None).rows)
    assert all(r["text"].startswith(NOTE_BANNER) for r in resolve_dataset("medisumcode", None).rows)
    assert all(r["discharge_summary"].startswith(NOTE_BANNER) for r in resolve_dataset("medisumqa", None).rows)
    assert all(r["name"].startswith("SYNTHETIC") for r in resolve_dataset("longhealth", None).rows)


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    load_generator().main(tmp_path)
    for rel in DATA_FILES.values():
        assert (tmp_path / rel).read_bytes() == (DEMO_DIR / rel).read_bytes(), rel


def test_the_readme_command_regenerates_the_set(tmp_path):
    """`python src/cluebench/datasets/demo/make_demo.py OUT_DIR`, as demo/README.txt says."""
    done = subprocess.run([sys.executable, str(DEMO_DIR / "make_demo.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert str(tmp_path) in done.stdout
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(DATA_FILES.values())
    assert all((tmp_path / rel).read_bytes() == (DEMO_DIR / rel).read_bytes() for rel in DATA_FILES.values())


def test_demo_icd_codes_are_valid_dotless_icd10cm():
    icd = pytest.importorskip("simple_icd_10_cm")
    codes = [c["code"] for r in resolve_dataset("medisumcode", None).rows for c in r["icd_codes"]]
    assert len(codes) >= 30
    assert all("." not in c and icd.is_valid_item(c) and icd.is_leaf(c) for c in codes), codes


def test_demo_longhealth_is_short_and_answer_locations_point_at_the_evidence():
    for patient in resolve_dataset("longhealth", None).rows:
        assert len(patient["texts"]) == 4 and len(patient["questions"]) == 3
        assert all(130 <= len(t.split()) <= 300 for t in patient["texts"].values())
        spec = LONGHEALTH_DEMO[patient["id"]]
        for q, (_, options, correct, evidence) in zip(patient["questions"], spec["questions"]):
            assert q["correct"] == options[correct] and q["correct_letter"] == "ABCDE"[correct]
            for text_id, span in q["answer_location"].items():
                doc = patient["texts"][text_id]
                start = round(span["start"][0] * len(doc))
                assert doc[start:start + len(evidence)] == evidence


def test_resolve_prefers_the_data_dir_per_task(tmp_path, monkeypatch):
    shutil.copytree(demo_path("mednli").parent, tmp_path / "mednli")
    ds = resolve_dataset("mednli", tmp_path)
    assert ds.synthetic is False and ds.path == tmp_path / DATA_FILES["mednli"]
    assert resolve_dataset("meqsum", tmp_path).synthetic is True  # not in the data dir: demo
    monkeypatch.setenv("CLUE_DATA_DIR", str(tmp_path))
    assert resolve_dataset("mednli", None).synthetic is False


def test_resolve_never_falls_back_when_the_real_file_is_malformed(tmp_path):
    bad = tmp_path / DATA_FILES["medisumcode"]
    bad.parent.mkdir(parents=True)
    bad.write_text('[{"text": "x"}]')
    with pytest.raises(DataError, match="icd_codes"):
        resolve_dataset("medisumcode", tmp_path)
