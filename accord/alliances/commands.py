"""The `accord alliance` subcommands: `list` (the alliances, their councils and members) and `council` (add and
remove the organisations that steer an alliance on this node; see docs/alliances.md)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from accord.lib.commands import EXIT_OK, Migrate, adder


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``alliance list`` and ``alliance council``."""
    add = adder(common_parent, migrate)
    alliance = subparsers.add_parser("alliance", help="university alliances: councils").add_subparsers(
        dest="alliance_command", required=True
    )
    listing = add("list", cmd_list, "list the alliances with their councils and member organisations", alliance)
    listing.add_argument("--json", action="store_true")
    council = add("council", cmd_council, "add or remove organisations of an alliance's council", alliance)
    council.add_argument("--alliance", required=True, help="medicine, law or agriculture")
    council.add_argument("--add", action="append", default=[], metavar="ORG", help="organisation slug; repeatable")
    council.add_argument("--remove", action="append", default=[], metavar="ORG", help="organisation slug; repeatable")


def describe(alliance: Any) -> dict[str, Any]:
    from accord.alliances.membership_models import Membership

    members = Membership.objects.filter(alliance=alliance.slug, state="member").values_list("organisation", flat=True)
    return {
        "slug": alliance.slug,
        "name": alliance.name_en,
        "council": sorted(o.slug for o in alliance.council.all()),
        "members": sorted(members),
    }


def cmd_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.alliances.models import Alliance

    migrate()
    found = [describe(a) for a in Alliance.objects.prefetch_related("council").order_by("slug")]
    if args.json:
        print(json.dumps(found))
        return EXIT_OK
    for info in found:
        print(f"{info['slug']:12} council: {', '.join(info['council']) or '-'}; members: {len(info['members'])}")
    return EXIT_OK


def cmd_council(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.alliances import membership_actions
    from accord.alliances.models import Alliance

    migrate()
    _council, changed = membership_actions.set_council(
        args.alliance, add=args.add, remove=args.remove, acting_user=None
    )
    for change in changed:
        print(
            f"the membership of {change['organisation']} is now {change['after']} (was {change['before'] or 'none'})",
            file=sys.stderr,
        )
    print(json.dumps({**describe(Alliance.objects.get(slug=args.alliance)), "changed": changed}))
    return EXIT_OK
