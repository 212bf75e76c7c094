#!/usr/bin/env bash
# Run the suite twice: on SQLite (with lint and type checks) and on PostgreSQL. A few costly tests run on one
# pass only (markers sqlite_pass / postgresql_pass in pyproject.toml), and the tests of accord/lib, which use no
# database, run on the SQLite pass only (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# Three workers on two cores: many tests spend their time waiting on subprocesses and servers.
PYTEST=(.venv/bin/pytest -n 3 --dist loadgroup -p no:cacheprovider)
export DJANGO_ALLOW_ASYNC_UNSAFE=true

echo "== SQLite =="
env -u DATABASE_URL "${PYTEST[@]}" -m "not postgresql_pass" "$@"

echo "== PostgreSQL =="
DATABASE_URL="$(cat .cache/test-database-url)" "${PYTEST[@]}" -m "not quality and not sqlite_pass" "$@"
