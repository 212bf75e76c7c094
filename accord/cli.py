"""The `accord` command. Every subcommand takes --data-dir (default: ACCORD_DATA_DIR).

This module is the wiring: it prepares Django and the database, runs the node's own processes (`serve`, `worker`,
`migrate`, `manage`) and registers the subcommands each app brings in its `commands.py` (accord/lib/cap, records,
federation, members, notify, alerts, surveillance, lib/detect, alliances), in the order `accord --help` lists them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from accord.alerts.commands import add_commands as add_alert_commands
from accord.alliances.commands import add_commands as add_alliance_commands
from accord.federation import commands as federation_commands
from accord.lib.cap.commands import add_commands as add_cap_commands
from accord.lib.commands import EXIT_FAIL, EXIT_OK, EXIT_USAGE, CliError, port_arg
from accord.lib.detect.commands import add_commands as add_detect_commands
from accord.members import commands as members_commands
from accord.notify.commands import add_commands as add_notify_commands
from accord.records import commands as records_commands
from accord.surveillance.commands import add_commands as add_counts_commands

__all__ = ["EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "CliError", "build_parser", "default_web_workers", "main"]


def _setup(args: argparse.Namespace) -> None:
    if getattr(args, "data_dir", None):
        os.environ["ACCORD_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()


def _migrate(quiet: bool = True) -> None:
    from django.conf import settings
    from django.core.management import call_command

    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    if not quiet or not _schema_is_current():
        call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    # Reference data and identity are also made by post_migrate; this covers a database
    # that was already fully migrated before this node's key existed.
    from accord.members.actions import ensure_node_identity, seed_members

    seed_members()
    ensure_node_identity()


def _schema_is_current() -> bool:
    """Whether every migration file of every app is recorded as applied: one query and a directory listing
    per app, where `migrate` would load the whole migration graph (half a second for every command)."""
    from django.apps import apps
    from django.db import DatabaseError, connection

    on_disk: set[tuple[str, str]] = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        if folder.is_dir():
            on_disk |= {
                (config.label, entry.stem)
                for entry in folder.iterdir()
                if entry.suffix == ".py" and entry.stem[:4].isdigit()
            }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = {(str(app), str(name)) for app, name in cursor.fetchall()}
    except DatabaseError:
        return False
    return on_disk <= applied


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(quiet=False)
    print("database is up to date")
    return EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord manage", *args.rest])
    return EXIT_OK


def _heartbeat(stop: threading.Event, name: str, every: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from accord.records.models import WorkerHeartbeat

    try:
        while not stop.is_set():
            try:
                WorkerHeartbeat.objects.update_or_create(worker=name, defaults={"seen_at": timezone.now()})
            except Exception as error:  # noqa: BLE001  (a missed beat must not kill the worker)
                print(f"worker heartbeat failed: {error}", file=sys.stderr)
            stop.wait(every)
        WorkerHeartbeat.objects.filter(worker=name).delete()
    finally:
        connection.close()


def cmd_worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    _migrate()
    name = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(stop, name, settings.ACCORD_WORKER_HEARTBEAT_SECONDS), daemon=True)
    beat.start()
    from accord.records import checkpoint

    # Signs the audit head every ACCORD_AUDIT_CHECKPOINT_SECONDS when it moved (the audit lock keeps workers from
    # issuing the same checkpoint twice).
    checkpoints = threading.Thread(target=checkpoint.run, args=(stop,), daemon=True, name="audit-checkpoint")
    checkpoints.start()
    federation: threading.Thread | None = None
    if not args.no_federation:
        from accord.federation import runner

        federation = threading.Thread(target=runner.run, args=(stop,), daemon=True, name="federation")
        federation.start()
    notify: threading.Thread | None = None
    if not args.no_notify:
        from accord.notify import dispatch

        notify = threading.Thread(target=dispatch.run, args=(stop, f"{name}:notify"), daemon=True, name="notify")
        notify.start()
    try:
        call_command("db_worker", interval=args.interval, reload=False, worker_id=name[:64], verbosity=1)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        stop.set()
        beat.join(timeout=5)
        checkpoints.join(timeout=5)
        if federation is not None:
            federation.join(timeout=5)
        if notify is not None:
            notify.join(timeout=15)
    return EXIT_OK


def default_web_workers() -> int:
    """Server processes when --web-workers is not given: one per core on PostgreSQL; one on SQLite, whose single
    writer lock for the whole file would make several processes queue on every write (docs/operations.md)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 1
    return max(1, os.cpu_count() or 1)


def _pool_connections() -> None:
    """Server processes use a pool of database connections on PostgreSQL (settings.py says why): this process
    from now on, and the server processes it starts (ACCORD_DB_POOL in their environment)."""
    from django.conf import settings
    from django.db import connections

    os.environ["ACCORD_DB_POOL"] = "1"
    default = connections.settings["default"]
    if default["ENGINE"] != "django.db.backends.postgresql":
        return
    connections.close_all()
    default["CONN_MAX_AGE"] = 0
    default.setdefault("OPTIONS", {})["pool"] = settings.ACCORD_DB_POOL


