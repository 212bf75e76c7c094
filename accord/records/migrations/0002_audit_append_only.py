"""The audit tables become append-only in the database (accord/records/guard.py)."""

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    from accord.records import guard

    guard.install(schema_editor.connection)


def remove(apps: Any, schema_editor: Any) -> None:
    from accord.records import guard

    guard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
