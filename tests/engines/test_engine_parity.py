"""Backend parity: the same MedNLI (synthetic demo) and MeQSum (public) prompts, greedy, through
`llamacpp:` (the Q4_1 GGUF), `hf:` (the same GGUF dequantised by transformers), `vllm:` and
`openai:` -> `vllm serve` (both on the dequantised weights). The rendered prompt token ids must
be identical everywhere (same chat template, one BOS: compared as ids, not text); outputs and
scores are compared and the agreement is written to $CLUE_ENGINE_REPORT (JSON), which
scripts/test-engines.sh prints. Where outputs differ, the report says by how much.

Why they may differ: llama.cpp multiplies Q4_1 weights by activations quantised to 8 bits
(Q8_1) in integer dot products, while the other three compute in float32 on the dequantised
weights; transformers and vLLM use different float32 kernels (vLLM's CPU attention, summation
order), so an argmax near a tie may go either way and greedy text diverges from there on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engines_common import MAX_MODEL_LEN, PLAIN, SERVED_NAME, SKIP_REASON

pytest.importorskip("vllm", reason=SKIP_REASON)

import httpx

from cluebench.datasets import resolve_dataset
from cluebench.models import BackendOptions, Decoding, Request, load_backend
from cluebench.run.budget import BackendBudget
from cluebench.protocol import load_protocol
from cluebench.tasks.registry import get_task
from cluebench.tasks.scorers import Scorers

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
N_PER_TASK = 4
MEQSUM_MAX_TOKENS = 48  # the protocol's 512, capped: CPU time (the same cap for every backend)
ORDER = ["llamacpp", "hf", "vllm", "openai"]


def _data_dir() -> Path | None:
    env = os.environ.get("CLUE_DATA_DIR")
    if env:
        return Path(env)
    return SHARED_DATA if (SHARED_DATA / "meqsum").is_dir() else None


@pytest.fixture(scope="module")
def llamacpp(smol_gguf: Path):
    backend = load_backend(
        f"llamacpp:{smol_gguf}", BackendOptions(n_ctx=MAX_MODEL_LEN, n_threads=2, plain_template=PLAIN)
    )
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def hf(smol_gguf: Path):
    backend = load_backend(f"hf:{smol_gguf}", BackendOptions(batch_size=4, plain_template=PLAIN))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def samples(llamacpp) -> dict:
    protocol = load_protocol()
    out = {}
    for task_id in ("mednli", "meqsum"):
        dataset = resolve_dataset(task_id, _data_dir() if task_id == "meqsum" else None)
        task = get_task(task_id, protocol)
        built, _ = task.build_samples(dataset.rows, BackendBudget(llamacpp), N_PER_TASK)
        out[task_id] = (task, built, dataset.synthetic)
    return out


def _server_ids(server, messages) -> list[int]:
    """The ids `vllm serve` itself renders for a chat request (its /tokenize endpoint)."""
    resp = httpx.post(
        f"http://127.0.0.1:{server.port}/tokenize",
        json={"model": SERVED_NAME, "messages": messages, "add_generation_prompt": True},
        timeout=30.0,
    )
    resp.raise_for_status()
    return list(resp.json()["tokens"])


def _agreement(a: list[str], b: list[str]) -> dict:
    """Exact-match rate, and the mean shared prefix in characters, of two output lists."""
    def prefix(x: str, y: str) -> int:
        n = 0
        while n < min(len(x), len(y)) and x[n] == y[n]:
            n += 1
        return n

    same = sum(x == y for x, y in zip(a, b))
    return {
        "identical": f"{same}/{len(a)}",
        "identical_rate": same / len(a),
        "mean_common_prefix_chars": sum(prefix(x, y) for x, y in zip(a, b)) / len(a),
    }


def test_prompt_ids_identical_and_outputs_agree(llamacpp, hf, vllm_backend, vllm_server, samples, smol_hf_dir, tmp_path) -> None:
    openai = load_backend(
        f"openai:{SERVED_NAME}",
        BackendOptions(base_urls=[vllm_server.base_url], concurrency=4, timeout=300.0,
                       tokenizer=str(smol_hf_dir), plain_template=PLAIN),
    )
    backends = {"llamacpp": llamacpp, "hf": hf, "vllm": vllm_backend, "openai": openai}
    scorers = Scorers()
    report: dict = {"n_per_task": N_PER_TASK, "meqsum_max_tokens": MEQSUM_MAX_TOKENS, "tasks": {}}
    infos = {name: b.info() for name, b in backends.items()}
    shas = {name: i.get("chat_template_sha256") for name, i in infos.items()}
    assert len(set(shas.values())) == 1 and None not in shas.values(), shas
    assert {i["system_role"] for i in infos.values()} == {"native"}

    for task_id, (task, built, synthetic) in samples.items():
        assert len(built) == N_PER_TASK
        # 1. the ids each backend feeds its engine, and what the server renders itself
        for s in built:
            ids = {
                "llamacpp": llamacpp.prompt_ids(s.messages),
                "hf": hf.prompt_ids(s.messages),
                "vllm": vllm_backend.prompt_ids(s.messages),
                "openai (vllm serve /tokenize)": _server_ids(vllm_server, s.messages),
            }
            ref = ids["llamacpp"]
            assert all(v == ref for v in ids.values()), {k: len(v) for k, v in ids.items()}
            bos = llamacpp._llm.token_bos()
            assert ref[0] == bos and ref[1] != bos  # one BOS (the template's <|im_start|>)
            assert openai.count_prompt_tokens(s.messages) == len(ref)

        # 2. greedy outputs through each engine
        cap = MEQSUM_MAX_TOKENS if task_id == "meqsum" else None
        reqs = [
            Request(s.id, s.messages, Decoding(max_tokens=min(s.max_tokens, cap or s.max_tokens)))
            for s in built
        ]
        outputs: dict[str, list[str]] = {}
        prompt_tokens: dict[str, list] = {}
        for name, backend in backends.items():
            got: dict = {}
            backend.generate(reqs, lambda c: got.__setitem__(c.key, c))
            assert all(got[r.key].finish_reason in {"stop", "length"} for r in reqs), (
                name, [got[r.key].error for r in reqs])
            outputs[name] = [got[r.key].text for r in reqs]
            prompt_tokens[name] = [got[r.key].prompt_tokens for r in reqs]
        lengths = [len(llamacpp.prompt_ids(s.messages)) for s in built]
        for name in ("llamacpp", "vllm", "openai"):  # the engines' own counts of what they saw
            assert prompt_tokens[name] == lengths, (name, prompt_tokens[name], lengths)

        # 3. scores per backend
        scores = {name: task.score(built, outputs[name], scorers) for name in backends}
        metrics = {
            name: {m: round(sum(sc.metrics.get(m, 0.0) for sc in s) / len(s), 2)
                   for m in s[0].metrics}
            for name, s in scores.items()
        }
        parsed = {name: [sc.parsed for sc in s] for name, s in scores.items()}
        has_parse = any(v is not None for vs in parsed.values() for v in vs)  # MedNLI's label
        pairs = {
            f"{a} vs {b}": {
                **_agreement(outputs[a], outputs[b]),
                "parsed_agree": sum(x == y for x, y in zip(parsed[a], parsed[b])) if has_parse else None,
                "metric_abs_diff": {m: round(abs(metrics[a][m] - metrics[b][m]), 2) for m in metrics[a]},
            }
            for i, a in enumerate(ORDER) for b in ORDER[i + 1:]
        }
        report["tasks"][task_id] = {
            "synthetic_data": synthetic, "prompt_tokens": lengths, "metrics": metrics,
            "parsed": parsed, "agreement": pairs, "outputs": outputs,
        }
        # the same engine, same weights, same float32 kernels, in-process or behind its server
        assert outputs["vllm"] == outputs["openai"], pairs["vllm vs openai"]

    openai.close()
    path = Path(os.environ.get("CLUE_ENGINE_REPORT") or tmp_path / "engine-parity.json")
    path.write_text(json.dumps(report, indent=1, default=str))
    # the float32 engines on the same dequantised weights: the answers a user scores
    for task_id, r in report["tasks"].items():
        assert r["agreement"]["hf vs vllm"]["identical_rate"] >= (N_PER_TASK - 1) / N_PER_TASK, (
            task_id, r["agreement"])
