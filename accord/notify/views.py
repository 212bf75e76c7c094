"""The notification pages: my channels and subscriptions (with test notifications and feed links), those of my
organisation for its administrators, and the delivery log of an alert for coordinators.

Every change goes through an action (`accord.notify.actions`), which checks who may act
and writes the audit entry; a channel or subscription someone may not manage gets the same 404 as none at all.
The delivery log shows only alerts the coordinator may see (the audience filter, through `alerts.queries`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accord.alerts import forms as alert_forms
from accord.alerts import mapping
from accord.alerts import queries as alert_queries
from accord.alerts.models import view_of
from accord.members import outlines
from accord.members.models import Account, Member, Organisation
from accord.members.site import absolute_url
from accord.notify import actions, matching
from accord.notify.keys import language_of_member
from accord.notify.models import Channel, Delivery, DeliveryAttempt, Language, Subscription
from accord.notify.outbox import SILENT_KINDS
from accord.notify.territories import known as known_territory
from accord.records import kinds as record_kinds
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal

LOG_ROLES = frozenset({"coordinator", "admin"})
RECENT_ALERTS = 50


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def may_read_logs(user: Account) -> bool:
    return bool(user.role_names() & LOG_ROLES)


def managed_organisation(account: Account) -> Organisation | None:
    """The organisation whose channels and subscriptions this account manages on these pages: its own, if it is
    one of its administrators (the rule of `actions.manages_organisation`)."""
    organisation = account.organisation
    if organisation is None or not actions.manages_organisation(account, organisation):
        return None
    return organisation


def _organisation(request: HttpRequest) -> Organisation:
    organisation = managed_organisation(_account(request))
    if organisation is None:
        raise Http404("no such page")
    return organisation


def _owned_by(account: Account | None, organisation: Organisation | None) -> dict[str, Any]:
    """The filter for what one owner has: an account's own, or an organisation's."""
    return {"account": account} if account is not None else {"organisation": organisation}


def _anchor(item: Channel | Subscription) -> str:
    """Where on the notifications page an item is listed."""
    if isinstance(item, Channel):
        return "#org-channels" if item.organisation_id is not None else "#channels"
    return f"#s-{item.uuid}"


def _channel(request: HttpRequest, channel_uuid: str) -> Channel:
    found = Channel.objects.select_related("account", "organisation").filter(uuid=channel_uuid).first()
    if found is None or not actions.may_manage(found, _account(request)):
        raise Http404("no such channel")
    return found


def _subscription(request: HttpRequest, subscription_uuid: str) -> Subscription:
    found = (
        Subscription.objects.select_related("account", "organisation")
        .prefetch_related("channels")
        .filter(uuid=subscription_uuid)
        .first()
    )
    if found is None or not actions.may_manage(found, _account(request)):
        raise Http404("no such subscription")
    return found


# ---- forms ---------------------------------------------------------------------------------------------------


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Channel.Kind.choices)
    target = forms.CharField(
        label=gettext_lazy("E-mail address or webhook URL"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of the messages"), choices=Language.choices)
    name = forms.CharField(label=gettext_lazy("Name (optional)"), max_length=100, required=False)


def _area_text(area: dict[str, Any] | None) -> str:
    """A stored area as the form shows it: a polygon as latitude,longitude points (as the composer writes them),
    anything else as GeoJSON."""
    if not area:
        return ""
    return mapping.cap_polygon_text(area) or json.dumps(area)


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Record kinds"), required=False, widget=forms.CheckboxSelectMultiple
    )
    statuses = forms.MultipleChoiceField(
        label=gettext_lazy("Statuses"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k, v) for k, v in alert_forms.STATUSES.items()],
    )
    origin_members = forms.MultipleChoiceField(
        label=gettext_lazy("Issued by"), required=False, widget=forms.CheckboxSelectMultiple
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("CAP categories"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k, v) for k, v in alert_forms.CATEGORIES.items()],
    )
    events = forms.CharField(label=gettext_lazy("CAP events (comma-separated)"), required=False, max_length=2000)
    diseases = forms.CharField(
        label=gettext_lazy("Diseases: ICD codes or names (comma-separated)"), required=False, max_length=2000
    )
    min_severity = forms.ChoiceField(label=gettext_lazy("Severity at least"), required=False)
    min_urgency = forms.ChoiceField(label=gettext_lazy("Urgency at least"), required=False)
    min_certainty = forms.ChoiceField(label=gettext_lazy("Certainty at least"), required=False)
    area_members = forms.MultipleChoiceField(
        label=gettext_lazy("Areas touching the territory of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    area = forms.CharField(
        label=gettext_lazy(
            "Or within this polygon: its points as latitude,longitude, as in the alert composer, the first repeated "
            "last (GeoJSON is read too)"
        ),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    circle_lat = forms.FloatField(label=gettext_lazy("Latitude"), required=False, min_value=-90, max_value=90)
    circle_lon = forms.FloatField(label=gettext_lazy("Longitude"), required=False, min_value=-180, max_value=180)
    circle_radius = forms.FloatField(label=gettext_lazy("Radius (km)"), required=False, min_value=0.1, max_value=5000)
    area_region = forms.ChoiceField(label=gettext_lazy("Or within this first-level region"), required=False)
    mode = forms.ChoiceField(label=gettext_lazy("Send"), choices=Subscription.Mode.choices)
    immediate_severity = forms.ChoiceField(label=gettext_lazy("In a digest, still send at once from"), required=False)
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, account: Account | None, organisation: Organisation | None = None, **kwargs: Any
    ) -> None:
        """The form of a subscription of `account`, or of `organisation` (whose channels it then offers)."""
        super().__init__(*args, **kwargs)
        kind_choices = [(k.name, str(k.label)) for k in record_kinds.all_kinds() if k.name not in SILENT_KINDS]
        self.fields["kinds"].choices = sorted(kind_choices, key=lambda c: c[1])  # type: ignore[attr-defined]
        members = list(Member.objects.filter(active=True))
        self.fields["origin_members"].choices = [(m.code, f"{m.code} · {m.name}") for m in members]  # type: ignore[attr-defined]
        self.fields["area_members"].choices = [  # type: ignore[attr-defined]
            (m.code, f"{m.code} · {m.name}") for m in members if known_territory(m.code)
        ]
        self.fields["area_region"].choices = [("", _("None"))] + [  # type: ignore[attr-defined]
            (r["code"], f"{r['member']} · {r['name']} ({r['code']})")
            for r in alert_forms.region_choices(outlined_only=True)
        ]
        any_level = [("", _("Any"))]
        for field, scale, labels in (
            ("min_severity", matching.SEVERITIES, alert_forms.SEVERITIES),
            ("min_urgency", matching.URGENCIES, alert_forms.URGENCIES),
            ("min_certainty", matching.CERTAINTIES, alert_forms.CERTAINTIES),
        ):
            self.fields[field].choices = any_level + [(v, labels[v]) for v in reversed(scale)]  # type: ignore[attr-defined]
        self.fields["immediate_severity"].choices = [("", _("Nothing"))] + [  # type: ignore[attr-defined]
            (v, alert_forms.SEVERITIES[v]) for v in reversed(matching.SEVERITIES)
        ]
        self.channel_objects = {
            str(c.uuid): c
            for c in Channel.objects.filter(**_owned_by(account, organisation)).order_by("created_at", "id")
        }
        self.fields["channels"].choices = [  # type: ignore[attr-defined]
            (key, f"{c.get_kind_display()}: {c.name or c.target}") for key, c in self.channel_objects.items()
        ]

    def simple_fields(self) -> list[forms.BoundField]:
        names = ("name", "mode", "immediate_severity", "min_severity", "min_urgency", "min_certainty")
        return [self[n] for n in (*names, "events", "diseases")]

    def choice_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("kinds", "statuses", "categories", "origin_members", "area_members", "channels")]

    def clean_area(self) -> dict[str, Any] | None:
        text = str(self.cleaned_data.get("area") or "").strip()
        if not text:
            return None
        if not text.startswith(("{", "[")):
            geometry = mapping.area_geometry("polygon", text)
            if geometry is None:
                raise ValidationError(
                    _(
                        "Write at least four points as latitude,longitude separated by spaces, e.g. "
                        "43.0,68.0 43.5,68.0 43.5,69.0 43.0,68.0."
                    )
                )
            return geometry
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(_("The area is not JSON: %(error)s") % {"error": error.msg}) from None
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        if not isinstance(value, dict):
            raise ValidationError(_("The area must be a GeoJSON Polygon or MultiPolygon."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        circle = [data.get(name) for name in ("circle_lat", "circle_lon", "circle_radius")]
        given = [value is not None for value in circle]
        if any(given) and not all(given):
            self.add_error("circle_radius", _("A circle needs its centre's latitude and longitude and its radius."))
        elif all(given):
            if data.get("area"):
                self.add_error("area", _("Give a polygon or a circle, not both."))
            else:
                lat, lon, radius = circle
                data["area"] = mapping.area_geometry("circle", f"{lat},{lon} {radius}")
        region = data.get("area_region")
        if region:
            found = outlines.region_geometry(region)
            if data.get("area") or any(given):
                self.add_error("area_region", _("Give one area: a polygon, a circle or a region."))
            elif found is not None:
                data["area"] = found[0]
        return data

    def filters(self) -> actions.Filters:
        data = self.cleaned_data
        return actions.Filters(
            kinds=list(data["kinds"]),
            origin_members=list(data["origin_members"]),
            categories=list(data["categories"]),
            events=_comma_list(data["events"]),
            diseases=_comma_list(data["diseases"]),
            statuses=list(data["statuses"]),
            min_severity=data["min_severity"],
            min_urgency=data["min_urgency"],
            min_certainty=data["min_certainty"],
            area_members=list(data["area_members"]),
            area=data["area"],
        )

    def chosen_channels(self) -> list[Channel]:
        return [self.channel_objects[key] for key in self.cleaned_data["channels"]]

    @classmethod
    def initial_of(cls, subscription: Subscription) -> dict[str, Any]:
        region = outlines.region_of_geometry(subscription.area) if subscription.area else None
        return {
            "name": subscription.name,
            "active": subscription.active,
            "kinds": subscription.kinds,
            "statuses": subscription.statuses or ["actual"],
            "origin_members": subscription.origin_members,
            "categories": subscription.categories,
            "events": ", ".join(subscription.events),
            "diseases": ", ".join(subscription.diseases),
            "min_severity": subscription.min_severity,
            "min_urgency": subscription.min_urgency,
            "min_certainty": subscription.min_certainty,
            "area_members": subscription.area_members,
            "area": "" if region else _area_text(subscription.area),
            "area_region": region or "",
            "mode": subscription.mode,
            "immediate_severity": subscription.immediate_severity,
            "channels": [str(c.uuid) for c in subscription.channels.all()],
        }


# Where an action's error belongs on the subscription form.
SUBSCRIPTION_FIELDS = {
    "kind": "kinds",
    "member": "origin_members",
    "area_member": "area_members",
    "status": "statuses",
    "severity": "min_severity",
    "urgency": "min_urgency",
    "certainty": "min_certainty",
    "area": "area",
    "mode": "mode",
    "immediate_severity": "immediate_severity",
}


# ---- what the pages show --------------------------------------------------------------------------------------


def describe_filters(subscription: Subscription) -> list[str]:
    """The subscription's filters in words, for the list."""
    said: list[str] = []
    kinds = {k.name: str(k.label) for k in record_kinds.all_kinds()}
    if subscription.kinds:
        said.append(_("Kinds: %(list)s") % {"list": ", ".join(kinds.get(k, k) for k in subscription.kinds)})
    statuses = subscription.statuses or ["actual"]
    if statuses != ["actual"]:
        said.append(
            _("Statuses: %(list)s") % {"list": ", ".join(str(alert_forms.STATUSES.get(s, s)) for s in statuses)}
        )
    if subscription.origin_members:
        said.append(_("Issued by: %(list)s") % {"list": ", ".join(subscription.origin_members)})
    if subscription.categories:
        said.append(
            _("Categories: %(list)s")
            % {"list": ", ".join(str(alert_forms.CATEGORIES.get(c, c)) for c in subscription.categories)}
        )
    if subscription.events:
        said.append(_("Events: %(list)s") % {"list": ", ".join(subscription.events)})
    if subscription.diseases:
        said.append(_("Diseases: %(list)s") % {"list": ", ".join(subscription.diseases)})
    for value, labels, text in (
        (subscription.min_severity, alert_forms.SEVERITIES, _("Severity %(level)s or worse")),
        (subscription.min_urgency, alert_forms.URGENCIES, _("Urgency %(level)s or more")),
        (subscription.min_certainty, alert_forms.CERTAINTIES, _("Certainty %(level)s or more")),
    ):
        if value:
            said.append(text % {"level": labels.get(value, value)})
    if subscription.area_members:
        said.append(_("Areas in: %(list)s") % {"list": ", ".join(subscription.area_members)})
    if subscription.area:
        said.append(_("Within a drawn area"))
    return said or [_("Everything you may see (actual traffic)")]


