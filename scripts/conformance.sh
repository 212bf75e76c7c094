#!/usr/bin/env bash
# Conformance checks against the shared corpora: the CAP codec and validator against the CAP corpus
# (see docs/cap.md), and the aberration detectors against the R surveillance outputs (see docs/surveillance.md).
set -euo pipefail
SHARED="${1:-../shared}"
if [ ! -d "$SHARED" ]; then
  echo "accord: shared corpus folder $SHARED not found" >&2; exit 1
fi
SHARED="$(cd "$SHARED" && pwd)"
cd "$(dirname "$0")/.."
# Run every check even when an earlier one fails; the exit status says whether all passed.
status=0
.venv/bin/python scripts/cap_conformance.py "$SHARED" || status=1
.venv/bin/python scripts/detect_conformance.py "$SHARED" || status=1
exit $status
