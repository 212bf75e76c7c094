"""Static files: collected with hashed names and compressed copies, served by ServeStatic through the ASGI
handler (as `accord serve` serves them) with a long immutable cache, compressed, and with the security headers."""

from __future__ import annotations

import re
import warnings

import pytest
from asgiref.sync import async_to_sync
from django.http.response import HttpResponseBase
from django.test import AsyncClient, Client

from accord.web import static

pytestmark = pytest.mark.django_db

HASHED = re.compile(r"/static/accord/accord\.([0-9a-f]{12})\.css")


def _hashed_css() -> str:
    page = Client().get("/login/")
    assert page.status_code == 200
    found = HASHED.search(page.content.decode())
    assert found, "the login page does not link the hashed style sheet"
    return found.group(0)


def test_pages_link_hashed_names_and_the_collection_is_current() -> None:
    assert static.is_collected()
    assert static.ensure_collected() is False  # current: nothing collected again
    css = _hashed_css()
    assert "/static/accord/accord.css" not in Client().get("/login/").content.decode()
    assert css.endswith(".css")


def through_asgi(path: str, **headers: str) -> tuple[HttpResponseBase, bytes]:
    """GET through Django's ASGI handler (as uvicorn runs it), the body read as an ASGI server reads it."""

    async def get() -> tuple[HttpResponseBase, bytes]:
        response = await AsyncClient().get(path, headers=headers)
        content = getattr(response, "streaming_content", None)
        body = b"".join([bytes(chunk) async for chunk in content]) if content is not None else response.content
        return response, body

    return async_to_sync(get)()


def test_hashed_files_are_cached_for_ever_and_served_compressed() -> None:
    css = _hashed_css()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gzipped, body = through_asgi(css, **{"Accept-Encoding": "gzip"})
        brotli, _ = through_asgi(css, **{"Accept-Encoding": "gzip, br"})
        plain, _ = through_asgi(css)
        unhashed, _ = through_asgi("/static/accord/accord.css")
    assert [str(w.message) for w in caught if "iterator" in str(w.message)] == []
    assert gzipped.status_code == 200 and gzipped["Content-Encoding"] == "gzip"
    assert body[:2] == b"\x1f\x8b"  # the gzip magic number
    assert gzipped["Cache-Control"] == "max-age=315360000, public, immutable"
    assert "Accept-Encoding" in gzipped["Vary"]
    assert gzipped["Content-Type"].startswith("text/css")
    assert brotli["Content-Encoding"] == "br" and "immutable" in brotli["Cache-Control"]
    assert "Content-Encoding" not in plain and int(plain["Content-Length"]) > int(gzipped["Content-Length"])
    # The unhashed name still answers (a link naming the file directly), with a short cache.
    assert unhashed.status_code == 200 and unhashed["Cache-Control"] == "max-age=60, public"
    for response in (gzipped, brotli, plain, unhashed):
        assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "nonce" not in policy
        assert "camera=()" in response["Permissions-Policy"] and response["Referrer-Policy"] == "same-origin"


def test_the_api_documentation_assets_are_served_compressed_from_this_node() -> None:
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    text = page.content.decode()
    assert "cdn" not in text.lower() and "https://" not in text
    bundle = re.search(r"/static/ninja/swagger-ui-bundle\.[0-9a-f]{12}\.js", text)
    assert bundle, text
    response, _ = through_asgi(bundle.group(0), **{"Accept-Encoding": "br"})
    assert response.status_code == 200 and response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"]


def test_an_unknown_static_file_is_a_404_page() -> None:
    assert Client().get("/static/accord/no-such-file.9999aaaabbbb.css").status_code == 404
