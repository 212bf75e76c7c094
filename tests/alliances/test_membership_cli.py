"""`accord organisation add` as a user runs it (a separate process on a node of its own): a university joins the
node with its type and an account of it is added; a bad slug, an unknown member, an unknown type
and a duplicate are refused with a message, and nothing is added.

(Applying to an alliance with such an account is tested through the API in test_membership_api.)"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import new_node


def test_organisation_add_good_and_bad_input(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        added = node.run(
            "organisation",
            "add",
            "--slug",
            "kz-demo-agrarian",
            "--member",
            "kz",
            "--type",
            "university",
            "--name",
            "Demo Agrarian University",
            "--name-ru",
            "Демо-аграрный университет",
        )
        described = json.loads(added.stdout)
        assert described == {
            "slug": "kz-demo-agrarian",
            "member": "KZ",
            "type": "university",
            "name": "Demo Agrarian University",
            "name_zh": "",
            "name_ru": "Демо-аграрный университет",
        }

        def refused(*args: str) -> str:
            result = node.run("organisation", "add", *args, check=False)
            assert result.returncode != 0, result.stdout
            return result.stderr

        good = ("--member", "KZ", "--type", "institute", "--name", "Demo Institute")
        assert "slug" in refused("--slug", "Not A Slug!", *good)
        assert "'XX'" in refused("--slug", "xx-demo", "--member", "XX", "--type", "institute", "--name", "X")
        assert "exists already" in refused("--slug", "kz-demo-agrarian", *good)
        assert "invalid choice" in refused(
            "--slug", "kz-demo-space", "--member", "KZ", "--type", "spaceport", "--name", "S"
        )
        listed = json.loads(node.run("organisation", "list", "--json").stdout)
        assert [o["slug"] for o in listed] == ["kz-demo-agrarian"]

        # Its accounts are added to it by its slug, as for any organisation.
        node.run(
            "account", "add", "--username", "aigul", "--member", "KZ", "--organisation", "kz-demo-agrarian",
            "--role", "expert", "--password-stdin", stdin="a-long-enough-password\n",
        )  # fmt: skip
        accounts = [json.loads(line) for line in node.run("account", "list", "--json").stdout.splitlines()]
        assert [(a["username"], a["organisation"]) for a in accounts] == [("aigul", "kz-demo-agrarian")]
