"""The command line keeps the account rules of the web pages: the node's last administrator cannot be disabled,
and ACCORD_PASSWORD_RESET_SECONDS is parsed strictly. Starts `accord` processes, so it runs on one pass only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import new_node


@pytest.mark.sqlite_pass
def test_the_last_administrator_cannot_be_disabled_from_the_command_line(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.run("account", "add", "--username", "boss", "--member", "SCO", "--role", "admin")
        refused = node.run("account", "disable", "--username", "boss", check=False)
        assert refused.returncode == 1
        assert "last active administrator" in refused.stderr
        node.run("account", "add", "--username", "deputy", "--member", "SCO", "--role", "admin")
        assert node.run("account", "disable", "--username", "boss").returncode == 0
        assert node.sql("SELECT is_active FROM members_account WHERE username = 'boss'") in ([(0,)], [(False,)])


@pytest.mark.sqlite_pass
def test_the_password_link_lifetime_is_parsed_strictly(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.extra_env = {"ACCORD_PASSWORD_RESET_SECONDS": "10"}
        result = node.run("node", "show", check=False)
        assert result.returncode == 1 and "ACCORD_PASSWORD_RESET_SECONDS" in result.stderr
        node.extra_env = {"ACCORD_PASSWORD_RESET_SECONDS": "an hour"}
        assert (
            "ACCORD_PASSWORD_RESET_SECONDS='an hour' is not a whole number"
            in node.run("node", "show", check=False).stderr
        )
        node.extra_env = {"ACCORD_PASSWORD_RESET_SECONDS": "7200"}
        assert node.run("node", "show").returncode == 0