def _serve_asgi(host: str, port: int, web_workers: int = 1) -> None:
    """uvicorn, as `uvicorn.run` would, but open live streams (/api/v1/stream), which never finish by themselves,
    are told to end as soon as shutting down begins (EventSource clients reconnect and resume elsewhere or later);
    whatever is still open after 5 s is cut."""
    import uvicorn
    from django.conf import settings
    from uvicorn.config import LOGGING_CONFIG

    from accord.lib.redact import uvicorn_log_config
    from accord.notify.stream import close_streams

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        "accord.asgi:application",
        host=host,
        port=port,
        # uvicorn's logging with the secret-redacting filter on its loggers and handlers (accord/lib/redact.py);
        # the access log (request lines) only when ACCORD_ACCESS_LOG is on.
        log_config=uvicorn_log_config(LOGGING_CONFIG),
        log_level="info" if settings.ACCORD_ACCESS_LOG else "warning",
        access_log=settings.ACCORD_ACCESS_LOG,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    if web_workers > 1:
        # Several server processes on one socket (uvicorn's supervisor: it restarts a process that dies). Each
        # answers its own requests with its own database connection; open live streams end with the 5 s grace.
        from uvicorn.supervisors import Multiprocess

        config.workers = web_workers
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = Server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the server could not start (the port is taken, ...)


def _warn_public_url() -> None:
    from accord.members.site import production_warning

    warning = production_warning()
    if warning:
        print(f"accord: warning: {warning}", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    _migrate()
    from accord.web.static import ensure_collected

    ensure_collected()  # hashed, compressed static files, collected again only when their sources changed
    from django.conf import settings

    def terminate(signum: int, frame: object) -> None:
        # uvicorn shuts down on SIGTERM and then raises the signal again with this handler restored: leave
        # through `finally`, so the workers are stopped too (a bare SIGTERM would orphan them).
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    _warn_public_url()
    workers: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, ACCORD_DATA_DIR=str(settings.DATA_DIR))
    try:
        web_workers = args.web_workers if args.web_workers is not None else default_web_workers()
        for _ in range(args.workers):
            workers.append(subprocess.Popen([sys.executable, "-m", "accord.cli", "worker"], env=env))
        print(
            f"Accord serving on http://{args.host}:{args.port} with {web_workers} server process(es) and "
            f"{args.workers} worker(s); Ctrl-C stops it",
            flush=True,
        )
        _pool_connections()
        _serve_asgi(args.host, args.port, web_workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for worker in workers:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    data_dir_help = "where the database, keys and attachments live (default: ACCORD_DATA_DIR)"
    # The option may stand before or after the subcommand; SUPPRESS keeps a subcommand
    # that was not given the option from overwriting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data-dir", default=None, help=data_dir_help)
    parser = argparse.ArgumentParser(prog="accord", description="Accord: emergency information sharing.", parents=[top])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str, into: Any = sub
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = into.add_parser(name, help=help_, parents=[common])
        p.set_defaults(func=func)
        return p

    serve = add("serve", cmd_serve, "serve the web UI and API, with background workers")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=port_arg, default=port_arg(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1, choices=range(0, 17), metavar="N")
    serve.add_argument(
        "--web-workers",
        type=int,
        default=None,
        choices=range(1, 65),
        metavar="N",
        help="server processes answering requests (default: the number of cores on PostgreSQL, 1 on SQLite)",
    )
    add("migrate", cmd_migrate, "create or update the database")
    members_commands.add_demo_command(sub, common, _migrate)
    worker = add("worker", cmd_worker, "run a background worker")
    worker.add_argument("--interval", type=float, default=1.0)
    worker.add_argument(
        "--no-federation", action="store_true", help="do not pull from peers nor send them hints in this worker"
    )
    worker.add_argument(
        "--no-notify", action="store_true", help="do not send notifications (e-mail, webhooks) in this worker"
    )
    # The apps' commands, in the order of `accord --help`.
    federation_commands.add_init_command(sub, common, _migrate)  # init
    records_commands.add_commands(sub, common, _migrate)  # audit
    federation_commands.add_commands(sub, common, _migrate)  # node, peer
    records_commands.add_records_commands(sub, common, _migrate)  # records
    federation_commands.add_exchange_commands(sub, common, _migrate)  # federation, bundle
    members_commands.add_commands(sub, common, _migrate)  # account, token
    add_notify_commands(sub, common, _migrate)  # subscription
    add_cap_commands(sub, common)  # cap
    add_alert_commands(sub, common, migrate=_migrate, account=members_commands.importer)  # alert
    add_counts_commands(sub, common, _migrate, members_commands.service_account)  # counts
    add_detect_commands(sub, common)  # detect
    add_alliance_commands(sub, common, _migrate)  # alliance

    manage = add("manage", cmd_manage, "run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "django", True):
            _setup(args)
        result: int = args.func(args)
        return result
    except CliError as error:
        print(f"accord: {error.message}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:
        from django.core.exceptions import ImproperlyConfigured

        from accord.records.errors import ActionError

        if isinstance(error, ActionError | ImproperlyConfigured):
            print(f"accord: {getattr(error, 'message', str(error))}", file=sys.stderr)
            return EXIT_FAIL
        raise


if __name__ == "__main__":
    sys.exit(main())
