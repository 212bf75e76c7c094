#!/usr/bin/env bash
# Install and start what the test suite needs: PostgreSQL, Chromium, gettext, Pango and fonts (Debian packages), and axe-core
# (from the npm registry, for the accessibility checks).
# Writes the PostgreSQL URL for the tests to .cache/test-database-url.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
AXE_VERSION=4.14.1
AXE_INTEGRITY="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_DIR=.cache/axe-core-$AXE_VERSION

missing=()
if [ -z "${ACCORD_TEST_DATABASE_URL:-}" ]; then
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
fi
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v msgfmt >/dev/null || missing+=(gettext)
# WeasyPrint (the printable situation reports) needs Pango, and fonts with Cyrillic and CJK glyphs.
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing+=(fonts-droid-fallback)
# npm fetches axe-core for the accessibility checks (tests/web/a11y.py), unless it is already unpacked.
[ -f "$AXE_DIR/axe.min.js" ] || command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "accord: the tests need ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# axe-core, pinned and checked against the registry's integrity hash, unpacked into .cache/ (the browser tests
# read $AXE_DIR/axe.min.js; tests/web/a11y.py names this script when it is missing).
if [ ! -f "$AXE_DIR/axe.min.js" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
  tarball="$tmp/axe-core-$AXE_VERSION.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$AXE_INTEGRITY" ]; then
    echo "accord: axe-core $AXE_VERSION from npm does not match its pinned integrity hash" >&2; rm -rf "$tmp"; exit 1
  fi
  mkdir -p "$AXE_DIR"
  tar -xzf "$tarball" -C "$AXE_DIR" --strip-components=1 package/axe.min.js package/LICENSE
  rm -rf "$tmp"
  echo "axe-core $AXE_VERSION ready in $AXE_DIR"
fi

if [ -n "${ACCORD_TEST_DATABASE_URL:-}" ]; then
  echo "$ACCORD_TEST_DATABASE_URL" > .cache/test-database-url
  exit 0
fi

PGVER=$(ls /etc/postgresql | sort -V | tail -1)
if [ -z "$PGVER" ]; then
  echo "accord: no PostgreSQL cluster found under /etc/postgresql" >&2; exit 1
fi
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1==v && $2=="main" {print $4}' | grep -q online; then
  if [ "$(id -u)" = 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$PGVER" main start
  else
    echo "accord: PostgreSQL $PGVER is not running; start it with: sudo pg_ctlcluster $PGVER main start" >&2; exit 1
  fi
fi
PORT=$(pg_lsclusters -h | awk -v v="$PGVER" '$1==v && $2=="main" {print $3}')
wait_ready() {
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && return
    sleep 1
  done
}
wait_ready
run_psql() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qtAc \"$1\""; else psql -p "$PORT" -qtAc "$1"; fi
}
# The suite runs three workers, and some tests start several real nodes, each with its own server processes and
# connections: the default of 100 connections is too few when they meet (and on a machine that runs other suites).
if [ "$(run_psql "SHOW max_connections")" -lt 300 ]; then
  if [ "$(id -u)" = 0 ]; then
    run_psql "ALTER SYSTEM SET max_connections = 300"
    pg_ctlcluster --skip-systemctl-redirect "$PGVER" main restart
    wait_ready
  else
    echo "accord: PostgreSQL allows fewer than 300 connections; a busy test run may run out of them" >&2
  fi
fi
if [ "$(run_psql "SELECT 1 FROM pg_roles WHERE rolname='accord_test'")" != "1" ]; then
  run_psql "CREATE ROLE accord_test LOGIN CREATEDB PASSWORD 'accord_test'"
fi
# DROP DATABASE ... WITH (FORCE) in the tests must be able to end an autovacuum worker on the dropped database;
# PostgreSQL lets a role other than a superuser do that only as a member of pg_signal_backend.
if [ "$(run_psql "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'pg_signal_backend' AND u.rolname = 'accord_test'")" != "1" ]; then
  run_psql "GRANT pg_signal_backend TO accord_test" || echo "accord: could not grant pg_signal_backend to accord_test; dropping a test database may fail while autovacuum works on it" >&2
fi
if [ "$(run_psql "SELECT 1 FROM pg_database WHERE datname='accord_test'")" != "1" ]; then
  run_psql "CREATE DATABASE accord_test OWNER accord_test"
fi
echo "postgres://accord_test:accord_test@127.0.0.1:$PORT/accord_test" > .cache/test-database-url
echo "PostgreSQL $PGVER ready on port $PORT"
