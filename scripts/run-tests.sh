#!/usr/bin/env bash
# Run the whole suite twice: on SQLite (with lint and type checks) and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider)
export DJANGO_ALLOW_ASYNC_UNSAFE=true

echo "== SQLite =="
env -u DATABASE_URL "${PYTEST[@]}" "$@"

echo "== PostgreSQL =="
DATABASE_URL="$(cat .cache/test-database-url)" "${PYTEST[@]}" -m "not quality" "$@"
