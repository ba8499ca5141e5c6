#!/usr/bin/env bash
# The README's test command: install cluebench with its test extras, then run the whole suite.
# Chromium (Debian's) renders the HTML report in one test; install it when missing and possible.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped"
fi
python -m pip install -q --disable-pip-version-check torch==2.13.0 -e '.[test]'
exec python -m pytest -q "$@"
