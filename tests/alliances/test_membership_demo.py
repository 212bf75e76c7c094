"""The demo's memberships (`accord demo`): every demo university or institute applied to its alliance and was
accepted by a council organisation or the Secretariat's coordinator, but one left pending; a second load issues
nothing."""

from __future__ import annotations

import pytest

from accord.alliances import membership_queries as queries
from accord.alliances.demo import ORGANISATIONS
from accord.alliances.membership_models import Membership
from accord.members.demo import load_demo
from accord.records.models import Record

pytestmark = pytest.mark.django_db

KINDS = ("alliance_application", "alliance_decision", "alliance_departure")


def test_the_demo_memberships_and_a_second_load_issues_nothing() -> None:
    load_demo()
    states = {(m.alliance, m.organisation): m.state for m in Membership.objects.all()}
    assert states == {
        (alliance, slug): "pending" if slug == "pk-demo-vet" else "member"
        for slug, _m, _k, _en, _zh, _ru, alliance, _c in ORGANISATIONS
    }
    assert queries.member_codes("medicine") == ["CN", "IN", "KZ", "RU"]
    assert queries.member_organisations("law") == [("cn-demo-law", "CN"), ("ru-demo-law", "RU"), ("uz-demo-law", "UZ")]
    assert queries.member_codes("agriculture") == ["BY", "KZ"]
    deciders = dict(Membership.objects.values_list("organisation", "decided_by"))
    assert deciders["ru-demo-law"] == "SCO"  # the law council's only organisation: the Secretariat decided
    assert deciders["cn-demo-medical"] == "RU" and deciders["ru-demo-medical"] == "CN"  # by the other council member
    issued = Record.objects.filter(kind__in=KINDS).count()
    assert issued == 2 * len(ORGANISATIONS) - 1

    load_demo()
    assert Record.objects.filter(kind__in=KINDS).count() == issued
