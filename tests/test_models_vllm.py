"""vllm: backend with a fake `vllm` module (vLLM cannot run here): option→EngineArgs,
request→SamplingParams/prompt ids, output→Completion, and streaming of finished requests."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import pytest

from cluebench.errors import BackendError
from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.models.chat import JinjaTemplate

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class FakeTokenizer:
    """Byte-level: one id per UTF-8 byte; applies its chat template like transformers does."""

    chat_template = CHATML

    def apply_chat_template(self, messages, chat_template, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        return JinjaTemplate(chat_template)(messages)

    def encode(self, text, add_special_tokens=True):
        return list(text.encode())

    def decode(self, ids):
        return bytes(ids).decode()


class VLLMValidationError(Exception):
    """Like vllm.exceptions.VLLMValidationError: derives from Exception only."""


@dataclass
class Params:
    kwargs: dict


@dataclass
class Out:
    text: str
    token_ids: list
    finish_reason: str


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list
    outputs: list
    finished: bool = True


@dataclass
class FakeEngine:
    args: object
    events: list = field(default_factory=list)
    pending: list = field(default_factory=list)

    @classmethod
    def from_engine_args(cls, args):
        return cls(args)

    def get_tokenizer(self):
        return FakeTokenizer()

    @property
    def model_config(self):  # the V1 engine's attribute (vLLM 0.32); V0 had get_model_config()
        return types.SimpleNamespace(max_model_len=4096)

    def add_request(self, request_id, prompt, params):
        if len(prompt["prompt_token_ids"]) > 200:
            raise VLLMValidationError("prompt too long")  # not a ValueError, as in vLLM 0.32
        self.events.append(("add", request_id))
        self.pending.append((request_id, prompt, params))

    def has_unfinished_requests(self):
        return bool(self.pending)

    def step(self):
        # finishes the most recently added request first: order differs from submission
        rid, prompt, params = self.pending.pop()
        self.events.append(("finish", rid))
        n = params.kwargs["max_tokens"]
        reason = "length" if n < 3 else "stop"
        tokens = list(range(min(n, 3)))
        running = RequestOutput("other", [], [Out("", [], None)], finished=False)
        done = RequestOutput(rid, prompt["prompt_token_ids"], [Out(f"ans-{rid}", tokens, reason)])
        return [running, done]


@pytest.fixture
def fake_vllm(monkeypatch):
    mod = types.ModuleType("vllm")
    mod.__version__ = "0.33.0-fake"
    mod.EngineArgs = lambda **kw: types.SimpleNamespace(**kw)
    mod.SamplingParams = lambda **kw: Params(kw)
    mod.LLMEngine = FakeEngine
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return mod


def _req(key, text, max_tokens=16, temperature=0.0):
    return Request(key, [{"role": "system", "content": "S"}, {"role": "user", "content": text}],
                   Decoding(max_tokens=max_tokens, temperature=temperature, top_p=0.9, seed=7))


def test_options_map_to_engine_args(fake_vllm):
    opts = BackendOptions(tensor_parallel_size=4, pipeline_parallel_size=2,
                          distributed_executor_backend="ray", max_model_len=16384,
                          gpu_memory_utilization=0.85, dtype="bfloat16")
    backend = load_backend("vllm:/models/llama", opts)
    assert vars(backend._engine.args) == {
        "model": "/models/llama", "tokenizer": "/models/llama", "tensor_parallel_size": 4,
        "pipeline_parallel_size": 2, "distributed_executor_backend": "ray",
        "max_model_len": 16384, "gpu_memory_utilization": 0.85, "enable_prefix_caching": True,
        "trust_remote_code": False, "dtype": "bfloat16",
    }
    assert backend.context_length == 16384
    info = backend.info()
    assert info["system_role"] == "native" and info["versions"]["vllm"] == "0.33.0-fake"
    assert info["model_id"] == "vllm:/models/llama"


def test_requests_submitted_at_once_and_reported_as_they_finish(fake_vllm):
    backend = load_backend("vllm:m", BackendOptions())
    assert backend.context_length == 4096  # from the engine's model config
    reqs = [_req("a", "one"), _req("b", "two", max_tokens=2), _req("c", "three", temperature=0.7)]
    got = []
    backend.generate(reqs, got.append)
    events = backend._engine.events
    assert [e for e, _ in events[:3]] == ["add"] * 3  # all added before the first step
    assert [c.key for c in got] == ["c", "b", "a"]  # in finishing order
    by_key = {c.key: c for c in got}
    rendered = "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\none<|im_end|>\n<|im_start|>assistant\n"
    assert backend.render(reqs[0].messages) == rendered
    assert by_key["a"].prompt_tokens == len(rendered.encode()) == backend.count_prompt_tokens(reqs[0].messages)
    assert (by_key["a"].finish_reason, by_key["a"].completion_tokens) == ("stop", 3)
    assert (by_key["b"].finish_reason, by_key["b"].completion_tokens) == ("length", 2)
    assert by_key["c"].text == f"ans-{events[2][1]}"  # the third request added is "c"


def test_sampling_params_mapping(fake_vllm):
    from cluebench.models.vllm_engine import sampling_params

    assert sampling_params(fake_vllm, _req("x", "q", 5, 0.7)).kwargs == {
        "temperature": 0.7, "top_p": 0.9, "seed": 7, "max_tokens": 5}


def test_rejected_request_becomes_error_not_exception(fake_vllm):
    backend = load_backend("vllm:m", BackendOptions())
    got = []
    backend.generate([_req("long", "x" * 300), _req("ok", "fine")], got.append)
    by_key = {c.key: c for c in got}
    assert by_key["long"].finish_reason == "error" and "too long" in by_key["long"].error
    assert by_key["ok"].finish_reason == "stop"


def test_abort_maps_to_error():
    from cluebench.models.vllm_engine import to_completion

    out = RequestOutput("1", [1, 2], [Out("partial", [5], "abort")])
    c = to_completion(out, _req("k", "q"), 0.1)
    assert (c.finish_reason, c.text, c.prompt_tokens, c.completion_tokens) == ("error", "partial", 2, 1)
    assert "abort" in c.error


def test_missing_vllm_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    with pytest.raises(BackendError, match="pip install vllm"):
        load_backend("vllm:m", BackendOptions())
