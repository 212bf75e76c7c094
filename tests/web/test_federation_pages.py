"""The federation pages: origin and signature status on record and alert pages, and the admin's federation page.

In-process tests with Django's test client, and one browser test (Chromium through Playwright, like
tests/web/test_browser.py) in which an admin logs in and opens the federation page from the navigation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.alerts import actions as alert_actions
from accord.federation import actions as federation
from accord.federation.models import FederationEvent, Peer
from accord.federation.protocol import encode_cursor, log_event
from accord.federation.web import signature_status
from accord.lib import canonical
from accord.members import actions as member_actions
from accord.members.models import Account, NodeKey
from accord.records import actions
from accord.records.actions import this_node
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import AuditEntry, QuarantinedVersion, Version
from tests.alerts.support import cap, info
from tests.conftest import PASSWORD, World, client_for

EVERYONE = Audience(everyone=True)
PAGE = "/admin/federation/"


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _admin(world: World) -> Account:
    found = Account.objects.filter(roles__role="admin").first()
    if found is not None:
        return found
    return member_actions.create_account(
        username="root",
        organisation=world.secretariat,
        roles=["admin"],
        email="root@sco.example",
        password=PASSWORD,
        acting_user=None,
    )


@dataclass
class Remote:
    """Another node: its signing key and the peer row this node's admin made for it."""

    key: Any
    kid: str
    peer: Peer

    def sign_note(self, title: str, created_at: str = "2026-11-27T10:00:00Z") -> Version:
        data, _ = encode(
            build_envelope(
                kind="note",
                origin={"node": str(self.peer.node_id), "member": "KZ", "organisation": None, "account": None},
                record=uuid.uuid4(),
                seq=1,
                prev_hash=None,
                status="actual",
                state="active",
                audience=EVERYONE,
                tlp="GREEN",
                body={"title": title},
                attachments=[],
                created_at=created_at,
            )
        )
        result = actions.ingest(data, canonical.sign(self.key, data), self.kid, source="test")
        assert result.version is not None
        return result.version


def _remote(admin: Account, name: str = "kz-node") -> Remote:
    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    peer = federation.add_peer(
        name=name,
        node_id=str(uuid.uuid4()),
        public_key=public,
        member="KZ",
        url="https://kz.accord.example",
        acting_user=admin,
    )
    return Remote(key=key, kid=canonical.key_id(public), peer=peer)


# ---- signature status -------------------------------------------------------------------------------------


def test_a_local_record_shows_its_origin_and_a_verified_signature_until_the_signature_is_altered(
    world: World,
) -> None:
    version = actions.publish(
        "note", {"title": "Mudflow near Almaty"}, audience=EVERYONE, tlp="GREEN", acting_user=world.alice
    )
    node = actions.this_node()
    carol = client_for(world.carol)
    page = _html(carol.get(f"/records/{version.record_uuid}/"))
    assert "Signature verified" in page and "NOT verified" not in page
    assert f"<code>{node.node_id}</code>" in page and "this node" in page
    assert "<bdi>China</bdi> (CN)" in page

    other = canonical.sign(canonical.generate_private_key(), b"other bytes")
    Version.objects.filter(pk=version.pk).update(signature=other)
    page = _html(carol.get(f"/records/{version.record_uuid}/"))
    assert "Signature verified" not in page
    assert "Signature NOT verified: the signature does not match the stored version" in page

    carol.cookies["django_language"] = "ru"
    page = _html(carol.get(f"/records/{version.record_uuid}/"))
    assert "Подпись НЕ проверена: подпись не соответствует хранящейся версии" in page


def test_the_signature_status_names_an_unknown_or_revoked_key(world: World) -> None:
    remote = _remote(_admin(world))
    version = remote.sign_note("Flood on the Ishim", created_at="2026-11-27T10:00:00Z")
    assert signature_status(version) == "verified"
    page = _html(client_for(world.alice).get(f"/records/{version.record_uuid}/"))
    assert "Signature verified" in page and "peer <bdi>kz-node</bdi>" in page and "this node" not in page
    assert f"<code>{remote.peer.node_id}</code>" in page and "<bdi>Kazakhstan</bdi> (KZ)" in page

    # A key revoked after the version was issued leaves it valid; revoked at or before, it does not.
    NodeKey.objects.filter(kid=remote.kid).update(revoked_at=datetime(2026, 11, 27, 10, 0, 1, tzinfo=UTC))
    assert signature_status(version) == "verified"
    NodeKey.objects.filter(kid=remote.kid).update(revoked_at=datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC))
    assert signature_status(version) == "revoked-key"
    page = _html(client_for(world.alice).get(f"/records/{version.record_uuid}/"))
    assert "Signature NOT verified: the key that signed it was revoked before the version was issued" in page

    # A key of another node does not sign for this one.
    mine = NodeKey.objects.filter(node_id=actions.this_node().node_id).first()
    assert mine is not None
    Version.objects.filter(pk=version.pk).update(sig_kid=mine.kid)
    assert signature_status(Version.objects.get(pk=version.pk)) == "unknown-key"
    Version.objects.filter(pk=version.pk).update(sig_kid="ed25519:0000000000000000")
    assert signature_status(Version.objects.get(pk=version.pk)) == "unknown-key"


