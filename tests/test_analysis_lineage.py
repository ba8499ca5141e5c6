"""Lineage data and model-name matching (specs, paths, GGUF names)."""

from __future__ import annotations

import re

import pytest

from cluebench.terminal import format_models_table
from cluebench.analysis.lineage import (
    REASONING_KINDS,
    find_pair,
    identify,
    load_lineage,
    parse_lineage,
    reasoning_info,
    reasoning_model,
)
from cluebench.errors import ClueError


def test_lineage_data_is_complete_and_honest():
    pairs = load_lineage()
    cands = {p.candidate for p in pairs}
    for hf_id in (
        "epfl-llm/meditron-7b",
        "epfl-llm/meditron-70b",
        "BioMistral/BioMistral-7B",
        "BioMistral/BioMistral-7B-DARE",
        "BioMistral/BioMistral-7B-TIES",
        "BioMistral/BioMistral-7B-SLERP",
        "aaditya/Llama3-OpenBioLLM-8B",
        "aaditya/Llama3-OpenBioLLM-70B",
        "m42-health/Llama3-Med42-8B",
        "m42-health/Llama3-Med42-70B",
        "HPAI-BSC/Llama3-Aloe-8B-Alpha",
        "OpenMeditron/Meditron3-8B",
    ):
        assert hf_id in cands
    for p in pairs:
        assert "/" in p.candidate and "/" in p.base and p.source
        if not p.verified:
            assert p.note, f"{p.candidate}: unverified pairs must say what is uncertain"


def test_find_pair_on_specs_paths_and_gguf_names():
    p = find_pair(
        "llamacpp:/models/meditron-7b.Q4_K_M.gguf", "hf:meta-llama/Llama-2-7b-hf"
    )
    assert (p.candidate, p.base) == ("epfl-llm/meditron-7b", "meta-llama/Llama-2-7b-hf")
    # order does not matter; 70b never matches the 7b pair
    p = find_pair("vllm:/scratch/Llama-2-70b-hf", "hf:EPFL-LLM/Meditron-70B")
    assert p.candidate == "epfl-llm/meditron-70b"
    # merges are told apart from the plain model (longest name wins)
    p = find_pair(
        "llamacpp:/m/BioMistral-7B-DARE-Q8_0.gguf",
        "openai:mistralai/Mistral-7B-Instruct-v0.1",
    )
    assert p.candidate == "BioMistral/BioMistral-7B-DARE"
    p = find_pair(
        "hf:BioMistral/BioMistral-7B",
        "llamacpp:/m/mistral-7b-instruct-v0.1.Q4_K_M.gguf",
    )
    assert p.candidate == "BioMistral/BioMistral-7B"
    # Meta- prefix optional for Llama 3 bases
    p = find_pair(
        "hf:m42-health/Llama3-Med42-8B", "llamacpp:/m/Llama-3-8B-Instruct.Q4_K_M.gguf"
    )
    assert p.base == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert (
        find_pair("hf:epfl-llm/meditron-7b", "hf:mistralai/Mistral-7B-Instruct-v0.1")
        is None
    )
    assert find_pair("hf:meditron-7b-chat", "hf:meta-llama/Llama-2-7b-hf") is None
    assert find_pair("llamacpp:/m/SmolLM2-135M-Instruct.Q4_1.gguf", "x") is None


def test_identify_and_table():
    assert identify("hf:meta-llama/Llama-2-70b-hf") == (
        "base",
        "meta-llama/Llama-2-70b-hf",
    )
    assert identify("/models/Llama3-OpenBioLLM-70B") == (
        "candidate",
        "aaditya/Llama3-OpenBioLLM-70B",
    )
    table = format_models_table(load_lineage())
    assert "epfl-llm/meditron-7b" in table and "meta-llama/Llama-2-7b-hf" in table
    assert table.count("\n") > len(load_lineage())


# ---- the 2025-26 biomedical fine-tunes and their reasoning flags (issue 15) --------------------

_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def test_every_entry_is_well_formed_and_sourced():
    pairs = load_lineage()
    assert len({p.candidate.lower() for p in pairs}) == len(pairs), "one entry per candidate"
    for p in pairs:
        assert _HF_ID.match(p.candidate), p.candidate
        assert _HF_ID.match(p.base), f"{p.candidate}: base {p.base!r}"
        assert p.base.lower() != p.candidate.lower()
        assert p.relation.strip()
        assert p.reasoning in REASONING_KINDS and p.base_reasoning in REASONING_KINDS
        if p.verified:
            # evidence: which card or paper, and what it says
            assert len(p.source) > 40 and ("card" in p.source or "arXiv" in p.source), p.candidate
        for kind, src, ok in (
            (p.reasoning, p.reasoning_source, p.reasoning_verified),
            (p.base_reasoning, p.base_reasoning_source, p.base_reasoning_verified),
        ):
            if kind != "no":
                assert src, f"{p.candidate}: reasoning {kind!r} without its source"
            if ok:
                assert "'" in src, f"{p.candidate}: verified reasoning must quote the card"


