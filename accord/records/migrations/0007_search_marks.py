"""Search keeps the combining marks inside words (Hindi's vowel signs, Urdu's and Persian's harakat): before, a
Hindi word fell apart into its consonants. Index again the records whose current text holds such a mark; the others'
tokens are unchanged. Their `listed_at` stays as it is."""

from typing import Any

from django.db import migrations
from django.db.models import F

CHUNK = 2000


def up(apps: Any, schema_editor: Any) -> None:
    from accord.records import search

    version_model = apps.get_model("records", "Version")
    last = 0
    while True:
        found = list(
            version_model.objects.filter(record__current_version_id=F("id"), record_id__gt=last)
            .order_by("record_id")
            .values_list("record_id", "search_text")[:CHUNK]
        )
        if not found:
            return
        rows = [(record_id, search.document(text), None) for record_id, text in found if search.has_mark(text)]
        if rows:
            search.upsert(rows, listed=False)
        last = found[-1][0]


class Migration(migrations.Migration):
    dependencies = [("records", "0006_search_listed_at")]

    operations = [migrations.RunPython(up, migrations.RunPython.noop)]
