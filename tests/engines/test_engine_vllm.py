"""`vllm:` in-process on the real engine (vLLM's V1 `LLMEngine`, CPU build), SmolLM2-135M
dequantised: prefix caching on, a whole batch in flight at once, each completion
reported the moment the engine finishes it, and a prompt over max_model_len recorded as failed
while the rest of the batch completes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engines_common import SKIP_REASON, MAX_MODEL_LEN

pytest.importorskip("vllm", reason=SKIP_REASON)

from cluebench.models import Decoding, Request
from cluebench.run.cached import generate_missing
from cluebench.run.store import ResponseStore

SYSTEM = "You are a concise clinical assistant. Answer with one word."
SHOTS = [
    {"role": "user", "content": "Is aspirin an antiplatelet drug? Answer yes or no."},
    {"role": "assistant", "content": "yes"},
    {"role": "user", "content": "Is insulin an antibiotic? Answer yes or no."},
    {"role": "assistant", "content": "no"},
]


LONG = "Explain in detail, step by step, how {} works in the body."


def _req(key: str, question: str, max_tokens: int) -> Request:
    return Request(
        key,
        [{"role": "system", "content": SYSTEM}, *SHOTS, {"role": "user", "content": question}],
        Decoding(max_tokens=max_tokens),
    )


class StepSpy:
    """Wraps the real engine's step() to record, per step, which requests finished."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine
        self.real_step = engine.step
        self.steps: list[tuple[float, list[str]]] = []
        engine.step = self

    def __call__(self):  # noqa: ANN204
        outs = self.real_step()
        finished = [o.request_id for o in outs if o.finished]
        self.steps.append((time.perf_counter(), finished))
        return outs

    def restore(self) -> None:
        self.engine.step = self.real_step


def test_engine_facts(vllm_backend) -> None:
    info = vllm_backend.info()
    assert info["versions"]["vllm"] == __import__("vllm").__version__
    assert info["enable_prefix_caching"] is True
    assert vllm_backend._engine.vllm_config.cache_config.enable_prefix_caching is True
    assert vllm_backend.context_length == MAX_MODEL_LEN
    assert info["system_role"] == "native" and len(info["chat_template_sha256"]) == 64


def test_batch_in_flight_and_streamed(vllm_backend) -> None:
    engine = vllm_backend._engine
    # a first request with the shared few-shot prefix (vLLM logs "Prefix cache hit rate: 47.5%"
    # over these requests; its hit counters are not readable through LLMEngine in 0.32)
    first: list = []
    vllm_backend.generate([_req("warm", "Is metformin used for diabetes? Answer yes or no.", 4)],
                          first.append)
    assert first[0].finish_reason in {"stop", "length"}

    # one- and two-token answers must be reported while the 40-token explanations still run
    questions = ["Is heparin an anticoagulant?", LONG.format("morphine"),
                 "Is amoxicillin an antibiotic?", LONG.format("ibuprofen")]
    max_tokens = [1, 40, 2, 40]
    reqs = [_req(f"q{i}", q, n) for i, (q, n) in enumerate(zip(questions, max_tokens))]

    added: list[float] = []
    real_add = engine.add_request

    def add_spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        added.append(time.perf_counter())
        return real_add(*args, **kwargs)

    engine.add_request = add_spy
    spy = StepSpy(engine)
    reported: list[tuple[float, str, bool]] = []
    tokens: dict[str, int] = {}

    def on_completion(c) -> None:  # noqa: ANN001
        reported.append((time.perf_counter(), c.key, engine.has_unfinished_requests()))
        tokens[c.key] = c.completion_tokens or 0

    try:
        vllm_backend.generate(reqs, on_completion)
    finally:
        spy.restore()
        engine.add_request = real_add

    keys = [k for _, k, _ in reported]
    assert sorted(keys) == ["q0", "q1", "q2", "q3"]
    # all four were in the engine before the first step ran
    assert len(added) == 4 and max(added) < spy.steps[0][0]
    assert tokens["q0"] == 1 and tokens["q2"] == 2 and max(tokens["q1"], tokens["q3"]) > 10, tokens
    # the short answers were reported while the engine still had the long ones running
    early = [k for _, k, unfinished in reported if unfinished]
    assert {"q0", "q2"} <= set(early), reported
    # reported in the step they finished (not collected at the end)
    finish_step = {rid: i for i, (_, ids) in enumerate(spy.steps) for rid in ids}
    assert len(finish_step) == 4 and len({*finish_step.values()}) >= 2


def test_prompt_over_max_model_len_is_recorded_failed_not_fatal(vllm_backend, tmp_path: Path) -> None:
    long_q = "chest pain radiating to the left arm " * 300  # ~2,400 tokens > 2,048
    reqs = [_req("ok1", "Is warfarin an anticoagulant?", 3), _req("long", long_q, 3),
            _req("ok2", "Is codeine an opioid?", 3)]
    assert vllm_backend.count_prompt_tokens(reqs[1].messages) > MAX_MODEL_LEN
    with ResponseStore(tmp_path / "responses.sqlite") as store:
        done = generate_missing(vllm_backend, store, reqs)
        failures = store.failures(["ok1", "long", "ok2"])
    assert set(done) == {"ok1", "ok2"}
    assert all(done[k].finish_reason in {"stop", "length"} for k in done)
    assert set(failures) == {"long"}
    assert "maximum context length" in failures["long"] or "max_model_len" in failures["long"]