ORGANISATION_PREFIX = "org"  # the organisation's channel form shares the page with the account's


def _owned(account: Account | None, organisation: Organisation | None) -> dict[str, Any]:
    """One owner's channels (with how many subscriptions use each) and subscriptions (with their filters)."""
    owner = _owned_by(account, organisation)
    channels = list(Channel.objects.filter(**owner).annotate(uses=Count("subscriptions")).order_by("id"))
    subscriptions = list(
        Subscription.objects.filter(**owner).prefetch_related("channels").order_by("-active", "name", "id")
    )
    return {
        "channels": channels,
        "subscriptions": [{"item": s, "filters": describe_filters(s)} for s in subscriptions],
    }


def _page(
    request: HttpRequest,
    *,
    channel_form: ChannelForm | None = None,
    org_channel_form: ChannelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = _account(request)
    language = language_of_member(account.member_code)
    context = {
        **_owned(account, None),
        "channel_form": channel_form or ChannelForm(initial={"language": language, "kind": "email"}),
        "may_read_logs": may_read_logs(account),
        "stream_url": reverse("api:stream"),
        "organisation": managed_organisation(account),
    }
    organisation = context["organisation"]
    if organisation is not None:
        owned = _owned(None, organisation)
        context["org_channels"] = owned["channels"]
        context["org_subscriptions"] = owned["subscriptions"]
        context["org_channel_form"] = org_channel_form or ChannelForm(
            initial={"language": language_of_member(organisation.member.code), "kind": "email"},
            prefix=ORGANISATION_PREFIX,
        )
    return render(request, "notify/subscriptions.html", context, status=status)


# ---- my channels and subscriptions ----------------------------------------------------------------------------


@login_required
@require_GET
def subscriptions(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def add_channel(request: HttpRequest, for_organisation: bool = False) -> HttpResponse:
    """Add a channel of mine, or (`for_organisation`) of the organisation I administer."""
    account = _account(request)
    organisation = _organisation(request) if for_organisation else None
    form = ChannelForm(request.POST, prefix=ORGANISATION_PREFIX if organisation else None)

    def refused() -> HttpResponse:
        if organisation is not None:
            return _page(request, org_channel_form=form, status=400)
        return _page(request, channel_form=form, status=400)

    if not form.is_valid():
        return refused()
    data = form.cleaned_data
    try:
        channel = actions.create_channel(
            kind=data["kind"],
            target=data["target"],
            account=None if organisation else account,
            organisation=organisation,
            language=data["language"],
            name=data["name"],
            acting_user=account,
        )
    except ActionError as error:
        form.add_error("target" if error.field in (None, "target") else None, error.message)
        return refused()
    if channel.kind == Channel.Kind.WEBHOOK:
        # The signing secret is shown here, once; it is never put in a message or a redirect.
        return render(request, "notify/channel_created.html", {"channel": channel})
    messages.success(request, _("The channel is added. Send it a test notification to check it."))
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(channel))


@login_required
@require_POST
def test_channel(request: HttpRequest, channel_uuid: str) -> HttpResponse:
    account = _account(request)
    channel = _channel(request, channel_uuid)
    try:
        delivery = actions.send_test(channel, acting_user=account)
    except ActionError as error:
        messages.error(request, error.message)
    else:
        if delivery.status == Delivery.Status.SENT:
            messages.success(request, _("Test notification sent to %(target)s.") % {"target": channel.target})
        else:
            messages.error(
                request,
                _("The test notification to %(target)s failed: %(error)s")
                % {"target": channel.target, "error": delivery.last_error or delivery.get_status_display()},
            )
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(channel))


