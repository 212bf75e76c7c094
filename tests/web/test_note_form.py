"""The web form for an information note: every problem at once, linked to its field, nothing lost; files attached
and offered for download; a role that does not publish notes is told so."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from accord.records.models import Record
from tests.conftest import World, client_for


def test_problems_are_listed_together_linked_to_their_fields_and_nothing_typed_is_lost(world: World) -> None:
    client = client_for(world.carol)
    response = client.post(
        "/records/new/note/", {"title": "", "text": "Water rising", "audience": "everyone", "tlp": "AMBER"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "2 things to fix: nothing was published" in page
    assert 'href="#field-title"' in page and 'href="#field-audience"' in page
    assert "TLP:AMBER is for the members named only" in page
    assert "Water rising" in page
    assert not Record.objects.filter(kind="note").exists()


def test_a_note_with_a_file_is_published_and_its_file_offered(world: World) -> None:
    client = client_for(world.carol)
    upload = SimpleUploadedFile("situation.csv", b"region,cases\nKZ-61,34\n", content_type="text/csv")
    response = client.post(
        "/records/new/note/",
        {
            "title": "Cholera figures",
            "text": "See the file",
            "language": "ru",
            "audience": "named",
            "members": ["KZ", "KG"],
            "tlp": "AMBER",
            "status": "exercise",
            "files": [upload],
        },
    )
    assert response.status_code == 302
    record = Record.objects.get(kind="note")
    version = record.current_version
    assert version is not None and version.tlp == "AMBER" and version.status == "exercise"
    assert version.body == {"title": "Cholera figures", "text": "See the file", "language": "ru"}
    page = client.get(response["Location"]).content.decode()
    assert "situation.csv" in page and f"/api/v1/records/{record.uuid}/attachments/situation.csv" in page
    shared = page.split('class="shared-with">', 1)[1].split("</p>", 1)[0]
    assert "Kazakhstan" in shared and "Kyrgyzstan" in shared and "China" not in shared
    download = client.get(f"/api/v1/records/{record.uuid}/attachments/situation.csv")
    assert download.status_code == 200 and download.content == b"region,cases\nKZ-61,34\n"
    assert client_for(world.alice).get(f"/records/{record.uuid}/").status_code == 404  # China was not named


def test_a_viewer_is_told_that_its_role_does_not_publish_notes(world: World) -> None:
    response = client_for(world.dave).post("/records/new/note/", {"title": "x", "audience": "everyone", "tlp": "GREEN"})
    assert response.status_code == 403 and "does not publish notes" in response.content.decode()
    assert not Record.objects.filter(kind="note").exists()
