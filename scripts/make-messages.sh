#!/bin/sh
# Extract the translatable messages into the catalogues (without source locations, so that parallel work merges);
# then translate what is new (scripts/fill-translations.py) and run `make messages`.
set -e
cd "$(dirname "$0")/.."
cd accord && ../.venv/bin/django-admin makemessages -l zh_Hans -l ru -l kk -l ky -l tg -l uz -l hi -l ur -l fa -l be --settings=accord.settings -i "migrations/*" --no-location 2>&1 | grep -v "^processing" || true
