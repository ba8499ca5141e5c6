"""llamacpp: backend on the real embedded model (SmolLM2-135M-Instruct, Q4_1 GGUF)."""

from __future__ import annotations

import hashlib
import tomllib
from importlib.resources import files

import pytest

pytest.importorskip("llama_cpp")

from cluebench.models import (
    BackendOptions,
    Decoding,
    Request,
    default_model_path,
    load_backend,
)

PROTOCOL = tomllib.loads(files("cluebench.protocols").joinpath("clue_paper.toml").read_text())
MEDNLI = PROTOCOL["tasks"]["mednli"]
MSGS = [
    {"role": "system", "content": MEDNLI["system"]},
    {"role": "user", "content": MEDNLI["user"].format(
        sentence1="The patient has a temperature of 39.5 C.",
        sentence2="The patient is febrile.")},
]


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    import os

    os.environ["CLUEBENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    # one thread: with OpenMP, two threads on a 2-core machine shared with other work collapse
    b = load_backend(None, BackendOptions(n_ctx=2048, n_threads=1,
                                          plain_template=PROTOCOL["plain_template"]))
    yield b
    b.close()


def _gen(backend, reqs):
    got = {}
    backend.generate(reqs, lambda c: got.__setitem__(c.key, c))
    return got


def test_render_uses_the_ggufs_chatml_template(backend):
    assert backend.render(MSGS) == (
        f"<|im_start|>system\n{MSGS[0]['content']}<|im_end|>\n"
        f"<|im_start|>user\n{MSGS[1]['content']}<|im_end|>\n<|im_start|>assistant\n"
    )
    template = backend._llm.metadata["tokenizer.chat_template"]
    info = backend.info()
    assert info["chat_template_sha256"] == hashlib.sha256(template.encode()).hexdigest()
    assert info["system_role"] == "native" and info["tokenizer"] == "exact"
    assert info["context_length"] == 2048 and info["versions"]["llama_cpp"]


def test_prompt_tokens_parse_special_tokens_and_add_no_bos(backend):
    ids = backend.prompt_ids(MSGS)
    assert backend.count_prompt_tokens(MSGS) == len(ids)
    # ChatML markers are single special tokens (<|im_start|> = 1, <|im_end|> = 2 in SmolLM2);
    # the GGUF says add_bos_token = false, so the prompt starts with <|im_start|> itself.
    assert ids[0] == 1 and ids.count(1) == 3 and ids.count(2) == 2
    # The text between markers is tokenized like plain text.
    user = backend.tokenizer.encode(MSGS[1]["content"])
    assert any(ids[i : i + len(user)] == user for i in range(len(ids)))


def test_tokenizer_round_trip(backend):
    text = "Na 128 mmol/L, hyponatraemia; müde."
    ids = backend.tokenizer.encode(text)
    assert backend.tokenizer.decode(ids) == text
    assert len(ids) < len(text)  # real sub-word tokens, not characters


def test_greedy_generation_is_deterministic(backend):
    reqs = [Request(f"r{i}", MSGS, Decoding(max_tokens=20)) for i in range(2)]
    a = _gen(backend, reqs)
    b = _gen(backend, reqs[:1])
    assert a["r0"].text == a["r1"].text == b["r0"].text
    assert a["r0"].text.strip()
    assert a["r0"].prompt_tokens == backend.count_prompt_tokens(MSGS)
    assert a["r0"].finish_reason in ("stop", "length") and 1 <= a["r0"].completion_tokens <= 20


def test_tiny_max_tokens_gives_length(backend):
    c = _gen(backend, [Request("t", MSGS, Decoding(max_tokens=2))])["t"]
    assert (c.finish_reason, c.completion_tokens) == ("length", 2)


def test_overlong_prompt_is_an_error_completion_not_an_exception(backend):
    long = [{"role": "user", "content": "word " * 5000}]
    got = _gen(backend, [Request("long", long, Decoding(max_tokens=4)),
                         Request("ok", MSGS, Decoding(max_tokens=2))])
    assert got["long"].finish_reason == "error" and got["long"].error
    assert got["ok"].finish_reason == "length"


def test_model_id_is_the_files_sha256(backend):
    digest = hashlib.sha256(default_model_path().read_bytes()).hexdigest()
    assert backend.model_id == f"llamacpp:{digest}"


def test_default_context_is_training_context_capped():
    b = load_backend(f"llamacpp:{default_model_path()}", BackendOptions())
    try:
        assert b.context_length == 8192  # SmolLM2's training context, equal to the cap
        assert b.info()["n_threads"] >= 1
    finally:
        b.close()


def test_context_never_exceeds_training_context(monkeypatch):
    from cluebench.models import llamacpp

    monkeypatch.setattr(llamacpp, "MAX_DEFAULT_CTX", 12288)  # cap above SmolLM2's 8192
    b = load_backend(f"llamacpp:{default_model_path()}", BackendOptions(n_threads=1))
    try:
        assert b.context_length == 8192
    finally:
        b.close()


def test_llama_settings_use_small_cpu_steps_and_llama_cpp_defaults_on_a_gpu() -> None:
    from cluebench.models.base import BackendOptions
    from cluebench.models.llamacpp import LlamaCppBackend

    cpu = LlamaCppBackend.llama_settings(BackendOptions(n_threads=2), 8192)
    assert cpu == {"n_threads": 2, "n_threads_batch": 2, "n_batch": 512, "n_ubatch": 128}
    gpu = LlamaCppBackend.llama_settings(BackendOptions(n_threads=2, n_gpu_layers=99), 8192)
    assert gpu["n_batch"] == gpu["n_ubatch"] == 512
    tiny = LlamaCppBackend.llama_settings(BackendOptions(n_threads=2), 64)  # never above the context
    assert tiny["n_batch"] == tiny["n_ubatch"] == 64
