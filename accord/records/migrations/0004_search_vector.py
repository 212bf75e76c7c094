"""PostgreSQL keeps each search document's tsvector in a stored generated column with the GIN index on it, so that
neither the index's matches nor a row checked on its own re-parse the document (the expression index made every
row a plan checked one at a time cost a `to_tsvector` of its document: half a second a search on 50,000 alerts).
SQLite's FTS5 table is unchanged."""

from typing import Any

from django.db import migrations

_UP = [
    "ALTER TABLE records_searchentry ADD COLUMN vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', document)) STORED",
    "CREATE INDEX records_searchentry_vector ON records_searchentry USING gin (vector)",
    "DROP INDEX IF EXISTS records_searchentry_fts",
]
_DOWN = [
    "CREATE INDEX IF NOT EXISTS records_searchentry_fts ON records_searchentry "
    "USING gin (to_tsvector('simple', document))",
    "ALTER TABLE records_searchentry DROP COLUMN IF EXISTS vector",
]


def up(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in _UP:
            schema_editor.execute(sql)


def down(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in _DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("records", "0003_search")]

    operations = [migrations.RunPython(up, down)]
