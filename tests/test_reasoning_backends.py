"""The template's thinking switch reaches the template on every backend: hf: (a tiny model built
here, as tests/test_models_hf.py does), llamacpp: (the embedded GGUF with its chat template
overridden by --chat-template) and openai: (as `chat_template_kwargs`, seen by a stub server)."""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.models.chat import template_sha256
from cluebench.run.reasoning import answer_of, resolve

PLAIN = tomllib.loads(files("cluebench.protocols").joinpath("clue_paper.toml").read_text())[
    "plain_template"
]
# Qwen3's switch, and a generation prompt that opens the think block when thinking (as
# DeepSeek-R1's and Qwen3-Thinking's templates do), so the output starts inside the reasoning.
THINKING_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n"
    "{% else %}<think>\n{% endif %}{% endif %}"
)
MSGS = [
    {"role": "system", "content": "Answer with one word."},
    {"role": "user", "content": "Is a temperature of 39.5 C a fever?"},
]


def _generate(backend, max_tokens: int):
    got = []
    backend.generate([Request("k", MSGS, Decoding(max_tokens=max_tokens))], got.append)
    return got[0]


def _check_switch(backend) -> None:
    """auto and on set enable_thinking=true, off sets it false, and the rendered prompt follows."""
    policy = resolve("auto", 8, backend)
    assert policy.active and policy.switch == "enable_thinking" and "enable_thinking" in policy.evidence
    on = backend.render(MSGS)
    assert on.endswith("<|im_start|>assistant\n<think>\n")
    assert backend.count_prompt_tokens(MSGS) > 0
    resolve("off", None, backend)
    assert backend.options.chat_template_kwargs == {"enable_thinking": False}
    off = backend.render(MSGS)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    resolve("on", 8, backend)
    assert backend.render(MSGS) == on


