"""The other file a person hands this node: an alert's CAP document, kept byte for byte as an attachment. It is
bounded like an upload of counts: at most ACCORD_MAX_BODY_BYTES, read by the hardened parser (no DTD, no
entities, libxml2's depth limit), a 4xx when refused and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accord.records.models import AuditEntry, Version
from tests.surveillance.conftest import People

CAP = b'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'


@pytest.mark.parametrize(
    ("document", "status", "said"),
    [
        (CAP + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</alert>", 400, "Excessive depth"),
        (CAP + b"<note>" + b"x" * 2 * 1_048_576 + b"</note></alert>", 413, "accepts at most 1048576 bytes"),
        (
            b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            + CAP[21:]
            + b"<note>&b;</note></alert>",
            400,
            "entity declarations are not accepted",
        ),
    ],
    ids=["deep", "large", "entities"],
)
def test_a_hostile_cap_attachment_is_refused_and_nothing_is_stored(
    document: bytes, status: int, said: str, people: People, token_for: Any
) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.carol)}")
    before = (Version.objects.count(), AuditEntry.objects.count())
    response = client.post("/api/v1/alerts", document, content_type="application/cap+xml")
    assert response.status_code == status, response.content[:500]
    assert len(response.content) < 65_536
    assert said in response.json()["detail"]
    assert (Version.objects.count(), AuditEntry.objects.count()) == before
