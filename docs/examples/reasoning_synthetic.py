"""Makes the synthetic runs of the README's "Reasoning models" example: a thinking fine-tune (m1-7B-23K)
vs its non-thinking base (Qwen2.5-7B-Instruct), both stub OpenAI servers answering 300 invented
MedNLI items. SYNTHETIC: nothing here is a real result of these models.

    python docs/examples/reasoning_synthetic.py DIR   # then: clue compare DIR/base DIR/thinking --allow-variant
"""
import hashlib, json, random, sys
from pathlib import Path
from cluebench.cli import main
from cluebench.testing.stub_openai import StubServer

root = Path(sys.argv[1])
data = root / "data" / "mednli"
data.mkdir(parents=True, exist_ok=True)
rng = random.Random(7)
labels = ["entailment", "neutral", "contradiction"]
rows = []
for i in range(303):
    g = labels[i % 3]
    rows.append({"sentence1": f"SYNTHETIC premise {i}: the patient reports symptom {rng.randint(0, 999)}.",
                 "sentence2": f"SYNTHETIC hypothesis {i} about finding {rng.randint(0, 999)}.",
                 "gold_label": g, "pairID": f"synthetic-{i:04d}"})
data.joinpath("mli_test_v1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
gold = {r["sentence1"]: r["gold_label"] for r in rows}

def find_gold(messages):
    q = messages[-1]["content"]
    return next(g for s, g in gold.items() if s in q)

def u(messages, salt):
    h = hashlib.sha256((salt + messages[-1]["content"]).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64

def wrong(g, x):
    return labels[(labels.index(g) + 1 + int(x * 2)) % 3]

def base_answer(messages, body):
    g = find_gold(messages)
    return (g if u(messages, "b") < 0.60 else wrong(g, u(messages, "w"))).upper()

def thinking_answer(messages, body):
    g = find_gold(messages)
    x = u(messages, "c")
    n = int(80 + 900 * u(messages, "len"))
    if x > 0.96:  # never stops thinking: cut by the budget
        return "<think> " + "let me reconsider " * 2000 + "</think> NEUTRAL"
    right = x < (0.82 if n < 500 else 0.68)
    ans = g if right else wrong(g, u(messages, "w"))
    return "<think> " + "the premise suggests " * (n // 3) + "</think> " + ans.upper()

for name, fn, extra in (("Qwen/Qwen2.5-7B-Instruct", base_answer, []),
                        ("UCSC-VLAA/m1-7B-23K", thinking_answer, ["--reasoning", "on"])):
    with StubServer(answer=fn, model=name, max_model_len=32768) as url:
        out = root / ("base" if not extra else "thinking")
        rc = main(["run", "--model", f"openai:{name}", "--base-url", url, "--tasks", "mednli",
                   "--data-dir", str(root / "data"), "--out", str(out), "--no-report", *extra])
        assert rc == 0