def test_new_biomedical_models_are_paired_with_their_card_bases():
    by = {p.candidate: p for p in load_lineage()}
    expected = {
        "google/medgemma-27b-text-it": ("google/gemma-3-27b-pt", True),
        "google/medgemma-4b-it": ("google/gemma-3-4b-it", False),
        "Intelligent-Internet/II-Medical-8B": ("Qwen/Qwen3-8B", True),
        "Intelligent-Internet/II-Medical-32B-Preview": ("Qwen/Qwen3-32B", True),
        "FreedomIntelligence/HuatuoGPT-o1-8B": ("meta-llama/Llama-3.1-8B-Instruct", False),
        "FreedomIntelligence/HuatuoGPT-o1-72B": ("Qwen/Qwen2.5-72B-Instruct", False),
        "baichuan-inc/Baichuan-M2-32B": ("Qwen/Qwen2.5-32B", True),
        "UCSC-VLAA/MedReason-8B": ("FreedomIntelligence/HuatuoGPT-o1-8B", True),
        "UCSC-VLAA/m1-32B-1K": ("Qwen/Qwen2.5-32B-Instruct", True),
        "HPAI-BSC/Qwen2.5-Aloe-Beta-7B": ("Qwen/Qwen2.5-7B-Instruct", False),
    }
    for cand, (base, verified) in expected.items():
        assert (by[cand].base, by[cand].verified) == (base, verified), cand
    # the card's base_model line is quoted for the verified MedGemma pair
    assert "base_model: google/gemma-3-27b-pt" in by["google/medgemma-27b-text-it"].source
    assert by["HPAI-BSC/Llama3-Aloe-8B-Alpha"].verified  # 'Finetuned from' line now read


def test_a_model_listed_twice_has_the_same_reasoning_facts():
    seen: dict[str, tuple] = {}
    for p in load_lineage():
        for info in (p.candidate_reasoning_info(), p.base_reasoning_info()):
            facts = (info.kind, info.markers, info.switch)
            prev = seen.setdefault(info.model.lower(), facts)
            assert prev == facts, f"{info.model}: {prev} vs {facts}"
    # HuatuoGPT-o1-8B is a candidate (of Llama 3.1) and the base of MedReason-8B
    assert seen["freedomintelligence/huatuogpt-o1-8b"][0] == "yes"


def test_reasoning_model_matches_ids_specs_and_paths_by_last_component():
    # o1-style fine-tunes think; so does a Qwen3 base with its switch on by default
    assert reasoning_model("FreedomIntelligence/HuatuoGPT-o1-8B") is True
    assert reasoning_model("vllm:/scratch/models/HuatuoGPT-o1-8B") is True
    assert reasoning_model("llamacpp:/m/II-Medical-8B-1706.Q4_K_M.gguf") is True
    assert reasoning_model("hf:Qwen/Qwen3-8B") is True
    assert reasoning_model(r"C:\models\m1-7B-23K") is True
    assert reasoning_model("/cache/models--UCSC-VLAA--m1-32B-1K") is True
    # answer directly: the paper's models and their bases, Aloe Beta, MedGemma 4B
    assert reasoning_model("hf:epfl-llm/meditron-7b") is False
    assert reasoning_model("llamacpp:/m/Llama-3.1-8B-Instruct.Q8_0.gguf") is False
    assert reasoning_model("HPAI-BSC/Qwen2.5-Aloe-Beta-72B") is False
    assert reasoning_model("google/medgemma-4b-it") is False
    # opt-in thinking is not on by default, but the details say how to turn it on
    assert reasoning_model("google/medgemma-27b-text-it") is False
    info = reasoning_info("openai:google/medgemma-27b-text-it")
    assert info.kind == "opt-in" and info.markers == ("<unused94>", "<unused95>")
    assert "think silently" in info.switch and not info.verified
    # unknown to the card, or unknown to the lineage data
    assert reasoning_model("UCSC-VLAA/MedReason-8B") is None
    assert reasoning_model("hf:Qwen/QwQ-32B") is None
    assert reasoning_model("Qwen3-8B-Base") is None  # a different checkpoint from Qwen3-8B
    # longest name wins: the 1706 release and the GPTQ conversion resolve to their own entries
    assert reasoning_info("II-Medical-8B-1706").model == "Intelligent-Internet/II-Medical-8B-1706"
    m2 = reasoning_info("/m/Baichuan-M2-32B-GPTQ-Int4")
    assert (m2.model, m2.kind, m2.switch) == ("baichuan-inc/Baichuan-M2-32B", "hybrid", "thinking_mode")
    assert reasoning_info("Qwen/Qwen3-8B").switch == "enable_thinking"
    hua = reasoning_info("FreedomIntelligence/HuatuoGPT-o1-70B")
    assert hua.markers == ("## Thinking", "## Final Response") and hua.verified


