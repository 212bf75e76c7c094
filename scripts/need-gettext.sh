#!/usr/bin/env bash
# The translations are compiled with GNU gettext's msgfmt.
set -euo pipefail
command -v msgfmt >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
else
  echo "accord: GNU gettext (msgfmt) is missing; install it with: sudo apt-get install gettext" >&2
  exit 1
fi
