"""The typed protocol: validated on load, several files possible, one home for every format piece."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cluebench.errors import ConfigError
from cluebench.protocol import (
    LongHealthSettings,
    Protocol,
    TaskSpec,
    available_protocols,
    load_protocol,
    protocol_path,
)

PAPER = protocol_path("clue_paper")


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.toml") -> Path:
    text = PAPER.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_paper_protocol_is_typed_and_identified() -> None:
    p = load_protocol()
    assert isinstance(p, Protocol) and p.id == "clue-paper" and "clue_paper" in available_protocols()
    assert p.sha256 == hashlib.sha256(PAPER.read_bytes()).hexdigest()
    assert p.identity() == {"id": "clue-paper", "sha256": p.sha256, "version": "1"}
    mednli = p.task("mednli")
    assert isinstance(mednli, TaskSpec) and mednli.shots == 3 and mednli.max_new_tokens == 20
    assert mednli.metrics == ("accuracy", "accuracy_strict", "parse_failed_rate")
    assert mednli.settings.labels == ("entailment", "neutral", "contradiction")
    lh = p.task("longhealth").settings
    assert isinstance(lh, LongHealthSettings) and lh.option_f_letter == "F" and lh.repeats == 5
    assert p.task_ids == ["mednli", "meqsum", "problem_summary", "longhealth", "medisumqa", "medisumcode"]
    with pytest.raises(AttributeError):
        mednli.shots = 5  # type: ignore[misc]  # frozen


def test_a_second_protocol_file_loads_by_path_with_its_own_hash(tmp_path: Path) -> None:
    path = variant(tmp_path, 'id = "clue-paper"', 'id = "clue-variant"')
    p = load_protocol(str(path))
    assert p.id == "clue-variant" and p.name == "variant"
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != load_protocol().sha256
    assert load_protocol().id == "clue-paper"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("shots = 3\nmax_new_tokens = 20", "shotz = 3\nmax_new_tokens = 20", r"\[tasks.mednli\]: unknown key 'shotz'"),
        ("shots = 3\nmax_new_tokens = 20", "max_new_tokens = 20", r"\[tasks.mednli\]: missing key 'shots'"),
        ("shots = 3\nmax_new_tokens = 20", 'shots = "3"\nmax_new_tokens = 20', r"\[tasks.mednli\] key 'shots': expected an integer"),
        ("repeats = 5", "repeat = 5", r"\[tasks.longhealth.settings\]: unknown key 'repeat'"),
        ('option_f_letter = "F"', "", r"\[tasks.longhealth.settings\]: missing key 'option_f_letter'"),
        ("shot_seed = 1", "shot_sed = 1", r"unknown key 'shot_sed'"),
        ('zero_shot = "{system}\\n\\n\\n{user}"', "", r"\[plain_template\]: missing key 'zero_shot'"),
        ('level1 = ["mednli",', 'level1 = ["medqa", "mednli",', r"level1 names unknown task\(s\) medqa"),
        ("credentialed = true\ndata_file = \"mednli", "credentialed = 1\ndata_file = \"mednli", r"key 'credentialed': expected true or false"),
    ],
)
def test_a_typo_is_an_error_naming_file_table_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as err:
        load_protocol(str(path))
    assert str(path) in str(err.value)


def test_unknown_protocol_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown protocol 'nope'.*clue_paper"):
        load_protocol("nope")


def test_format_pieces_live_in_the_protocol_not_in_code() -> None:
    """The pieces the issue found in code now come from the TOML (tasks read them from there)."""
    source = Path(__file__).resolve().parents[1] / "src" / "cluebench"
    pieces = ['"The correct answer is"', "ICD[- ]?10", '("entailment", "neutral", "contradiction")', '"F"']
    for py in source.rglob("*.py"):
        if "demo" in py.parts or "demo" in py.stem or "generate" in py.parts or "testing" in py.parts:
            continue  # synthetic data writers and the stub server write answers, they do not score them
        text = py.read_text(encoding="utf-8")
        for piece in pieces:
            assert piece not in text, f"{py.relative_to(source)} still holds {piece}"


def test_a_run_is_read_under_the_protocol_that_made_it(tmp_path, monkeypatch) -> None:
    """The report and readers of a run apply the run's own protocol (found by sha256, then id),
    not whichever is the default today; an unknown protocol falls back to the default."""
    import json

    from cluebench import protocol as protocol_module
    from cluebench.analysis.runfiles import Run
    from cluebench.report import collect

    default = protocol_module.load_protocol()
    text = protocol_module.protocol_path().read_text(encoding="utf-8")
    variant_text = text.replace('id = "clue-paper"', 'id = "clue-variant"').replace(
        'level1 = ["mednli", "meqsum", "problem_summary"]', 'level1 = ["mednli", "meqsum"]'
    )
    assert variant_text.count("clue-variant") == 1 and 'level1 = ["mednli", "meqsum"]' in variant_text
    variant_file = tmp_path / "clue_variant.toml"
    variant_file.write_text(variant_text, encoding="utf-8")
    packaged = protocol_module.available_protocols()
    monkeypatch.setattr(protocol_module, "available_protocols", lambda: [*packaged, str(variant_file)])
    variant = protocol_module.load_protocol(str(variant_file))

    assert protocol_module.find_protocol("clue-variant").sha256 == variant.sha256
    assert protocol_module.find_protocol("renamed", variant.sha256).id == "clue-variant"  # sha first
    assert protocol_module.find_protocol("no-such-protocol", "0" * 64) is default
    assert protocol_module.find_protocol(None) is default

    def make_run(name: str, ident: str, sha: str) -> Run:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps({"protocol": {"id": ident, "sha256": sha}, "tasks": {}}))
        return Run.load(folder)

    old = make_run("old", "clue-variant", variant.sha256)
    assert old.protocol_spec.id == "clue-variant"
    assert collect.levels_map([old])["level1"] == ["mednli", "meqsum"]
    new = make_run("new", default.id, default.sha256)
    assert collect.levels_map([new])["level1"] == ["mednli", "meqsum", "problem_summary"]
    assert collect.levels_map([old, new]) == collect.levels_map([new])  # mixed: the default's