def test_pairs_are_found_for_the_new_models():
    p = find_pair("llamacpp:/m/II-Medical-8B.Q8_0.gguf", "hf:Qwen/Qwen3-8B")
    assert p.candidate == "Intelligent-Internet/II-Medical-8B"
    # HuatuoGPT-o1-8B is both a candidate and a base: each pairing finds its own entry
    p = find_pair("vllm:/x/MedReason-8B", "hf:FreedomIntelligence/HuatuoGPT-o1-8B")
    assert p.candidate == "UCSC-VLAA/MedReason-8B"
    p = find_pair("hf:FreedomIntelligence/HuatuoGPT-o1-8B", "hf:meta-llama/Meta-Llama-3.1-8B-Instruct")
    assert p.candidate == "FreedomIntelligence/HuatuoGPT-o1-8B"
    assert identify("hf:Qwen/Qwen2.5-32B") == ("base", "Qwen/Qwen2.5-32B")
    assert find_pair("hf:google/medgemma-27b-text-it", "hf:google/gemma-3-4b-it") is None


_MINIMAL = """
[[pair]]
candidate = "a/b"
base = "c/d"
relation = "r"
verified = false
source = "s"
note = "n"
"""


def test_parse_lineage_rejects_bad_entries_with_one_clear_line():
    with pytest.raises(ClueError, match=r"x\.toml: \[\[pair\]\] #1 lacks field 'reasoning'"):
        parse_lineage(_MINIMAL, "x.toml")
    ok = _MINIMAL + 'reasoning = "no"\nbase_reasoning = "no"\n'
    assert parse_lineage(ok)[0].reasoning == "no"
    bad = _MINIMAL + 'reasoning = "sometimes"\nbase_reasoning = "no"\n'
    with pytest.raises(ClueError, match=r"#1 \(a/b\): reasoning = 'sometimes', expected one of"):
        parse_lineage(bad, "x.toml")
    nosrc = _MINIMAL + 'reasoning = "yes"\nbase_reasoning = "no"\n'
    with pytest.raises(ClueError, match="needs reasoning_source"):
        parse_lineage(nosrc, "x.toml")
    marks = nosrc + 'reasoning_source = "q"\nreasoning_markers = ["<think>"]\n'
    with pytest.raises(ClueError, match=r"reasoning_markers must be \[opening, closing\]"):
        parse_lineage(marks, "x.toml")
    typo = ok + 'reasonning_source = "q"\n'
    with pytest.raises(ClueError, match=r"#1 has unknown field 'reasonning_source'"):
        parse_lineage(typo, "x.toml")
    with pytest.raises(ClueError, match="x.toml: not valid TOML"):
        parse_lineage("[[pair]\n", "x.toml")


def test_models_table_shows_the_reasoning_flags():
    table = format_models_table(load_lineage())
    lines = table.splitlines()
    assert any("(model / base)" in line for line in lines)
    # ids whole, one row each, with the reasoning of model and base
    row = next(line for line in lines if "Intelligent-Internet/II-Medical-32B-Preview" in line)
    assert "Qwen/Qwen3-32B" in row and "yes / hybrid" in row
    row = next(line for line in lines if "google/medgemma-27b-text-it " in line)
    assert "opt-in / no" in row and "google/gemma-3-27b-pt" in row
    row = next(line for line in lines if "epfl-llm/meditron-7b " in line)
    assert "no / no" in row
    # the evidence follows, numbered like the rows
    n = len(load_lineage())
    assert any(line.startswith(f"[{n}] ") for line in lines)
    assert "'HuatuoGPT-o1 adopts a thinks-before-it-answers approach" in table.replace("\n", " ")
