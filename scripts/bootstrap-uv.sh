#!/usr/bin/env bash
# Install uv (the package installer) into .cache/uv, using only the given Python.
set -euo pipefail
PYTHON="${1:-python3}"
cd "$(dirname "$0")/.."
if ! command -v "$PYTHON" >/dev/null; then
  echo "accord: $PYTHON is not installed; install Python 3.11 or newer" >&2; exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "accord: $PYTHON is $("$PYTHON" --version 2>&1); Accord needs Python 3.11 or newer" >&2; exit 1
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "accord: Python's venv module is missing; install it with: sudo apt-get install python3-venv" >&2; exit 1
  fi
fi
rm -rf .cache/uv
"$PYTHON" -m venv .cache/uv
.cache/uv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
