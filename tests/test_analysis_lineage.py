"""Lineage data and model-name matching (specs, paths, GGUF names)."""

from __future__ import annotations

from cluebench.terminal import format_models_table
from cluebench.analysis.lineage import (
    find_pair,
    identify,
    load_lineage,
)


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
