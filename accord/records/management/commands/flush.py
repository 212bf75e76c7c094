"""Django's `flush`, which erases every table, with the audit guard lifted for it (accord/records/guard.py).

The guard's triggers refuse DELETE (SQLite's flush) and TRUNCATE (PostgreSQL's) of the audit tables. Erasing the
whole database is an operator's act, not application code: this command drops the triggers, flushes and installs
them again, all in one transaction, so a failure leaves the guard in place. It is refused when
ACCORD_ENV=production: there the audit log is never erased. The test runner flushes through it between
transactional tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from accord.records import guard


class Command(flush.Command):
    help = flush.Command.help + " The audit log's append-only guard is lifted for it; refused in production."

    def handle(self, **options: Any) -> None:
        if settings.ACCORD_ENV == "production":
            raise CommandError("flush would erase the audit log; it is refused when ACCORD_ENV=production")
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        with transaction.atomic(using=database):
            guard.remove(connection)
            super().handle(**options)
            guard.install(connection)
