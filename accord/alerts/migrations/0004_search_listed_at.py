"""The alerts already held get their search entry's `listed_at` (records/0006): the `sent` their alert list shows,
read from the alert projection, where it was computed from the same version."""

from typing import Any

from django.db import migrations

_FILL = (
    "UPDATE records_searchentry SET listed_at = "
    "(SELECT a.sent_at FROM alerts_alertview a WHERE a.record_id = records_searchentry.record_id) "
    "WHERE record_id IN (SELECT record_id FROM alerts_alertview)"
)


def fill(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(_FILL)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_list_indexes"), ("records", "0006_search_listed_at")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