def test_an_alert_page_shows_the_origin_and_signature(world: World) -> None:
    published = alert_actions.publish_alert(
        cap(info()), audience=Audience(members=["KZ", "CN"]), tlp="AMBER", acting_user=world.carol
    )
    alice = client_for(world.alice)
    page = _html(alice.get(f"/alerts/{published.version.record_uuid}/"))
    assert "Signature verified" in page and "this node" in page
    Version.objects.filter(pk=published.version.pk).update(signature=published.version.signature[::-1])
    page = _html(alice.get(f"/alerts/{published.version.record_uuid}/"))
    assert "Signature NOT verified" in page
    alice.cookies["django_language"] = "zh-hans"
    assert "签名未通过验证" in _html(alice.get(f"/alerts/{published.version.record_uuid}/"))


# ---- the admin's federation page --------------------------------------------------------------------------


def test_the_admin_sees_this_node_the_peers_the_log_and_the_quarantine(world: World) -> None:
    admin = _admin(world)
    remote = _remote(admin)
    quiet = _remote(admin, name="ru-node")
    federation.remove_peer(quiet.peer, acting_user=admin)
    first = actions.publish("note", {"title": "one"}, audience=EVERYONE, tlp="GREEN", acting_user=world.alice)
    actions.publish("note", {"title": "two"}, audience=EVERYONE, tlp="GREEN", acting_user=world.alice)
    actions.publish(
        "note", {"title": "cn only"}, audience=Audience(members=["CN"]), tlp="AMBER", acting_user=world.alice
    )
    # The peer has confirmed everything up to the first note: one entitled note is pending to it.
    Peer.objects.filter(pk=remote.peer.pk).update(
        served_cursor=encode_cursor(first.pk),
        pull_cursor="v1.NDI",
        remote_remaining=17,
        stored=5,
        refused=2,
        last_success_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        last_error="connection refused <b>by</b> kz",
        last_error_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
    )
    log_event("request.refused", "GET /federation/v1/feed: <script>alert(1)</script>", peer=remote.peer)
    log_event("pull.ok", "pulled 5 versions", peer=remote.peer, level="info")
    record = uuid.uuid4()
    QuarantinedVersion.objects.create(
        origin_node=remote.peer.node_id,
        record_uuid=record,
        seq=3,
        content_hash="sha256:" + "a" * 64,
        existing_hash="sha256:" + "b" * 64,
        canonical=b"{}",
        signature="c2ln",
        sig_kid=remote.kid,
        reason="equivocation: another version 3 is stored",
    )

    response = client_for(admin).get(PAGE)
    assert response.status_code == 200
    page = _html(response)
    node = actions.this_node()
    assert f"<code>{node.node_id}</code>" in page and node.name in page
    key = NodeKey.objects.get(node_id=node.node_id, active=True)
    assert f"<code>{key.kid}</code>" in page
    # The peers, with their state, cursor, lag, pending versions, counts and last error.
    assert 'data-peer="kz-node"' in page and 'data-peer="ru-node"' in page
    assert f"<code>{remote.peer.node_id}</code>" in page and "https://kz.accord.example" in page
    assert "<code>v1.NDI</code>" in page
    assert '<td class="lag">17</td>' in page
    assert '<td class="pending">1</td>' in page  # "two"; "cn only" is not for KZ
    assert '<td class="pending">—</td>' in page  # the removed peer is served nothing
    assert '<td class="stored">5</td>' in page and '<td class="refused">2</td>' in page
    assert "Removed" in page and "Active" in page
    assert "connection refused &lt;b&gt;by&lt;/b&gt; kz" in page
    # The log, newest first, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert page.index("pull.ok") < page.index("request.refused")
    assert FederationEvent.objects.count() == page.count('<tr class="event')
    # The quarantine.
    assert f"<code>{record}</code>" in page
    assert "sha256:" + "a" * 64 in page and "sha256:" + "b" * 64 in page
    assert "equivocation: another version 3 is stored" in page and "1 quarantined version<" in page
    # The navigation links the page for admins only.
    assert f'href="{PAGE}"' in page
    assert f'href="{PAGE}"' not in _html(client_for(world.alice).get("/records/"))