@login_required
@require_POST
def remove_channel(request: HttpRequest, channel_uuid: str) -> HttpResponse:
    channel = _channel(request, channel_uuid)
    actions.remove_channel(channel, acting_user=_account(request))
    messages.success(request, _("The channel %(target)s is removed.") % {"target": channel.target})
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(channel))


@login_required
@require_POST
def enable_channel(request: HttpRequest, channel_uuid: str) -> HttpResponse:
    channel = _channel(request, channel_uuid)
    actions.enable_channel(channel, acting_user=_account(request))
    messages.success(request, _("The channel %(target)s is on again.") % {"target": channel.target})
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(channel))


def _subscription_form_page(
    request: HttpRequest,
    form: SubscriptionForm,
    subscription: Subscription | None,
    organisation: Organisation | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "notify/subscription_form.html",
        {
            "form": form,
            "subscription": subscription,
            "organisation": organisation,
            "has_channels": bool(form.channel_objects),
        },
        status=status,
    )


@login_required
def edit_subscription(
    request: HttpRequest, subscription_uuid: str | None = None, for_organisation: bool = False
) -> HttpResponse:
    """A new subscription of mine, or (`for_organisation`) of the organisation I administer; or an existing one
    I may manage, whoever owns it."""
    account = _account(request)
    subscription = _subscription(request, subscription_uuid) if subscription_uuid else None
    if subscription is not None:
        owner, organisation = subscription.account, subscription.organisation
    elif for_organisation:
        owner, organisation = None, _organisation(request)
    else:
        owner, organisation = account, None
    if request.method != "POST":
        initial = (
            SubscriptionForm.initial_of(subscription)
            if subscription
            else {"kinds": ["alert"], "statuses": ["actual"], "mode": Subscription.Mode.IMMEDIATE, "active": True}
        )
        form = SubscriptionForm(initial=initial, account=owner, organisation=organisation)
        return _subscription_form_page(request, form, subscription, organisation)
    form = SubscriptionForm(request.POST, account=owner, organisation=organisation)
    if not form.is_valid():
        return _subscription_form_page(request, form, subscription, organisation, status=400)
    data = form.cleaned_data
    try:
        if subscription is None:
            saved = actions.create_subscription(
                channels=form.chosen_channels(),
                filters=form.filters(),
                account=owner,
                organisation=organisation,
                mode=data["mode"],
                immediate_severity=data["immediate_severity"],
                name=data["name"],
                active=data["active"],
                acting_user=account,
            )
        else:
            saved = actions.update_subscription(
                subscription,
                channels=form.chosen_channels(),
                filters=form.filters(),
                mode=data["mode"],
                immediate_severity=data["immediate_severity"],
                name=data["name"],
                active=data["active"],
                acting_user=account,
            )
    except ActionError as error:
        form.add_error(SUBSCRIPTION_FIELDS.get(error.field or ""), error.message)
        return _subscription_form_page(request, form, subscription, organisation, status=400)
    messages.success(
        request,
        (_("The subscription is saved.") if subscription else _("The subscription is created."))
        + ("" if saved.channels.exists() else " " + _("It has no channel: use its feed or the live banner.")),
    )
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(saved))


