"""Synthetic run directories in the docs/run-files.md format, for the analysis and report tests.

Other test modules import `write_run` and `sample` from here; the tests at the bottom check that
what is written reads back through the public loader.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from cluebench.analysis.aggregate import level_averages, level_scores, paper_task_score, summarize_task
from cluebench.protocol import load_protocol
from cluebench.analysis.runfiles import Run, model_label

PROTOCOL = {"id": "clue-paper", "sha256": "a" * 64}
LEVELS = {
    "level1": ["mednli", "meqsum", "problem_summary"],
    "level2": ["longhealth", "medisumqa", "medisumcode"],
}
PAPER = load_protocol().paper_levels.as_dict()  # the paper's level score: metrics per task
TASKS = {  # level, headline, metrics (as in the protocol file)
    "mednli": (1, "accuracy", ["accuracy", "accuracy_strict", "parse_failed_rate"]),
    "meqsum": (1, "rougeL", ["rouge1", "rouge2", "rougeL", "bertscore_f1"]),
    "problem_summary": (1, "rougeL", ["rouge1", "rougeL", "entity_f1"]),
    "longhealth": (
        2,
        "accuracy",
        [f"task{k}_{m}" for m in ("accuracy", "accuracy_lenient") for k in (1, 2, 3)],
    ),
    "medisumqa": (2, "rougeL", ["rouge1", "rougeL"]),
    "medisumcode": (
        2,
        "icd_exact_f1",
        ["icd_exact_f1", "icd_approx_f1", "icd_valid_ratio"],
    ),
}


def sample(
    task: str,
    sid: str,
    metrics: dict,
    *,
    flags: dict | None = None,
    cluster: str | None = None,
    subtask: int | None = None,
    output: str | None = "output text",
    shot_ids=("s1", "s2", "s3"),
    prompt: str | None = None,
    finish_reason: str = "stop",
) -> dict:
    failed = output is None
    f = {
        "failed": failed,
        "truncated": False,
        "tokens_dropped": 0,
        "answer_survived": True,
        "length_capped": finish_reason == "length",
        "loop": False,
        "parse_failed": False,
    }
    f.update(flags or {})
    return {
        "id": sid,
        "task": task,
        "cluster": cluster or sid,
        "subtask": subtask,
        "prompt_hash": hashlib.sha256((prompt or f"{task}/{sid}").encode()).hexdigest(),
        "shot_ids": list(shot_ids),
        "input": f"Question about <{sid}> & more",
        "reference": f"reference for {sid}",
        "output": output,
        "parsed": None if failed else "X",
        "metrics": {} if failed else metrics,
        "flags": f,
        "finish_reason": "error" if failed else finish_reason,
        "prompt_tokens": 100,
        "completion_tokens": None if failed else 12,
        "extra": {},
    }


def binary_samples(task: str, correct: np.ndarray, **kw) -> list[dict]:
    return [
        sample(
            task,
            f"{task}-{i:04d}",
            {
                "accuracy": float(100 * c),
                "accuracy_strict": float(100 * c),
                "parse_failed_rate": 0.0,
            },
            **kw,
        )
        for i, c in enumerate(correct)
    ]


def continuous_samples(
    task: str, values: np.ndarray, metric: str = "rougeL", **kw
) -> list[dict]:
    return [
        sample(
            task, f"{task}-{i:04d}", {metric: float(v), "rouge1": float(v) + 5.0}, **kw
        )
        for i, v in enumerate(values)
    ]


def write_run(
    path: Path,
    spec: str,
    tasks: dict[str, list[dict]],
    *,
    protocol: dict | None = None,
    shot_ids: dict[str, list[str]] | None = None,
    n_boot: int = 300,
    scorers: dict | None = None,
) -> Path:
    """Write config.json, <task>/samples.jsonl and results.json as the runner does."""
    path.mkdir(parents=True, exist_ok=True)
    entries = {}
    for task, samples in tasks.items():
        level, headline, metrics = TASKS[task]
        (path / task).mkdir(exist_ok=True)
        with (path / task / "samples.jsonl").open("w") as fh:
            for s in sorted(samples, key=lambda s: s["id"]):
                fh.write(json.dumps(s) + "\n")
        entry = summarize_task(
            samples, level=level, headline=headline, metric_names=metrics, n_boot=n_boot
        )
        entry["shot_ids"] = (shot_ids or {}).get(
            task, list(samples[0]["shot_ids"]) if samples else []
        )
        entry["data"] = {"path": f"/data/{task}", "sha256": "b" * 64, "synthetic": True}
        if scorers is not None:
            entry["scorers"] = scorers
        entry["paper_score"] = paper_task_score(entry, PAPER["metrics"][task], PAPER["substitutes"])
        entries[task] = entry
    results = {
        "protocol": protocol or PROTOCOL,
        "model": {"spec": spec, "model_id": spec},
        "decoding": {"temperature": 0.0, "top_p": 1.0, "seed": 1234},
        "tasks": entries,
        "levels": level_scores(entries, LEVELS),
        "headline_levels": level_averages(entries, LEVELS),
    }
    (path / "results.json").write_text(json.dumps(results, indent=1))
    config = {
        "model": {"spec": spec},
        "protocol": protocol or PROTOCOL,
        "tasks": list(tasks),
        "decoding": results["decoding"],
        "versions": {"cluebench": "0.1.0"},
    }
    (path / "config.json").write_text(json.dumps(config, indent=1))
    return path


def test_written_run_reads_back(tmp_path):
    rng = np.random.default_rng(3)
    run_dir = write_run(
        tmp_path / "r",
        "llamacpp:/models/meditron-7b.Q4_K_M.gguf",
        {"mednli": binary_samples("mednli", rng.random(40) < 0.5)},
    )
    run = Run.load(run_dir)
    assert run.tasks == ["mednli"]
    assert len(run.samples("mednli")) == 40
    assert run.label == "meditron-7b"
    assert run.protocol["id"] == "clue-paper"


def test_model_label_strips_prefix_and_quantisation():
    assert (
        model_label("llamacpp:/m/SmolLM2-135M-Instruct.Q4_1.gguf")
        == "SmolLM2-135M-Instruct"
    )
    assert model_label("hf:epfl-llm/meditron-7b") == "meditron-7b"
    assert model_label("openai:gpt-4o-mini") == "gpt-4o-mini"
