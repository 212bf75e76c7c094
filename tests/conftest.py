"""Shared fixtures: a small world of named people, built through the action functions.

alice   focal point, CN ministry of health
bob     focal point, CN ministry of emergencies (same member as alice, other organisation)
carol   focal point, KZ ministry of health
dave    viewer,      KZ ministry of health (carol's colleague, may not publish)
sam     coordinator, SCO Secretariat
eve     focal point, RU ministry of health, disabled
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Keys and attachments of the test run live in a throw-away folder, never in var/.
# pytest-django has read the settings before this file is imported, so set the value there.
settings.DATA_DIR = Path(tempfile.mkdtemp(prefix="accord-test-"))
os.environ["ACCORD_DATA_DIR"] = str(settings.DATA_DIR)
# The static files are collected once (hashed names, compressed copies) into a folder every test process and
# every node started by a test shares; collected again only when their sources change (accord.web.static).
settings.STATIC_ROOT = Path(__file__).resolve().parent.parent / ".cache" / "test-static"
os.environ["ACCORD_STATIC_ROOT"] = str(settings.STATIC_ROOT)


def _live_server_serves_the_collection() -> None:
    """pytest-django's live server answers /static/ from the source folders (Django's finders), which know no
    hashed names; Django's own test handler answers from STATIC_ROOT, where they are collected."""
    import django.contrib.staticfiles.handlers
    from django.test.testcases import _StaticFilesHandler

    django.contrib.staticfiles.handlers.StaticFilesHandler = _StaticFilesHandler  # type: ignore[misc,assignment]


_live_server_serves_the_collection()

from accord.members import actions as member_actions  # noqa: E402
from accord.members.models import Account, Organisation  # noqa: E402

PASSWORD = "correct-horse-battery-staple"

_LIB = Path(__file__).parent / "lib"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of accord/lib (pure Python: CAP, detectors, outbound HTTP) never touch a database, so they run
    on the SQLite pass only: on the PostgreSQL pass they would run the same code again.

    The browser tests (marker `browser`: Chromium through Playwright) run on the SQLite pass only too: what they add
    to the Django test-client tests of the same pages is the browser (keyboard, 360 px, axe-core, scripts), which
    does not depend on the database; the pages' reads and writes run on both passes through those tests."""
    for item in items:
        if _LIB in item.path.parents or item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.sqlite_pass)


@dataclass
class World:
    alice: Account
    bob: Account
    carol: Account
    dave: Account
    sam: Account
    eve: Account
    cn_health: Organisation
    cn_emergency: Organisation
    kz_health: Organisation
    ru_health: Organisation
    secretariat: Organisation

    def everyone(self) -> dict[str, Account]:
        return {"alice": self.alice, "bob": self.bob, "carol": self.carol, "dave": self.dave, "sam": self.sam}


def _org(member: str, slug: str, kind: str) -> Organisation:
    return member_actions.create_organisation(member_code=member, slug=slug, kind=kind, name_en=slug, acting_user=None)


def _account(username: str, organisation: Organisation, role: str) -> Account:
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=[role],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's, then, before the test databases are dropped, a garbage collection: a database connection
    opened by a thread that has ended (the test ASGI server's, a stream's) can stay in a reference cycle, open,
    until the collector runs, and on PostgreSQL an open session stops the test database from being dropped
    ("is being accessed by other users")."""
    yield
    gc.collect()


@pytest.fixture(scope="session", autouse=True)
def _static_collected() -> None:
    from accord.web.static import ensure_collected

    ensure_collected()


@pytest.fixture(autouse=True)
def _no_language_left_behind() -> Iterator[None]:
    """A request through the test client activates its language in this thread (LocaleMiddleware does, and
    nothing undoes it), and code run afterwards in the same thread, like a worker's task called directly, would
    speak it: each test starts and ends in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_public_url_left_behind() -> None:
    """The node's stored public URL is cached for 10 s per process; a test's own (rolled back) must not leak."""
    from accord.members import site

    site.forget()


@pytest.fixture(autouse=True)
def _fast_hashing(settings: pytest.FixtureRequest) -> None:
    # Argon2 is the production hasher (tested in test_settings); MD5 keeps fixtures quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture
def world(db: None) -> World:
    cn_health = _org("CN", "cn-health", "health_ministry")
    cn_emergency = _org("CN", "cn-emergency", "emergency_ministry")
    kz_health = _org("KZ", "kz-health", "health_ministry")
    ru_health = _org("RU", "ru-health", "health_ministry")
    secretariat = _org("SCO", "sco-secretariat", "secretariat")
    eve = _account("eve", ru_health, "focal_point")
    member_actions.set_active(eve, False, acting_user=None)
    return World(
        alice=_account("alice", cn_health, "focal_point"),
        bob=_account("bob", cn_emergency, "focal_point"),
        carol=_account("carol", kz_health, "focal_point"),
        dave=_account("dave", kz_health, "viewer"),
        sam=_account("sam", secretariat, "coordinator"),
        eve=Account.objects.get(pk=eve.pk),
        cn_health=cn_health,
        cn_emergency=cn_emergency,
        kz_health=kz_health,
        ru_health=ru_health,
        secretariat=secretariat,
    )


@pytest.fixture
def data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR)


def client_for(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


@pytest.fixture
def token_for(world: World) -> Iterator[object]:
    def make(account: Account, scope: str = "write") -> str:
        _, text = member_actions.create_token(account, name="test", scope=scope, acting_user=None)
        return text

    yield make