@login_required
@require_POST
def remove_subscription(request: HttpRequest, subscription_uuid: str) -> HttpResponse:
    subscription = _subscription(request, subscription_uuid)
    # Channels are added and removed on their own on these pages: they stay for the next subscription.
    actions.remove_subscription(subscription, acting_user=_account(request), keep_channels=True)
    messages.success(request, _("The subscription is removed."))
    return HttpResponseRedirect(
        reverse("notify-subscriptions") + ("#org-subscriptions" if subscription.organisation_id else "")
    )


@login_required
@require_POST
def feed_token(request: HttpRequest, subscription_uuid: str) -> HttpResponse:
    subscription = _subscription(request, subscription_uuid)
    token = actions.issue_feed_token(subscription, acting_user=_account(request))
    urls = {
        fmt: absolute_url(reverse("notify-feed", kwargs={"token": token, "fmt": fmt}), request)
        for fmt in ("atom", "rss")
    }
    # Shown once, on this page: only the token's digest is kept.
    return render(request, "notify/feed_created.html", {"subscription": subscription, "urls": urls})


@login_required
@require_POST
def withdraw_feed_token(request: HttpRequest, subscription_uuid: str) -> HttpResponse:
    subscription = _subscription(request, subscription_uuid)
    actions.withdraw_feed_token(subscription, acting_user=_account(request))
    messages.success(request, _("The feed address no longer works."))
    return HttpResponseRedirect(reverse("notify-subscriptions") + _anchor(subscription))


