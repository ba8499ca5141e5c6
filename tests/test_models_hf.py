"""hf: backend on a tiny randomly initialised Llama with a BPE tokenizer trained here (all offline):
tests rendering, counting, left-padded batching (batched == one by one), finish reasons, seeds."""

from __future__ import annotations

import tomllib
from importlib.resources import files

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from cluebench.models import BackendOptions, Decoding, Request, load_backend

PLAIN = tomllib.loads(files("cluebench.protocols").joinpath("clue_paper.toml").read_text())[
    "plain_template"
]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "<|im_start|>assistant\n"
)
CORPUS = [
    "The patient was admitted with chest pain and shortness of breath.",
    "Sentence one entails sentence two; the answer is ENTAILMENT, NEUTRAL or CONTRADICTION.",
    "Discharge summary: hypertension, diabetes mellitus type 2, acute kidney injury.",
]


def _build(path, template):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|im_end|>", "<|im_start|>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<pad>"
    )
    if template:
        fast.chat_template = template
    fast.save_pretrained(path)
    config = transformers.LlamaConfig(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("tiny-chatml"), CHATML)


def _reqs(n, max_tokens=6, temperature=0.0):
    return [
        Request(f"k{i}", [{"role": "system", "content": "Answer."},
                          {"role": "user", "content": "chest pain " * (i + 1)}],
                Decoding(max_tokens=max_tokens, temperature=temperature, seed=11))
        for i in range(n)
    ]


def _gen(backend, reqs):
    got = {}
    backend.generate(reqs, lambda c: got.__setitem__(c.key, c))
    return got


def test_render_count_and_info(model_dir):
    backend = load_backend(f"hf:{model_dir}", BackendOptions(plain_template=PLAIN))
    msgs = _reqs(1)[0].messages
    text = backend.render(msgs)
    assert text == ("<|im_start|>system\nAnswer.<|im_end|>\n<|im_start|>user\nchest pain "
                    "<|im_end|>\n<|im_start|>assistant\n")
    ids = backend._tok.encode(text, add_special_tokens=False)
    assert backend.count_prompt_tokens(msgs) == len(ids)
    assert ids.count(backend._tok.convert_tokens_to_ids("<|im_start|>")) == 3
    info = backend.info()
    assert info["system_role"] == "native" and info["tokenizer"] == "exact"
    assert info["context_length"] == 256 and info["device"] == "cpu"
    assert len(info["chat_template_sha256"]) == 64
    assert backend.model_id.startswith("hf:") and len(backend.model_id) == 3 + 64


def test_batched_equals_one_by_one_greedy(model_dir):
    reqs = _reqs(5)
    batched = _gen(load_backend(f"hf:{model_dir}", BackendOptions(batch_size=4)), reqs)
    single = _gen(load_backend(f"hf:{model_dir}", BackendOptions(batch_size=1)), reqs)
    for r in reqs:
        assert batched[r.key].text == single[r.key].text
        assert batched[r.key].completion_tokens == single[r.key].completion_tokens
        assert batched[r.key].prompt_tokens == single[r.key].prompt_tokens
    # a random model never says EOS: every answer runs to max_tokens
    assert {c.finish_reason for c in batched.values()} == {"length"}
    assert {c.completion_tokens for c in batched.values()} == {6}


def test_sampling_is_seeded(model_dir):
    backend = load_backend(f"hf:{model_dir}", BackendOptions(batch_size=2))
    reqs = _reqs(2, max_tokens=8, temperature=1.0)
    assert {k: c.text for k, c in _gen(backend, reqs).items()} == {
        k: c.text for k, c in _gen(backend, reqs).items()
    }


def test_eos_gives_stop(model_dir):
    backend = load_backend(f"hf:{model_dir}", BackendOptions(batch_size=3))
    # Zeroed final norm -> all logits 0 -> greedy picks id 0, which is <|im_end|> (EOS).
    backend._model.model.norm.weight.data.zero_()
    for c in _gen(backend, _reqs(3)).values():
        assert (c.finish_reason, c.text, c.completion_tokens) == ("stop", "", 1)


def test_system_rejecting_template_merges(tmp_path):
    d = _build(tmp_path / "nosys", NO_SYSTEM)
    backend = load_backend(f"hf:{d}", BackendOptions(plain_template=PLAIN))
    assert backend.info()["system_role"] == "merged"
    # (Jinja drops the template's own final newline, as transformers does)
    assert backend.render(_reqs(1)[0].messages) == (
        "<|im_start|>user\nAnswer.\n\nchest pain <|im_end|>\n<|im_start|>assistant"
    )


def test_no_template_uses_plain(tmp_path):
    d = _build(tmp_path / "base", None)
    backend = load_backend(f"hf:{d}", BackendOptions(plain_template=PLAIN))
    assert backend.info()["system_role"] == "plain"
    assert backend.render(_reqs(1)[0].messages) == "Answer.\n\n\nchest pain "