def test_hf_thinking_switch_reaches_the_template(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from test_models_hf import _build

    model_dir = _build(tmp_path / "tiny-thinking", THINKING_TEMPLATE)
    backend = load_backend(f"hf:{model_dir}", BackendOptions(plain_template=PLAIN))
    try:
        assert backend.chat_template() == THINKING_TEMPLATE
        _check_switch(backend)
        # with thinking on, the prompt opened the block: a random model never closes it within a
        # 2 + 8 token limit, so the budget is hit inside the reasoning
        policy = resolve("on", 8, backend)
        c = _generate(backend, policy.max_tokens(2, backend.count_prompt_tokens(MSGS), backend.context_length))
        assert c.finish_reason == "length" and c.completion_tokens == 10
        a = answer_of(policy, c, backend.render(MSGS), 2, backend.tokenizer)
        assert a.flags == {"reasoning_unfinished": True} and a.text == ""
        assert a.reasoning is not None and a.reasoning_tokens == len(backend.tokenizer.encode(a.reasoning))
    finally:
        backend.close()
    # --chat-template replaces the tokenizer's own template on hf: too
    override = "{{ messages[-1]['content'] }}!"
    other = load_backend(f"hf:{model_dir}", BackendOptions(plain_template=PLAIN, chat_template=override))
    # (it drops the system message, so the system text is merged into the user turn)
    assert other.render(MSGS) == "Answer with one word.\n\nIs a temperature of 39.5 C a fever?!"
    assert other.info()["chat_template_sha256"] == template_sha256(override)


def test_llamacpp_overridden_template_gets_the_switch() -> None:
    pytest.importorskip("llama_cpp")
    backend = load_backend(
        None,
        BackendOptions(n_ctx=512, n_threads=1, plain_template=PLAIN, chat_template=THINKING_TEMPLATE),
    )
    try:
        assert backend.chat_template() == THINKING_TEMPLATE
        _check_switch(backend)
        policy = resolve("on", 8, backend)
        # the real model, started inside a think block, is cut by the 2 + 8 token limit
        c = _generate(backend, policy.max_tokens(2, backend.count_prompt_tokens(MSGS), backend.context_length))
        assert c.finish_reason == "length"
        a = answer_of(policy, c, backend.render(MSGS), 2, backend.tokenizer)
        assert a.flags["reasoning_unfinished"] is True and a.text == "" and a.reasoning
        # decoding with special tokens kept (for markers that are special tokens) gives the same
        # text here, and the instance's plain decoding is back afterwards
        backend.options.keep_special_tokens = True
        assert _generate(backend, 10).text == c.text
        assert "detokenize" not in backend._llm.__dict__
    finally:
        backend.close()


def test_openai_sends_the_switch_as_chat_template_kwargs(tmp_path: Path) -> None:
    from cluebench.run.runner import RunSettings, run
    from cluebench.testing.stub_openai import StubServer

    def answer(messages, body) -> str:  # a server whose template has Qwen3's switch
        if (body.get("chat_template_kwargs") or {}).get("enable_thinking") is False:
            return "ENTAILMENT"
        return "<think> The premise states a fever. </think> ENTAILMENT"

    server = StubServer(answer=answer, max_model_len=100_000)
    notices: list[str] = []
    with server as url:
        def go(reasoning: str, out: str) -> list[dict]:
            run(RunSettings(
                model="openai:stub-model", tasks=["mednli"], limit=3, out=tmp_path / out,
                backend=BackendOptions(base_urls=[url], max_retries=0), progress=False,
                write_report=False, reasoning=reasoning, notice=notices.append,
            ))
            return [json.loads(l) for l in (tmp_path / out / "mednli" / "samples.jsonl").read_text().splitlines()]

        off = go("off", "off")
        sent_off = [r.body for r in server.chat_requests()]
        on = go("on", "on")
        sent_on = [r.body for r in server.chat_requests()][len(sent_off):]
        auto = go("auto", "auto")
    # off: the paper's request, unchanged (no template is known, so nothing is sent)
    assert all("chat_template_kwargs" not in b for b in sent_off)
    assert all(r["output"].startswith("<think>") for r in off)
    # on: the switch goes to the server's template; the think block is split off the content
    assert all(b["chat_template_kwargs"] == {"enable_thinking": True} for b in sent_on)
    assert all(b["max_tokens"] == 20 + 4096 for b in sent_on)
    assert all(r["output"] == "ENTAILMENT" and r["reasoning"] == "The premise states a fever." for r in on)
    # auto: a server renders its own template, so one probe question decides
    assert any("reasoning auto: on" in n and "probe" in n for n in notices)
    assert all(r["output"] == "ENTAILMENT" for r in auto)


def test_openai_reasoning_content_budget_hit_is_unfinished(tmp_path: Path) -> None:
    """A server with a reasoning parser returns the reasoning as `reasoning_content`; here it ran
    out of tokens inside it (empty content, finish "length"): flagged, kept, never scored."""
    from cluebench.run.runner import RunSettings, run
    from cluebench.testing.stub_openai import StubServer

    notices: list[str] = []
    with StubServer(mode="reasoning_only", max_model_len=100_000) as url:
        outcome = run(RunSettings(
            model="openai:stub-model", tasks=["mednli"], limit=3, out=tmp_path / "r",
            backend=BackendOptions(base_urls=[url], max_retries=0), progress=False,
            write_report=False, reasoning="auto", notice=notices.append,
        ))
    assert any("reasoning auto: on" in n and "reasoning_content" in n for n in notices)
    rows = [json.loads(l) for l in (tmp_path / "r" / "mednli" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    for r in rows:
        assert r["flags"]["reasoning_unfinished"] is True and r["output"] == ""
        assert r["reasoning"].startswith("Let me think.") and r["reasoning_tokens"] == 7  # the server's count
        assert r["metrics"]["accuracy"] == 0.0
    entry = outcome.results["tasks"]["mednli"]
    assert entry["errors"]["reasoning_unfinished"]["count"] == 3 and entry["reasoning"]["mean_tokens"] == 7.0
