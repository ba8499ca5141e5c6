#!/usr/bin/env bash
# Run the scale benchmarks one after another, each printing its own table (about 4-5 minutes on
# 2 cores, plus a one-off few minutes to create lm-eval's venv under benchmarks/out/).
#   bash benchmarks/run_all.sh            # the four scale benchmarks
#   bash benchmarks/run_all.sh --all      # also the embedded-model and prompt-building ones
# Exit status: non-zero if any benchmark's own check failed (request counts, resume, identity).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
status=0

run() {
    echo
    echo "=== $* ==="
    local t0=$SECONDS
    "$PY" "$@" || { echo "!!! $1 failed (exit $?)"; status=1; }
    echo "--- $(( SECONDS - t0 )) s"
}

run benchmarks/bench_openai_throughput.py
run benchmarks/bench_lmeval_compare.py
run benchmarks/bench_scoring.py
run benchmarks/bench_resume.py
run benchmarks/bench_statistics.py
if [[ "${1:-}" == "--all" ]]; then
    run benchmarks/bench_harness_overhead.py
    run benchmarks/bench_first_run.py
    run benchmarks/bench_longhealth_prompts.py
    run benchmarks/bench_generate_medisumcode.py
fi
exit $status
