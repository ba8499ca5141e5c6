"""Regenerate docs/report-screenshot.png: two synthetic runs (invented samples) beside the published
rows, rendered by headless Chromium. Usage: python scripts/report_screenshot.py docs/report-screenshot.png"""
import subprocess
import sys
import tempfile
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_analysis_runfactory import binary_samples, sample, write_run
from cluebench.report.html import write_report

rng = np.random.default_rng(11)
root = Path(tempfile.mkdtemp())
sc = {"bertscore": {"model": "sentence-transformers/all-MiniLM-L6-v2", "num_layers": 6, "paper_setting": False}}
acc = rng.random(300) < 0.56
rl = rng.normal(30, 9, 200)
def meq(shift):
    return [sample("meqsum", f"meqsum-{i:04d}", {"rougeL": float(v + shift + rng.normal(0, 3)), "rouge1": float(v + 4 + shift + rng.normal(0, 3)),
            "rouge2": float(v / 2 + shift / 2 + rng.normal(0, 2)), "bertscore_f1": float(70 + v / 5 + rng.normal(0, 1))}) for i, v in enumerate(rl)]
def lh(p):
    return [sample("longhealth", f"p/q{q}/t{k}/r{r}", {"accuracy": 100.0 * (rng.random() < p[k - 1])}, cluster=f"p/q{q}", subtask=k, shot_ids=())
            for q in range(40) for k in (1, 2, 3) for r in range(5)]
def code(p):
    return [sample("medisumcode", f"code-{i:03d}", {"icd_exact_f1": float(rng.normal(p, 8)), "icd_approx_f1": float(rng.normal(p + 15, 8)),
            "icd_valid_ratio": float(min(100, rng.normal(92, 5)))}, shot_ids=("s1",)) for i in range(150)]
base = write_run(root / "mistral", "vllm:mistralai/Mistral-7B-Instruct-v0.1",
                 {"mednli": binary_samples("mednli", acc), "meqsum": meq(0), "longhealth": lh((0.5, 0.45, 0.3)), "medisumcode": code(12)}, scorers=sc)
cand = write_run(root / "biomistral", "vllm:BioMistral/BioMistral-7B",
                 {"mednli": binary_samples("mednli", np.where(rng.random(300) < 0.12, ~acc, acc)), "meqsum": meq(-1.5),
                  "longhealth": lh((0.52, 0.44, 0.35)), "medisumcode": code(10)}, scorers=sc)
report = write_report([base, cand], root / "report.html", title="CLUE results (synthetic demo runs)")
out = Path(sys.argv[1])
subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={root / 'profile'}",
                f"--screenshot={out}", "--window-size=1400,2000", report.as_uri()], check=True, capture_output=True, timeout=120)
print(report)
