"""Run the `accord` command as a user would: a separate process on its own data dir and database.

On the PostgreSQL pass (DATABASE_URL set) each node gets a fresh PostgreSQL database of
its own; otherwise the node uses its embedded SQLite file under the data dir.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ACCORD = str(Path(sys.executable).with_name("accord"))


@dataclass
class Node:
    data_dir: Path
    database_url: str | None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env.pop("DATABASE_URL", None)
        env.pop("ACCORD_DATA_DIR", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ACCORD, *args, "--data-dir", str(self.data_dir)],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"accord {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def sql(self, statement: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as pg:
                cursor = pg.execute(statement.replace("?", "%s"), list(params))
                return list(cursor.fetchall()) if cursor.description else []
        conn = sqlite3.connect(self.data_dir / "accord.sqlite3")
        try:
            rows = conn.execute(statement, list(params)).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


def _admin_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def new_node(tmp: Path, name: str = "node", template: Node | None = None) -> Iterator[Node]:
    """A node with an empty database; with `template`, a copy of that node's database and files."""
    import shutil

    data_dir = tmp / f"{name}-{uuid.uuid4().hex[:6]}"
    admin = _admin_url()
    if template is not None:
        shutil.copytree(template.data_dir, data_dir)
    else:
        data_dir.mkdir(parents=True)
    if admin is None:
        yield Node(data_dir, None)
        return
    import psycopg

    db_name = f"accord_cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        if template is not None and template.database_url:
            source = urlsplit(template.database_url).path.lstrip("/")
            conn.execute(f'CREATE DATABASE "{db_name}" TEMPLATE "{source}"')
        else:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        yield Node(data_dir, _with_database(admin, db_name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
