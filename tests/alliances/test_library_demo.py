"""The library's demo (`accord demo`): documents in each alliance's library with a PDF each, and a legal register
entry per SCO member state, every one marked demo; loaded once."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.alliances import library_demo
from accord.alliances.library_files import PDF, sniff
from accord.alliances.library_models import LegalInstrumentView, LibraryDocumentView
from accord.members.demo import load_demo
from accord.members.models import Account, Member


@pytest.mark.django_db
def test_the_demo_fills_the_library_and_the_register_once() -> None:
    load_demo()
    documents = LibraryDocumentView.objects.all()
    assert documents.count() == len(library_demo.DOCUMENTS)
    assert {d.alliance for d in documents} == {"medicine", "law", "agriculture"}
    assert all("demo" in d.title.lower() and d.files == 1 for d in documents)
    states = set(Member.objects.filter(kind=Member.Kind.STATE).values_list("code", flat=True))
    entries = LegalInstrumentView.objects.all()
    assert {e.member for e in entries} == states and entries.count() == len(states)
    for entry in entries:
        body = entry.version.body
        assert "fictional" in body["citation"] and body["link"].startswith("https://example.org/")
    assert library_demo.load(None) == 0  # once (the demo's accounts are found by name)

    client = Client()
    client.force_login(Account.objects.get(username="pk.health"))
    found = client.get("/api/v1/library", {"q": "бруцеллёза"}).json()
    assert found["count"] == 1
    download = client.get(found["items"][0]["files"][0]["url"])
    assert download.status_code == 200 and sniff(download.content) == PDF
    page = client.get("/legal-register/").content.decode()
    assert page.count('class="legal-entry ') == len(states)
