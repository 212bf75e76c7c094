"""Versions of library documents and legal register entries received from a peer node: they fill the same query
tables as those issued here (listed, searched, downloaded), within their audience; a version that breaks a kind's
rule, or speaks for a member its node may not speak for, is quarantined and shown nowhere."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from accord.alliances.library_models import LegalInstrumentView, LibraryDocumentView
from accord.lib import canonical
from accord.records import actions
from accord.records import attachments as attachment_store
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import QuarantinedVersion
from tests.alliances.library_support import HTML, PDF, pdf_bytes, token_client
from tests.conftest import World
from tests.response.peers import Peer, make_peer


def _document(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alliance": "agriculture",
        "type": "report",
        "title": {"ru": "Ящур в приграничных районах", "en": "Foot-and-mouth disease in border districts"},
        "abstract": {"ru": "Отчёт о вспышках ящура у крупного рогатого скота."},
        "tags": ["FMD"],
        "languages": ["ru"],
        "date": "2024",
        "authors": "Demo authors",
        "publisher": {"slug": "ru-peer-agri", "member": "RU"},
    }
    body.update(changes)
    return body


def _send(
    peer: Peer,
    kind: str,
    body: dict[str, Any],
    *,
    files: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    audience: Audience | None = None,
    tlp: str = "GREEN",
    record: uuid.UUID | None = None,
    seq: int = 1,
    prev_hash: str | None = None,
    state: str = "active",
) -> actions.IngestResult:
    """Sign a version as the peer (its files stored here first, as federation fetches them) and ingest it."""
    described = []
    for name, media_type, data in files:
        described.append(
            {"name": name, "media_type": media_type, "sha256": attachment_store.store_bytes(data), "size": len(data)}
        )
    envelope = build_envelope(
        kind=kind,
        origin={
            "node": str(peer.node_id),
            "member": peer.member,
            "organisation": str(uuid.uuid4()),
            "account": str(uuid.uuid4()),
        },
        record=record or uuid.uuid4(),
        seq=seq,
        prev_hash=prev_hash,
        status="actual",
        state=state,
        audience=audience or Audience(everyone=True),
        tlp=tlp,
        body=body,
        attachments=described,
        reason="withdrawn by the peer" if state == "withdrawn" else None,
    )
    data, _ = encode(envelope)
    return actions.ingest(data, canonical.sign(peer.key, data), peer.kid, source="test")


def test_a_peers_document_is_listed_searched_and_downloaded(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    data = pdf_bytes("FMD report")
    result = _send(peer, "library_document", _document(), files=[("fmd.pdf", "text/html", data)])
    assert result.outcome == "stored"
    view = LibraryDocumentView.objects.get(record__uuid=result.version.record_uuid)  # type: ignore[union-attr]
    assert view.alliance == "agriculture" and view.member == "RU" and view.files == 1 and view.active
    carol = token_client(token_for(world.carol))
    found = carol.get("/api/v1/library", {"q": "ящура", "alliance": "agriculture"}).json()
    assert found["count"] == 1
    [item] = found["items"]
    assert item["node"] == str(peer.node_id)
    download = carol.get(item["files"][0]["url"])
    assert download.status_code == 200 and download.content == data
    # the peer said text/html: what is served is what the bytes are
    assert download["Content-Type"] == PDF
    assert download["Content-Disposition"].startswith("attachment")


def test_a_peers_file_that_is_no_document_is_served_as_bytes_only(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    result = _send(peer, "library_document", _document(), files=[("page.pdf", "application/pdf", HTML)])
    assert result.outcome == "stored"
    carol = token_client(token_for(world.carol))
    download = carol.get(f"/api/v1/documents/{result.version.record_uuid}/files/page.pdf")  # type: ignore[union-attr]
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Digest"] == "sha-256=" + __import__("base64").b64encode(hashlib.sha256(HTML).digest()).decode()


def test_a_peers_document_outside_the_readers_audience_is_not_found(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    result = _send(peer, "library_document", _document(), audience=Audience(members=["RU", "CN"]), tlp="AMBER")
    assert result.outcome == "stored"
    record = result.version.record_uuid  # type: ignore[union-attr]
    carol = token_client(token_for(world.carol))  # KZ
    assert carol.get(f"/api/v1/documents/{record}").status_code == 404
    assert carol.get("/api/v1/library", {"q": "ящур"}).json()["count"] == 0
    alice = token_client(token_for(world.alice))  # CN
    assert alice.get("/api/v1/library", {"q": "ящур"}).json()["count"] == 1


def test_a_peers_withdrawal_unlists_the_document(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    first = _send(peer, "library_document", _document())
    assert first.version is not None
    second = _send(
        peer,
        "library_document",
        _document(),
        record=first.version.record_uuid,
        seq=2,
        prev_hash=first.version.content_hash,
        state="withdrawn",
    )
    assert second.outcome == "stored"
    carol = token_client(token_for(world.carol))
    assert carol.get("/api/v1/library").json()["count"] == 0
    assert carol.get(f"/api/v1/documents/{first.version.record_uuid}").json()["state"] == "withdrawn"


def test_a_peers_versions_that_break_the_rules_are_quarantined(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    bad = [
        _send(peer, "library_document", _document(alliance="nowhere")),
        _send(peer, "library_document", _document(languages=["xx"])),
        # a document published for another member than the node's
        _send(peer, "library_document", _document(publisher={"slug": "cn-peer", "member": "CN"})),
        # a register entry for another member than the node's
        _send(peer, "legal_instrument", _instrument(member="CN")),
        _send(peer, "legal_instrument", _instrument(link="file:///etc/passwd")),
    ]
    assert [r.outcome for r in bad] == ["quarantined"] * len(bad)
    assert QuarantinedVersion.objects.count() == len(bad)
    assert not LibraryDocumentView.objects.exists() and not LegalInstrumentView.objects.exists()
    carol = token_client(token_for(world.carol))
    assert carol.get("/api/v1/library").json()["count"] == 0
    assert carol.get("/api/v1/legal-register").json()["count"] == 0


def _instrument(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "member": "RU",
        "title": "Федеральный закон о карантине (демо)",
        "original_language": "ru",
        "adopted": "2020-01-01",
        "status": "in_force",
        "citation": "Demo RU-Q",
        "topics": ["quarantine"],
    }
    body.update(changes)
    return body


def test_a_peers_register_entry_fills_the_register(world: World, token_for: Any) -> None:
    peer = make_peer("RU")
    first = _send(peer, "legal_instrument", _instrument())
    assert first.outcome == "stored" and first.version is not None
    carol = token_client(token_for(world.carol))
    listed = carol.get("/api/v1/legal-register", {"member": "RU", "topic": "quarantine"}).json()
    assert listed["count"] == 1 and listed["items"][0]["node"] == str(peer.node_id)
    # a later version that changes the member is quarantined (an entry keeps its member)
    moved = _send(
        peer,
        "legal_instrument",
        _instrument(member="KZ"),
        record=first.version.record_uuid,
        seq=2,
        prev_hash=first.version.content_hash,
    )
    assert moved.outcome == "quarantined"
    revised = _send(
        peer,
        "legal_instrument",
        _instrument(status="repealed"),
        record=first.version.record_uuid,
        seq=2,
        prev_hash=first.version.content_hash,
    )
    assert revised.outcome == "stored"
    assert carol.get("/api/v1/legal-register", {"status": "repealed"}).json()["count"] == 1


def test_a_secretariat_node_may_write_any_members_entry(world: World, token_for: Any) -> None:
    hub = make_peer("SCO")
    result = _send(hub, "legal_instrument", _instrument(member="TJ", original_language="tg"))
    assert result.outcome == "stored"
    assert LegalInstrumentView.objects.get(record__uuid=result.version.record_uuid).member == "TJ"  # type: ignore[union-attr]
