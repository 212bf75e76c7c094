"""`accord alert import` over the bulk path: files, directories, feeds (files and URLs), exit codes, --json."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accord.cli import main
from accord.lib import cap as caplib
from accord.records.models import Version
from tests.alerts.support import cap_xml
from tests.conftest import World


def _alert(n: int) -> bytes:
    return cap_xml(identifier=f"KZ-MOH-CLI-{n:04d}")


def _atom(*, embedded: list[bytes], links: list[str]) -> bytes:
    entries = [
        f"<entry><id>urn:e{n}</id><title>t</title><updated>2026-11-27T10:00:00Z</updated>"
        f'<content type="text/xml">{doc.decode().split("?>", 1)[1]}</content></entry>'
        for n, doc in enumerate(embedded)
    ] + [
        f"<entry><id>urn:l{n}</id><title>t</title><updated>2026-11-27T10:00:00Z</updated>"
        f'<link href="{link}" type="application/cap+xml"/></entry>'
        for n, link in enumerate(links)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:feed</id><title>f</title><updated>2026-11-27T10:00:00Z</updated>" + "".join(entries) + "</feed>"
    ).encode()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["alert", "import", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_files_and_directories_with_a_json_report(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "archive"
    (folder / "2026").mkdir(parents=True)
    for n in range(3):
        (folder / "2026" / f"a{n}.xml").write_bytes(_alert(n))
    (folder / ".hidden.xml").write_bytes(b"not looked at")
    single = tmp_path / "single.xml"
    single.write_bytes(_alert(9))
    code, out, _ = _run(capsys, str(folder), str(single), "--as", "carol", "--json", "--workers", "1")
    assert code == 0
    report = json.loads(out)
    assert (report["stored"], report["duplicate"], report["invalid"]) == (4, 0, 0)
    assert [item["source"] for item in report["items"]][-1] == str(single)
    code, out, _ = _run(capsys, str(folder), str(single), "--as", "carol")
    assert code == 0 and "nothing new" in out


def test_exit_status_says_whether_anything_was_stored(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(_alert(1))
    bad.write_bytes(b"<!DOCTYPE x [<!ENTITY a 'b'>]><alert/>")
    code, _, err = _run(capsys, str(good), str(bad), "--as", "carol")
    assert code == 3 and f"{bad}: not imported" in err and "CAP-XML-DTD" in err
    code, _, _ = _run(capsys, str(bad), "--as", "carol")
    assert code == 1
    code, _, err = _run(capsys, str(tmp_path / "missing.xml"), "--as", "carol")
    assert code == 2 and "no such file" in err
    code, _, _ = _run(capsys, str(good), "--audience", "KZ", "--as", "carol")
    assert code == 2
    assert Version.objects.filter(kind="alert").count() == 1


def test_a_feed_file_imports_its_embedded_alerts(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.atom"
    feed.write_bytes(_atom(embedded=[_alert(1), _alert(2)], links=["https://example.invalid/x.xml"]))
    assert caplib.validate(feed.read_bytes()).kind == "atom-feed"
    code, out, err = _run(capsys, str(feed), "--as", "carol", "--json")
    assert code == 0, err
    assert [i["source"] for i in json.loads(out)["items"]] == [f"{feed}#1", f"{feed}#2"]
    assert "1 linked alerts were not fetched" in err


@pytest.fixture
def cap_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, bytes]]]:
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def test_a_feed_by_url_and_the_alerts_it_links_to(
    world: World, cap_server: tuple[str, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, pages = cap_server
    pages["/a3.xml"] = _alert(3)
    pages["/feed.atom"] = _atom(embedded=[_alert(1)], links=[f"{base}/a3.xml"])
    code, out, err = _run(capsys, f"{base}/feed.atom", "--as", "carol", "--json")
    assert code == 0, err
    assert [i["outcome"] for i in json.loads(out)["items"]] == ["stored", "stored"]
    code, _, err = _run(capsys, f"{base}/missing.xml", "--as", "carol")
    assert code == 2 and "HTTP 404" in err