def test_the_page_is_translated(world: World) -> None:
    admin = _admin(world)
    _remote(admin)
    client = client_for(admin)
    client.cookies["django_language"] = "ru"
    page = _html(client.get(PAGE))
    assert "Партнёрские узлы" in page and "Журнал федерации" in page and "Версии в карантине" in page
    client.cookies["django_language"] = "zh-hans"
    page = _html(client.get(PAGE))
    assert "联合日志" in page and "没有被隔离的版本。" in page


def test_only_admins_and_coordinators_see_the_federation_page(world: World) -> None:
    _remote(_admin(world))
    for account in (world.alice, world.dave):
        response = client_for(account).get(PAGE)
        assert response.status_code == 403
        assert "kz-node" not in _html(response)
        assert "Only the administrators and coordinators of this node see its federation state." in _html(response)
    coordinator = _html(client_for(world.sam).get(PAGE))
    assert "kz-node" in coordinator and "Create an invitation" not in coordinator  # reads, does not act
    refused = client_for(world.sam).post("/admin/federation/peers/kz-node/revoke/", {"reason": "x"})
    assert refused.status_code == 403 and Peer.objects.get(name="kz-node").state == Peer.State.ACTIVE


def test_an_admin_invites_adds_and_revokes_peers_in_the_page(world: World) -> None:
    admin = _admin(world)
    client = client_for(admin)
    invited = _html(client.post("/admin/federation/invite/", {"hours": "48"}))
    token = invited.split('id="fed-invitation"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert token.startswith(federation.INVITATION_PREFIX)
    assert federation.read_invitation(token)["node_id"] == str(this_node().node_id)
    assert client.post("/admin/federation/invite/", {"hours": "0"}).status_code == 400
    damaged = client.post("/admin/federation/accept/", {"token": federation.INVITATION_PREFIX + "xyz"})
    assert damaged.status_code == 400 and "the invitation is damaged" in _html(damaged)
    key = canonical.generate_private_key()
    fields = {
        "name": "kg-node",
        "node_id": str(uuid.uuid4()),
        "public_key": canonical.public_key_b64(key),
        "member": "KG",
        "url": "https://kg.accord.example",
    }
    missing = client.post("/admin/federation/peers/add/", {**fields, "public_key": ""})
    assert missing.status_code == 400 and 'href="#fed-public_key"' in _html(missing) and "kg-node" in _html(missing)
    assert not Peer.objects.filter(name="kg-node").exists()
    added = client.post("/admin/federation/peers/add/", fields)
    assert added.status_code == 302 and Peer.objects.get(name="kg-node").member == "KG"
    assert AuditEntry.objects.filter(action="peer.add").exists()
    unexplained = client.post("/admin/federation/peers/kg-node/revoke/", {"reason": ""})
    assert unexplained.status_code == 400 and Peer.objects.get(name="kg-node").state == Peer.State.ACTIVE
    revoked = client.post("/admin/federation/peers/kg-node/revoke/", {"reason": "key leaked"})
    assert revoked.status_code == 302 and Peer.objects.get(name="kg-node").state == Peer.State.REVOKED
    assert AuditEntry.objects.filter(action="peer.revoke", data__reason="key leaked").exists()


def test_anonymous_visitors_are_sent_to_log_in(world: World) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={PAGE}"


# ---- in a browser -----------------------------------------------------------------------------------------


@pytest.fixture
def federated(transactional_db: None, world: World) -> Peer:
    """An admin and one peer, made before the browser starts (see tests/web/test_browser.py)."""
    return _remote(_admin(world)).peer


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.browser
def test_an_admin_logs_in_and_opens_the_peers_table(federated: Peer, live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="Federation").click()
    assert page.url == f"{live_server.url}{PAGE}"
    expect(page.locator("h1")).to_have_text("Federation")
    row = page.locator("table.peers tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(federated.name)
    expect(row.locator("td").nth(1)).to_have_text("KZ")
    expect(row.locator("td").nth(2)).to_contain_text(str(federated.node_id))
    expect(row.locator("td").nth(2)).to_contain_text(federated.url)
    expect(row.locator("td").nth(3)).to_have_text("Active")


def test_the_admin_page_shows_the_public_address_or_says_it_is_missing(world: World, settings: Any) -> None:
    admin = _admin(world)
    settings.ACCORD_PUBLIC_URL = ""
    page = client_for(admin).get(PAGE).content.decode()
    assert "Links point at localhost: set ACCORD_PUBLIC_URL" in page
    settings.ACCORD_PUBLIC_URL = "https://accord.example.kz"
    page = client_for(admin).get(PAGE).content.decode()
    assert '<dd id="public-url"><code>https://accord.example.kz</code>' in page and "from ACCORD_PUBLIC_URL" in page
