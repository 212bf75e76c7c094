"""No input, however hostile, makes the alert API answer 5xx or store anything it refused."""

from __future__ import annotations

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.members import actions as member_actions
from accord.records.models import Version
from tests.alerts.support import cap_xml
from tests.conftest import World

VALID = cap_xml()


def _mutations() -> st.SearchStrategy[bytes]:
    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(VALID)
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["flip", "cut", "insert"]))
            if action == "flip":
                data[position] = draw(st.integers(0, 255))
            elif action == "cut":
                del data[position : position + draw(st.integers(1, 40))]
            else:
                data[position:position] = draw(
                    st.sampled_from([b"<", b"&", b"]]>", b"<!ENTITY a 'b'>", b"\x00", b"\xff"])
                )
            if not data:
                break
        return bytes(data)

    return mutate()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(st.binary(max_size=400), _mutations()))
def test_random_and_mutated_documents_never_cause_a_5xx(world: World, document: bytes) -> None:
    token = member_actions.create_token(world.carol, name="fuzz", acting_user=None)[1]
    before = Version.objects.count()
    response = Client().post(
        "/api/v1/alerts",
        data=document,
        content_type="application/cap+xml",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (201, 400, 403, 409), (response.status_code, response.content[:300])
    if response.status_code != 201:
        assert Version.objects.count() == before
        assert response.json()["detail"]
