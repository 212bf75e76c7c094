"""A node with the demo data and one alert: the pages the browser checks (CSP, accessibility) visit.

Built through the action functions before the browser starts (no database work while Playwright's loop runs).
Every page is listed with the demo account that opens it; tests/web/a11y.py checks pages added later the same
way: add them to `main_pages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from playwright.sync_api import Page

from accord.alerts import actions as alert_actions
from accord.members.demo import DEMO_PASSWORD, load_demo
from accord.members.models import Account
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.surveillance.models import SeriesView, Signal, Upload
from tests.alerts.support import CHOLERA, cap, info

# A title with a right-to-left override in the middle: rendered isolated, it cannot turn the page around it.
RLO_TITLE = "Flood warning \u202eevah eht ni\u202c closed roads"


@dataclass(frozen=True)
class Visit:
    name: str
    username: str | None  # None: not logged in
    path: str


@dataclass(frozen=True)
class Site:
    note_uuid: str
    rlo_note_uuid: str
    alert_uuid: str
    series_path: str
    signal_uuid: str
    upload_uuid: str
    incident_uuid: str
    request_uuid: str
    offer_uuid: str  # Kyrgyzstan's offer on the request: accepted in part, not yet committed nor deployed
    deployment_uuid: str  # Uzbekistan's deployment of PCR tests, arrived
    counts_uuid: str  # a year of Kazakhstan's weekly case counts
    # The alliances' demo records: a library document, a legal instrument, an activity, the roster call, an expert.
    document_uuid: str = ""
    instrument_uuid: str = ""
    activity_uuid: str = ""
    roster_call_uuid: str = ""
    expert_uuid: str = ""

    def main_pages(self) -> list[Visit]:
        kz = "kz.health"
        return [
            Visit("login", None, reverse("login")),
            Visit("my desk", kz, reverse("home")),
            Visit("my desk, with tasks and offers", "kg.health", reverse("desk")),
            Visit("map", kz, reverse("map")),
            Visit("search", kz, reverse("search") + "?q=cholera"),
            Visit("search, nothing found", kz, reverse("search") + "?q=zzzz"),
            Visit("records", kz, reverse("records")),
            Visit("new information note", kz, reverse("note-new")),
            Visit("record", kz, reverse("record", args=[self.note_uuid])),
            Visit("record with a bidi override", kz, reverse("record", args=[self.rlo_note_uuid])),
            Visit("alerts", kz, reverse("alerts")),
            Visit("alert", kz, reverse("alert", args=[self.alert_uuid])),
            Visit("alert composer", kz, reverse("alert-new")),
            Visit("alert update", kz, reverse("alert-update", args=[self.alert_uuid])),
            Visit("series list", kz, reverse("surveillance")),
            Visit("series", kz, self.series_path),
            Visit("signals", kz, reverse("surveillance-signals")),
            Visit("signal", kz, reverse("surveillance-signal", args=[self.signal_uuid])),
            Visit("upload", kz, reverse("surveillance-upload")),
            Visit("upload report", kz, reverse("surveillance-upload-detail", args=[self.upload_uuid])),
            Visit("incidents", kz, reverse("incidents")),
            Visit("incident", kz, reverse("incident", args=[self.incident_uuid])),
            Visit("open an incident", kz, reverse("incident-new")),
            Visit("my tasks", "kg.health", reverse("my-tasks")),
            Visit("situation report form", kz, reverse("incident-sitrep-new", args=[self.incident_uuid])),
            Visit("consolidated situation report", kz, reverse("incident-consolidated", args=[self.incident_uuid])),
            Visit("assistance board", "kg.health", reverse("assist-board", args=[self.incident_uuid])),
            Visit("assistance request", kz, reverse("assist-request", args=[self.request_uuid])),
            Visit("assistance request, offering", "kg.health", reverse("assist-request", args=[self.request_uuid])),
            Visit("request assistance", kz, reverse("assist-request-new", args=[self.incident_uuid])),
            Visit(
                "offer assistance unsolicited", "kg.health", reverse("assist-unsolicited", args=[self.incident_uuid])
            ),
            Visit("deploy an offer", "kg.health", reverse("assist-deploy", args=[self.offer_uuid])),
            Visit("deployment, providing", "uz.health", reverse("assist-deployment", args=[self.deployment_uuid])),
            Visit("deployment", kz, reverse("assist-deployment", args=[self.deployment_uuid])),
            Visit("who does what where", kz, reverse("assist-deployments", args=[self.incident_uuid])),
            Visit("notifications", kz, reverse("notify-subscriptions")),
            Visit("new subscription", kz, reverse("notify-subscription-new")),
            Visit("delivery logs", "sco.coordinator", reverse("notify-delivery-logs")),
            Visit("delivery log", "sco.coordinator", reverse("notify-delivery-log", args=[self.alert_uuid])),
            Visit("detector settings", "sco.admin", reverse("surveillance-settings")),
            Visit("federation admin", "sco.admin", reverse("federation-admin")),
            Visit("my profile", kz, reverse("profile")),
            Visit("my API tokens", kz, reverse("tokens")),
            Visit("two-factor set-up", kz, reverse("two_factor")),
            Visit("accounts", "sco.admin", reverse("admin-accounts")),
            Visit("audit log", "sco.admin", reverse("admin-audit")),
            Visit("case counts record", kz, reverse("record", args=[self.counts_uuid])),
            Visit("new account", "sco.admin", reverse("admin-account-new")),
            Visit("an account", "sco.admin", reverse("admin-account", args=[kz])),
            Visit("password reset", None, reverse("password-reset")),
            Visit("alert drafts", kz, reverse("alert-drafts")),
            # The university alliances, as an expert of the medicine alliance and as the Secretariat's coordinator.
            Visit("alliances", "ru.medical", reverse("alliances")),
            Visit("an alliance", "ru.medical", reverse("alliance", kwargs={"slug": "medicine"})),
            Visit("alliance activities", "ru.medical", reverse("alliance-activities", kwargs={"slug": "medicine"})),
            Visit("new activity", "ru.medical", reverse("alliance-activity-new", kwargs={"slug": "medicine"})),
            Visit("an activity", "ru.medical", reverse("alliance-activity", args=[self.activity_uuid])),
            Visit("my expert profile", "ru.medical", reverse("roster-me")),
            Visit("library", "ru.medical", reverse("library")),
            Visit("new library document", "ru.medical", reverse("library-new")),
            Visit("a library document", "ru.medical", reverse("library-document", args=[self.document_uuid])),
            Visit("legal register", "ru.law", reverse("legal-register")),
            Visit("new legal instrument", "ru.law", reverse("legal-instrument-new")),
            Visit("a legal instrument", "ru.law", reverse("legal-instrument", args=[self.instrument_uuid])),
            Visit("experts", "sco.coordinator", reverse("roster-search")),
            Visit("an expert", "sco.coordinator", reverse("roster-expert", args=[self.expert_uuid])),
            Visit("roster calls", "sco.coordinator", reverse("roster-calls")),
            Visit("new roster call", kz, reverse("roster-call-new") + f"?request={self.request_uuid}"),
            Visit("a roster call", "sco.coordinator", reverse("roster-call", args=[self.roster_call_uuid])),
            Visit("experts an organisation manages", kz, reverse("roster-managed")),
            Visit("new managed expert", kz, reverse("roster-managed-new")),
            Visit("edit an activity", "cn.medical", reverse("alliance-activity-edit", args=[self.activity_uuid])),
            Visit(
                "edit a legal instrument", "cn.health", reverse("legal-instrument-edit", args=[self.instrument_uuid])
            ),
            Visit("password reset sent", None, reverse("password-reset-done")),
        ]


def build_site() -> Site:
    load_demo()
    author = Account.objects.get(username="kz.health")
    note = record_actions.publish(
        "note",
        {"title": "Measles in Almaty Region", "text": "Twelve cases this week.", "language": "en"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=author,
    )
    rlo_note = record_actions.publish(
        "note",
        {"title": RLO_TITLE, "text": "Roads closed \u202eyawhgih\u202c until Monday.", "language": "en"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=author,
    )
    alert = alert_actions.publish_alert(
        cap(info(), info("ru", event="Вспышка холеры", headline="Холера")),
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=author,
        epidemic=CHOLERA,
    )
    series = SeriesView.objects.filter(member="KZ").order_by("disease", "region").first()
    assert series is not None
    signal = Signal.objects.get()
    upload = Upload.objects.filter(status="done").order_by("pk").first()
    assert upload is not None
    series_key = {"member": series.member, "disease": series.disease, "region": series.region}
    return Site(
        note_uuid=str(note.record_uuid),
        rlo_note_uuid=str(rlo_note.record_uuid),
        alert_uuid=str(alert.version.record_uuid),
        series_path=reverse("surveillance-series") + "?" + urlencode(series_key),
        signal_uuid=str(signal.uuid),
        upload_uuid=str(upload.uuid),
        incident_uuid=str(Record.objects.get(kind="incident").uuid),
        request_uuid=str(Record.objects.filter(kind="assistance_request").order_by("pk").first().uuid),  # type: ignore[union-attr]
        offer_uuid=str(Record.objects.get(kind="assistance_offer", offer_view__member="KG").uuid),
        deployment_uuid=str(Record.objects.get(kind="deployment").uuid),
        counts_uuid=str(Record.objects.filter(kind="case_counts", origin_member="KZ").order_by("pk").first().uuid),  # type: ignore[union-attr]
        document_uuid=_first("library_document"),
        instrument_uuid=_first("legal_instrument"),
        activity_uuid=_first("alliance_activity"),
        roster_call_uuid=_first("roster_call"),
        expert_uuid=_first("expert_profile"),
    )


def _first(kind: str) -> str:
    record = Record.objects.filter(kind=kind).order_by("pk").first()
    assert record is not None, f"the demo has no {kind}"
    return str(record.uuid)


def log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form (the demo's password unless another is given) and check that it worked."""
    page.goto(f"{base_url}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    assert not page.url.endswith(reverse("login")), f"{username} could not log in"
