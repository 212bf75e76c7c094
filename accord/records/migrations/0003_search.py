"""Full-text search (accord/records/search.py): one search document per record, indexed by the database (a GIN
index on PostgreSQL, an FTS5 table kept by triggers on SQLite), filled from the records held."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

_SQLITE = [
    "CREATE VIRTUAL TABLE records_search_fts USING fts5("
    "document, content='records_searchentry', content_rowid='record_id', tokenize='unicode61')",
    "CREATE TRIGGER records_search_fts_ai AFTER INSERT ON records_searchentry BEGIN "
    "INSERT INTO records_search_fts(rowid, document) VALUES (new.record_id, new.document); END",
    "CREATE TRIGGER records_search_fts_ad AFTER DELETE ON records_searchentry BEGIN "
    "INSERT INTO records_search_fts(records_search_fts, rowid, document) "
    "VALUES ('delete', old.record_id, old.document); END",
    "CREATE TRIGGER records_search_fts_au AFTER UPDATE ON records_searchentry BEGIN "
    "INSERT INTO records_search_fts(records_search_fts, rowid, document) "
    "VALUES ('delete', old.record_id, old.document); "
    "INSERT INTO records_search_fts(rowid, document) VALUES (new.record_id, new.document); END",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS records_search_fts_ai",
    "DROP TRIGGER IF EXISTS records_search_fts_ad",
    "DROP TRIGGER IF EXISTS records_search_fts_au",
    "DROP TABLE IF EXISTS records_search_fts",
]
_POSTGRESQL = [
    "CREATE INDEX records_searchentry_fts ON records_searchentry USING gin (to_tsvector('simple', document))"
]
_POSTGRESQL_DROP = ["DROP INDEX IF EXISTS records_searchentry_fts"]


def install(apps: Any, schema_editor: Any) -> None:
    from accord.records import search

    vendor = schema_editor.connection.vendor
    for sql in _POSTGRESQL if vendor == "postgresql" else _SQLITE if vendor == "sqlite" else []:
        schema_editor.execute(sql)
    search.rebuild(version_model=apps.get_model("records", "Version"), vector=False)  # as the table is here


def remove(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in _POSTGRESQL_DROP if vendor == "postgresql" else _SQLITE_DROP if vendor == "sqlite" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("records", "0002_audit_append_only")]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "record",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="records.record",
                    ),
                ),
                ("document", models.TextField()),
            ],
        ),
        migrations.RunPython(install, remove),
    ]