# ---- delivery logs (coordinators) -----------------------------------------------------------------------------


def _log_reader(request: HttpRequest) -> Account:
    account = _account(request)
    if not may_read_logs(account):
        raise Http404("no such page")
    return account


def _where(address: str, kind: str) -> str:
    """An e-mail address as it is; a webhook as its origin only (paths and queries may hold secrets)."""
    if kind != Channel.Kind.WEBHOOK:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "—"


def _recipient(delivery: Delivery) -> str:
    subscription = delivery.subscription
    if delivery.account is not None:
        return delivery.account.username
    if subscription is not None and subscription.organisation is not None:
        return subscription.organisation.slug
    if delivery.channel is not None and delivery.channel.organisation is not None:
        return delivery.channel.organisation.slug
    return "—"


@login_required
@require_GET
def delivery_logs(request: HttpRequest) -> HttpResponse:
    account = _log_reader(request)
    alerts = list(alert_queries.alerts_for(Principal.of(account))[:RECENT_ALERTS])
    counts: dict[int, Counter[str]] = {a.pk: Counter() for a in alerts}
    rows = (
        Delivery.objects.filter(record__in=[a.pk for a in alerts])
        .values_list("record_id", "status")
        .annotate(n=Count("id"))
    )
    for record_id, status, n in rows:
        counts[record_id][status] += n
    items = [
        {
            "record": a,
            "view": view_of(a),
            "total": sum(counts[a.pk].values()),
            "sent": counts[a.pk][Delivery.Status.SENT] + counts[a.pk][Delivery.Status.BATCHED],
            "failed": counts[a.pk][Delivery.Status.FAILED],
            "waiting": counts[a.pk][Delivery.Status.PENDING]
            + counts[a.pk][Delivery.Status.SENDING]
            + counts[a.pk][Delivery.Status.HELD],
        }
        for a in alerts
    ]
    return render(request, "notify/delivery_logs.html", {"items": items, "shown": RECENT_ALERTS})


@login_required
@require_GET
def delivery_log(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _log_reader(request)
    try:
        record = alert_queries.alert_for(Principal.of(account), record_uuid)
    except NotFound:
        raise Http404("no such alert") from None
    deliveries = list(
        Delivery.objects.filter(record=record)
        .select_related("subscription__organisation", "channel__organisation", "account", "version")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "id")))
        .order_by("created_at", "id")
    )
    rows = [
        {
            "delivery": d,
            "recipient": _recipient(d),
            "where": _where(d.address, d.kind),
            "seq": d.version.seq if d.version is not None else None,
            "attempts": list(d.attempt_log.all()),
        }
        for d in deliveries
    ]
    totals = Counter(d.status for d in deliveries)
    status_labels = dict(Delivery.Status.choices)
    summary = [(status_labels[s], totals[s], s) for s in Delivery.Status.values if totals[s]]
    view = view_of(record)
    return render(
        request,
        "notify/delivery_log.html",
        {
            "record": record,
            "view": view,
            "rows": rows,
            "summary": summary,
            "recipients": len({r["recipient"] for r in rows} - {"—"}),
        },
    )
