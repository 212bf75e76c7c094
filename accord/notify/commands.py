"""``accord subscription add|list|remove``: notification subscriptions, made and removed through the actions of
accord/notify/actions.py. accord/cli.py registers them (`add_commands`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from accord.lib.commands import EXIT_OK, CliError, Migrate, adder
from accord.members.commands import find_account

# The languages of notify.models.Language (models load only once Django is set up).
LANGUAGE_CODES = ["en", "zh-hans", "ru", "kk", "ky", "tg", "uz", "hi", "ur", "fa", "be"]


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``subscription add|list|remove``. `migrate` prepares the database (the CLI's)."""
    add = adder(common_parent, migrate)
    subscription = subparsers.add_parser("subscription", help="notification subscriptions").add_subparsers(
        dest="subscription_command", required=True
    )
    sub_add = add(
        "add", cmd_subscription_add, "subscribe an account (or organisation) by e-mail or webhook", subscription
    )
    owner = sub_add.add_mutually_exclusive_group(required=True)
    owner.add_argument("--username", help="the account that owns the subscription")
    owner.add_argument("--organisation", metavar="SLUG", help="an organisation that owns it (managed by its admins)")
    target = sub_add.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="URL", help="POST signed JSON here (Standard Webhooks)")
    target.add_argument("--email", metavar="ADDR", help="send e-mail here")
    sub_add.add_argument("--kind", action="append", default=[], help="record kind, e.g. alert; repeatable")
    sub_add.add_argument("--min-severity", choices=["Minor", "Moderate", "Severe", "Extreme"])
    sub_add.add_argument("--min-urgency", choices=["Past", "Future", "Expected", "Immediate"])
    sub_add.add_argument("--min-certainty", choices=["Unlikely", "Possible", "Likely", "Observed"])
    sub_add.add_argument("--member", action="append", default=[], help="origin member code; repeatable")
    sub_add.add_argument("--area-member", action="append", default=[], help="member whose territory the areas touch")
    sub_add.add_argument("--area", metavar="GEOJSON", help="a GeoJSON Polygon (or @FILE) the areas must touch")
    sub_add.add_argument("--category", action="append", default=[], help="CAP category, e.g. Health; repeatable")
    sub_add.add_argument("--event", action="append", default=[], help="CAP event, exact; repeatable")
    sub_add.add_argument("--disease", action="append", default=[], help="ICD code or name; repeatable")
    sub_add.add_argument("--status", action="append", default=[], choices=["actual", "exercise", "test"])
    sub_add.add_argument("--mode", choices=["immediate", "hourly", "daily"], default="immediate")
    sub_add.add_argument("--immediate-severity", choices=["Minor", "Moderate", "Severe", "Extreme"])
    sub_add.add_argument("--language", choices=LANGUAGE_CODES, help="of the messages (default: by member)")
    sub_add.add_argument("--name", default="")
    sub_list = add("list", cmd_subscription_list, "list subscriptions as JSON lines", subscription)
    sub_list.add_argument("--username", help="only this account's")
    sub_remove = add("remove", cmd_subscription_remove, "remove a subscription by id", subscription)
    sub_remove.add_argument("id", metavar="ID")


def _split(values: Iterable[str], upper: bool = False) -> list[str]:
    found = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return [part.upper() for part in found] if upper else found


def _subscription_info(subscription: Any) -> dict[str, Any]:
    channels = [
        {
            "id": str(c.uuid),
            "kind": c.kind,
            "target": c.target,
            "language": c.language,
            "disabled": c.disabled_at is not None,
            **({"disabled_reason": c.disabled_reason} if c.disabled_at is not None else {}),
        }
        for c in subscription.channels.all()
    ]
    return {
        "id": str(subscription.uuid),
        "owner": subscription.account.username if subscription.account else None,
        "organisation": subscription.organisation.slug if subscription.organisation else None,
        "name": subscription.name,
        "active": subscription.active,
        "mode": subscription.mode,
        "immediate_severity": subscription.immediate_severity or None,
        "kinds": subscription.kinds,
        "members": subscription.origin_members,
        "categories": subscription.categories,
        "events": subscription.events,
        "diseases": subscription.diseases,
        "statuses": subscription.statuses,
        "min_severity": subscription.min_severity or None,
        "min_urgency": subscription.min_urgency or None,
        "min_certainty": subscription.min_certainty or None,
        "area_members": subscription.area_members,
        "area": subscription.area,
        "channels": channels,
    }


def cmd_subscription_add(args: argparse.Namespace, migrate: Migrate) -> int:
    from django.db import transaction

    from accord.members.models import Organisation
    from accord.notify import actions

    migrate()
    account = find_account(args.username) if args.username else None
    organisation = None
    if args.organisation:
        organisation = Organisation.objects.select_related("member").filter(slug=args.organisation).first()
        if organisation is None:
            raise CliError(f"no organisation {args.organisation!r}")
    area = None
    if args.area:
        text = args.area
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as error:
                raise CliError(f"cannot read {text[1:]}: {error.strerror}") from None
        try:
            area = json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(f"--area is not JSON: {error}") from None
        if isinstance(area, dict) and area.get("type") == "Feature":
            area = area.get("geometry")
    filters = actions.Filters(
        kinds=_split(args.kind),
        origin_members=_split(args.member, upper=True),
        categories=_split(args.category),
        events=args.event,
        diseases=_split(args.disease),
        statuses=args.status,
        min_severity=args.min_severity or "",
        min_urgency=args.min_urgency or "",
        min_certainty=args.min_certainty or "",
        area_members=_split(args.area_member, upper=True),
        area=area,
    )
    with transaction.atomic():
        channel = actions.create_channel(
            kind="webhook" if args.webhook else "email",
            target=args.webhook or args.email,
            account=account,
            organisation=organisation,
            language=args.language,
            acting_user=None,
        )
        subscription = actions.create_subscription(
            channels=[channel],
            filters=filters,
            account=account,
            organisation=organisation,
            mode=args.mode,
            immediate_severity=args.immediate_severity or "",
            name=args.name,
            acting_user=None,
        )
    result = {
        "id": str(subscription.uuid),
        "channel": str(channel.uuid),
        "kind": channel.kind,
        "target": channel.target,
    }
    if channel.secret:
        result["secret"] = channel.secret
    print(json.dumps(result))
    return EXIT_OK


def cmd_subscription_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.notify.models import Subscription

    migrate()
    query = Subscription.objects.select_related("account", "organisation").prefetch_related("channels")
    if args.username:
        query = query.filter(account=find_account(args.username))
    for subscription in query.order_by("id"):
        print(json.dumps(_subscription_info(subscription)))
    return EXIT_OK


def cmd_subscription_remove(args: argparse.Namespace, migrate: Migrate) -> int:
    import uuid

    from accord.notify import actions
    from accord.notify.models import Subscription

    migrate()
    try:
        key = uuid.UUID(args.id)
    except ValueError:
        raise CliError(f"{args.id!r} is not a subscription id (a UUID, as `accord subscription list` shows)") from None
    subscription = Subscription.objects.select_related("account", "organisation").filter(uuid=key).first()
    if subscription is None:
        raise CliError(f"no subscription {args.id}")
    actions.remove_subscription(subscription, acting_user=None)
    print(json.dumps({"removed": str(key)}))
    return EXIT_OK
