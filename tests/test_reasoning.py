"""Reasoning models: splitting reasoning from answers, template detection, and `clue run
--reasoning` end to end with stub backends that think (a `<think>` block, a separate
`reasoning_content`, an unclosed block, a budget hit), then compare and report on those runs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import pytest

from cluebench.analysis.compare import compare_runs
from cluebench.terminal import format_comparison
from cluebench.analysis.reasoning import reasoning_summary
from cluebench.cli import main
from cluebench.errors import ClueError, ConfigError
from cluebench.models.base import Backend, BackendOptions, Completion, Message, Request, register
from cluebench.models.chat import JinjaTemplate
from cluebench.models.reasoning import detect_template, opens_in_prompt, split_reasoning, switch_value
from cluebench.run.reasoning import DEFAULT_BUDGET, ReasoningPolicy
from cluebench.run.runner import RunSettings, run

from conftest import CharTokenizer

# A Qwen3-style ChatML template: `enable_thinking=false` writes an empty think block.
QWEN3_LIKE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
R1_LIKE = (  # always thinks: opens the block in the generation prompt
    "{% for m in messages %}{{ m['content'] }}\n{% endfor %}<｜Assistant｜><think>\n"
)
HARMONY_LIKE = (
    "{% for m in messages %}<|start|>{{ m['role'] }}<|message|>{{ m['content'] }}<|end|>{% endfor %}"
    "<|start|>assistant{# <|channel|>final #}"
)
LABELS = ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"]


# -- splitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, style, opened, answer, reasoning, unfinished",
    [
        ("<think>\nPremise says fever.\n</think>\n\nENTAILMENT", "think", False, "ENTAILMENT", "Premise says fever.", False),
        ("  <think>a</think>b<think>c</think> d", None, False, "b d", "a\nc", False),
        ("fever means febrile.\n</think>\nNEUTRAL", "think", True, "NEUTRAL", "fever means febrile.", False),
        ("no tag opened here </think> CONTRADICTION", None, False, "CONTRADICTION", "no tag opened here", False),
        ("<think>still thinking about the premise", "think", False, "", "still thinking about the premise", True),
        ("thinking, opened by the prompt", "think", True, "", "thinking, opened by the prompt", True),
        ("<seed:think>x</seed:think>NEUTRAL", None, False, "NEUTRAL", "x", False),
        ("[THINK]y[/THINK] ENTAILMENT", "mistral", False, "ENTAILMENT", "y", False),
        ("ENTAILMENT", "think", False, "ENTAILMENT", None, False),
        (
            "<|channel|>analysis<|message|>Check the premise.<|end|><|start|>assistant"
            "<|channel|>final<|message|>NEUTRAL<|return|>",
            "harmony", False, "NEUTRAL", "Check the premise.", False,
        ),
        ("<|channel|>analysis<|message|>Check the prem", None, False, "", "Check the prem", True),
        ("analysisCheck the premise.assistantfinalNEUTRAL", "harmony", False, "NEUTRAL", "Check the premise.", False),
        ("analysisStill going", "harmony", False, "", "Still going", True),
        ("<unused94>thought\nFever is 38 C or more.<unused95>ENTAILMENT", None, False, "ENTAILMENT", "Fever is 38 C or more.", False),
        ("## Thinking\n\nFever.\n\n## Final Response\n\nENTAILMENT", None, False, "ENTAILMENT", "Fever.", False),
    ],
)
def test_split_reasoning(text, style, opened, answer, reasoning, unfinished) -> None:
    s = split_reasoning(text, style, opened=opened)
    assert (s.answer, s.reasoning, s.unfinished) == (answer, reasoning, unfinished)


def test_an_answer_that_mentions_think_is_not_reasoning() -> None:
    s = split_reasoning("The word <think> appears here, answer NEUTRAL", "think")
    assert s.reasoning is None and s.answer.endswith("NEUTRAL")
    s = split_reasoning("analysis of the chest film shows no effusion", None)
    assert s.reasoning is None and not s.unfinished  # only a harmony template reads it as a channel


def test_detect_template() -> None:
    q = detect_template(QWEN3_LIKE)
    assert q is not None and q.switch == "enable_thinking" and q.style == "think"
    assert "enable_thinking" in q.evidence
    r1 = detect_template(R1_LIKE)
    assert r1 is not None and r1.switch is None and r1.style == "think" and "<think>" in r1.evidence
    assert detect_template("{% if thinking %}x{% endif %}").switch == "thinking"
    assert detect_template("{%- if thinking_mode == 'on' %}<think>{% endif %}").switch == "thinking_mode"
    assert (switch_value("thinking_mode", True), switch_value("enable_thinking", False)) == ("on", False)
    h = detect_template(HARMONY_LIKE)
    assert h is not None and h.style == "harmony"
    assert detect_template(CHATML) is None and detect_template(None) is None
    assert opens_in_prompt("…<｜Assistant｜><think>\n", "think")
    assert not opens_in_prompt("<think>\n\n</think>\n\n", "think")


def test_policy_budget_and_keys() -> None:
    off = ReasoningPolicy()
    assert off.key_part() is None and off.max_tokens(20, 100, 8192) == 20 and off.variant() is None
    on = ReasoningPolicy("on", True, 1000, "think", "enable_thinking", None, {"enable_thinking": True})
    assert on.max_tokens(20, 100, 8192) == 1020
    assert on.max_tokens(20, 8000, 8192) == 192  # what the context leaves
    assert on.max_tokens(20, 8190, 8192) == 20  # never below the answer cap
    assert on.key_part() == {"active": True, "budget": 1000, "template_kwargs": {"enable_thinking": True}}
    assert on.variant() == {"reasoning": "on", "budget": 1000, "switch": "enable_thinking"}
    off_switch = ReasoningPolicy("off", False, DEFAULT_BUDGET, "think", "enable_thinking", None, {"enable_thinking": False})
    assert off_switch.key_part() == {"active": False, "budget": None, "template_kwargs": {"enable_thinking": False}}


def test_reasoning_summary_bins_and_correlation() -> None:
    samples = [
        {"id": str(i), "output": "x", "flags": {"reasoning_unfinished": i == 7},
         "reasoning_tokens": 10 * (i + 1), "metrics": {"accuracy": 100.0 if i < 4 else 0.0}}
        for i in range(8)
    ]
    s = reasoning_summary(samples, "accuracy", ["accuracy"])
    assert s["n"] == 8 and s["mean_tokens"] == 45.0 and s["max_tokens"] == 80
    assert s["unfinished"] == 1 and s["unfinished_rate"] == 12.5
    assert [b["n"] for b in s["by_length"]] == [2, 2, 2, 2]
    assert [b["headline_mean"] for b in s["by_length"]] == [100.0, 100.0, 0.0, 0.0]
    assert s["spearman"] < -0.8  # longer reasoning went with wrong answers here
    assert reasoning_summary([{"id": "a", "output": "x", "reasoning_tokens": None}], "accuracy", []) is None


# -- a stub backend that thinks ----------------------------------------------------------------


@register("fakethink")
class ThinkingBackend(Backend):
    """`fakethink:MODE[/TEMPLATE]` — answers MedNLI with a label after reasoning.

    MODE block: `<think>…</think>LABEL` (unless the template's switch wrote an empty think block
    into the prompt: then LABEL alone); server: LABEL with the reasoning returned apart
    (Completion.reasoning, as a server's reasoning_content); unclosed: `<think>…` and stops;
    long: reasoning longer than any small budget (cut by max_tokens). TEMPLATE qwen3 (default) or
    chatml (no thinking switch). Tokens are characters.
    """

    name = "fakethink"
    calls: list[Request] = []

    def __init__(self, spec: str, options: BackendOptions) -> None:
        super().__init__(spec, options)
        self.mode, _, tpl = spec.partition(":")[2].partition("/")
        self._source = {"qwen3": QWEN3_LIKE, "chatml": CHATML, "": QWEN3_LIKE}[tpl]
        self._template = JinjaTemplate(self._source, extra=lambda: self.options.chat_template_kwargs)

    model_id = property(lambda self: self.spec)
    context_length = property(lambda self: 100_000)
    tokenizer = property(lambda self: CharTokenizer())

    def render(self, messages: Sequence[Message]) -> str:
        return self._template(messages)

    def chat_template(self) -> str | None:
        return self._source

    @staticmethod
    def label(messages: Sequence[Message]) -> str:
        digest = int(hashlib.sha256(messages[-1]["content"].encode()).hexdigest(), 16)
        return LABELS[digest % 3]

    def generate(self, requests: Sequence[Request], on_completion) -> None:  # type: ignore[no-untyped-def]
        for r in requests:
            ThinkingBackend.calls.append(r)
            label = self.label(r.messages)
            thinking_off = self.render(r.messages).endswith("<think>\n\n</think>\n\n")
            thought = f"The premise and hypothesis suggest {label.lower()}."
            reasoning = None
            if thinking_off or self.mode == "plain":
                text = label
            elif self.mode == "block":
                text = f"<think>\n{thought}\n</think>\n\n{label}"
            elif self.mode == "server":
                text, reasoning = label, thought
            elif self.mode == "unclosed":
                text = f"<think>\n{thought} But then again"
            elif self.mode == "long":
                text = "<think>\n" + "hmm " * 500 + f"</think>{label}"
            elif self.mode == "verbose":
                text = f"<think>{thought}</think>{label} " + "because " * 40
            else:
                raise AssertionError(self.mode)
            finish = "length" if len(text) > r.decoding.max_tokens else "stop"
            text = text[: r.decoding.max_tokens]
            on_completion(Completion(r.key, text, finish, 10, len(text), 0.0, reasoning=reasoning))


@pytest.fixture
def calls() -> list[Request]:
    ThinkingBackend.calls = []
    return ThinkingBackend.calls


def _run(out: Path, mode: str, reasoning: str = "on", **kw) -> dict:
    notices: list[str] = []
    settings = RunSettings(
        model=f"fakethink:{mode}", tasks=["mednli"], limit=6, out=out, progress=False,
        write_report=kw.pop("write_report", False), reasoning=reasoning, notice=notices.append, **kw,
    )
    outcome = run(settings)
    rows = [json.loads(line) for line in (out / "mednli" / "samples.jsonl").read_text().splitlines()]
    config = json.loads((out / "config.json").read_text())
    return {"results": outcome.results, "rows": rows, "config": config, "notices": notices}


def test_think_blocks_are_split_off_and_only_the_answer_is_scored(tmp_path, calls) -> None:
    got = _run(tmp_path / "on", "block", reasoning_budget=300)
    rows, results = got["rows"], got["results"]
    assert len(rows) == 6
    for r in rows:
        assert r["output"] in LABELS and "<think>" not in r["output"]
        assert r["reasoning"].startswith("The premise and hypothesis suggest")
        assert r["reasoning_tokens"] == len(r["reasoning"])  # the backend's tokenizer (characters)
        assert r["flags"]["reasoning_unfinished"] is False
        assert r["metrics"]["accuracy"] == (100.0 if r["output"].lower() == r["reference"].lower() else 0.0)
    # each request: the answer cap (20) plus the thinking budget; the switch reached the template
    assert {c.decoding.max_tokens for c in calls} == {20 + 300}
    entry = results["tasks"]["mednli"]
    assert entry["reasoning"]["n"] == 6 and entry["reasoning"]["unfinished"] == 0
    assert entry["reasoning"]["mean_tokens"] == pytest.approx(sum(r["reasoning_tokens"] for r in rows) / 6)
    assert results["protocol"]["variant"] == {"reasoning": "on", "budget": 300, "switch": "enable_thinking"}
    assert got["config"]["reasoning"]["template_kwargs"] == {"enable_thinking": True}
    assert got["config"]["backend_options"]["chat_template_kwargs"] == {"enable_thinking": True}


def test_off_is_the_papers_protocol_with_the_switch_set_false(tmp_path, calls) -> None:
    got = _run(tmp_path / "off", "block", reasoning="off")
    assert all(r["output"] in LABELS and r["reasoning"] is None for r in got["rows"])
    assert {c.decoding.max_tokens for c in calls} == {20}
    assert "variant" not in got["results"]["protocol"]
    assert got["config"]["reasoning"]["template_kwargs"] == {"enable_thinking": False}
    assert "reasoning" not in got["results"]["tasks"]["mednli"]


def test_off_with_a_model_that_thinks_anyway_flags_it(tmp_path, calls) -> None:
    got = _run(tmp_path / "off", "block/chatml", reasoning="off")  # no switch to turn it off
    rows = got["rows"]
    assert all(r["output"].startswith("<think>") for r in rows)  # scored raw, as the paper would
    assert all(r["flags"]["reasoning_in_output"] for r in rows)
    assert got["results"]["tasks"]["mednli"]["errors"]["reasoning_in_output"]["count"] == 6


def test_reasoning_content_from_the_server_is_kept_apart(tmp_path, calls) -> None:
    got = _run(tmp_path / "srv", "server")
    for r in got["rows"]:
        assert r["output"] in LABELS and r["reasoning"].endswith(f"{r['output'].lower()}.")
        assert r["flags"]["reasoning_unfinished"] is False
    # the store keeps the reasoning: a rerun asks nothing and writes the same samples
    first = (tmp_path / "srv" / "mednli" / "samples.jsonl").read_text()
    calls.clear()
    _run(tmp_path / "srv", "server")
    assert calls == [] and (tmp_path / "srv" / "mednli" / "samples.jsonl").read_text() == first


@pytest.mark.parametrize("mode, budget", [("unclosed", None), ("long", 100)])
def test_unfinished_reasoning_is_flagged_never_scored_as_an_answer(tmp_path, calls, mode, budget) -> None:
    got = _run(tmp_path / mode, mode, reasoning_budget=budget)
    rows = got["rows"]
    for r in rows:
        assert r["flags"]["reasoning_unfinished"] is True
        assert r["output"] == "" and r["reasoning"]  # the reasoning is kept, not scored
        assert r["metrics"]["accuracy"] == 0.0
    if mode == "long":  # the budget was hit inside the reasoning
        assert all(r["finish_reason"] == "length" and r["flags"]["length_capped"] for r in rows)
    entry = got["results"]["tasks"]["mednli"]
    assert entry["errors"]["reasoning_unfinished"] == {"count": 6, "rate": 100.0, "n": 6}
    assert entry["reasoning"]["unfinished"] == 6


def test_an_answer_longer_than_the_cap_is_cut_to_it(tmp_path, calls) -> None:
    rows = _run(tmp_path / "v", "verbose")["rows"]
    for r in rows:
        assert len(r["output"]) == 20 and r["flags"]["length_capped"] is True  # MedNLI's cap
        assert r["parsed"] in {"entailment", "neutral", "contradiction"}


def test_auto_decides_from_the_template_and_says_so(tmp_path, calls) -> None:
    got = _run(tmp_path / "auto", "block", reasoning="auto")
    assert got["config"]["reasoning"]["active"] is True
    assert any("reasoning auto: on" in n and "enable_thinking" in n for n in got["notices"])
    assert all(r["output"] in LABELS for r in got["rows"])
    plain = _run(tmp_path / "auto-plain", "plain/chatml", reasoning="auto")
    assert plain["config"]["reasoning"]["active"] is False
    assert any("reasoning auto: off" in n for n in plain["notices"])
    assert "variant" not in plain["results"]["protocol"]


def test_reasoning_settings_are_in_the_cache_key(tmp_path, calls) -> None:
    out = tmp_path / "same"
    _run(out, "block", reasoning="off")
    n_off = len(calls)
    _run(out, "block", reasoning="on", reasoning_budget=300)
    assert len(calls) == 2 * n_off  # nothing reused across settings
    _run(out, "block", reasoning="on", reasoning_budget=400)
    assert len(calls) == 3 * n_off
    _run(out, "block", reasoning="on", reasoning_budget=400)
    assert len(calls) == 3 * n_off  # the same settings resume


def test_bad_reasoning_settings_are_one_clear_line(tmp_path, capsys) -> None:
    with pytest.raises(ConfigError, match="--reasoning-budget must be a positive"):
        _run(tmp_path / "x", "block", reasoning_budget=0)
    assert main(["run", "--model", "fakethink:block", "--reasoning-budget", "100", "--out", str(tmp_path / "y")]) == 2
    assert "--reasoning-budget applies only with --reasoning on" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["run", "--reasoning", "maybe"])
    assert exc.value.code == 2


def test_known_reasoning_model_with_reasoning_off_gets_a_suggestion(tmp_path, capsys) -> None:
    code = main(["run", "--model", "llamacpp:/nonexistent/II-Medical-8B.Q8_0.gguf", "--out", str(tmp_path / "q")])
    err = capsys.readouterr().err
    assert code == 2 and "Intelligent-Internet/II-Medical-8B is a reasoning model" in err
    assert "try --reasoning on" in err
    main(["run", "--model", "llamacpp:/nonexistent/Mistral-7B-Instruct-v0.1.gguf", "--out", str(tmp_path / "m")])
    assert "reasoning model" not in capsys.readouterr().err  # a model that answers directly
    main(["run", "--model", "llamacpp:/nonexistent/II-Medical-8B.gguf", "--reasoning", "on", "--out", str(tmp_path / "o")])
    assert "reasoning model" not in capsys.readouterr().err  # already on


def test_auto_uses_the_lineage_when_the_template_shows_nothing(tmp_path, calls) -> None:
    got = _run(tmp_path / "k", "block/chatml", reasoning="auto",
               reasoning_known="lineage data: X thinks before answering (yes)")
    assert got["config"]["reasoning"]["active"] is True
    assert got["config"]["reasoning"]["evidence"].startswith("lineage data")
    assert all(r["output"] in LABELS for r in got["rows"])


# -- compare and report -------------------------------------------------------------------------


@pytest.fixture
def on_off_runs(tmp_path, calls):
    _run(tmp_path / "off", "block", reasoning="off")
    _run(tmp_path / "on", "block", reasoning="on", reasoning_budget=300)
    return tmp_path / "off", tmp_path / "on"


def test_compare_refuses_a_variant_against_the_plain_protocol_unless_asked(on_off_runs, capsys) -> None:
    off, on = on_off_runs
    with pytest.raises(ClueError) as exc:
        compare_runs(off, on)
    msg = str(exc.value)
    assert "different protocol variants" in msg and "--allow-variant" in msg
    assert "reasoning off" in msg and "reasoning on, 300 thinking tokens" in msg
    assert main(["compare", str(off), str(on)]) == 2
    assert "--allow-variant" in capsys.readouterr().err

    res = compare_runs(off, on, allow_variant=True)
    assert any("protocol variants differ" in n for n in res["notes"])
    assert res["tasks"]["mednli"]["accuracy"]["n"] == 6
    assert res["reasoning"]["mednli"]["base"] is None
    assert res["reasoning"]["mednli"]["candidate"]["unfinished_rate"] == 0.0
    text = format_comparison(res)
    assert "(reasoning on) (candidate)" in text and "mednli reasoning:" in text
    assert main(["compare", str(off), str(on), "--allow-variant", "--json"]) == 0


def test_two_runs_with_different_budgets_are_different_variants(tmp_path, calls) -> None:
    _run(tmp_path / "a", "block", reasoning_budget=300)
    _run(tmp_path / "b", "block", reasoning_budget=400)
    with pytest.raises(ClueError, match="300 thinking tokens.*400 thinking tokens"):
        compare_runs(tmp_path / "a", tmp_path / "b")


def test_report_shows_reasoning(on_off_runs, tmp_path) -> None:
    from cluebench.report.html import write_report

    off, on = on_off_runs
    html = write_report([off, on], tmp_path / "report.html").read_text()
    assert 'id="reasoning"' in html and "thinking tokens" in html
    assert "(reasoning on)" in html and "variant: reasoning on, budget 300" in html
    assert "The premise and hypothesis suggest" in html  # reasoning text in the examples
