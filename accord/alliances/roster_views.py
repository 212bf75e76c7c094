"""The roster's pages:

* `my_profile` (`/experts/me/`): a person's own profile, its visibility in plain words, and withdrawal;
* `withdraw_mine` (`/experts/me/withdraw/`): the confirmation, then the withdrawal;
* `search` (`/experts/`): the roster as the reader may see it, with filters;
* `expert` (`/experts/<id>/`): one expert, if the reader may see the profile (404 otherwise, withdrawn included).

The pages of profiles a focal point manages are in `roster_managed_views`. Every read goes through
`roster_queries` (the audience filter); every write through `roster_actions`. A refusal re-renders the form with
the message on the field at fault and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.alliances import membership_queries, roster_actions, roster_forms, roster_queries, vocab
from accord.alliances.models import Alliance
from accord.alliances.roster_models import ExpertProfile
from accord.members.models import Account, Member
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal


def account_of(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "alliances/roster_forbidden.html", {"message": message}, status=403)


def field_names() -> list[tuple[str, str]]:
    return [(term.code, term.name) for term in vocab.FIELDS]


def language_names() -> list[tuple[str, str]]:
    return [(term.code, term.name) for term in vocab.LANGUAGES]


def shown(row: ExpertProfile) -> dict[str, Any]:
    """A profile as the pages show it: the API's details with names in the reader's language."""
    found = roster_queries.details(row)
    fields = dict(field_names())
    languages = dict(language_names())
    alliances = {a.slug: a.name for a in Alliance.objects.all()}
    found["field_names"] = [fields.get(code, code) for code in found["fields"]]
    found["language_names"] = [
        {"name": languages.get(item["code"], item["code"]), "code": item["code"], "level": level_name(item["level"])}
        for item in found["languages"]
    ]
    found["alliance_names"] = [alliances.get(slug, slug) for slug in found["alliances"]]
    found["visibility"] = describe_audience(found["audience"], found["tlp"])
    return found


def level_name(level: str) -> str:
    return _("native") if level == "native" else level


def describe_audience(audience: dict[str, Any], tlp: str) -> str:
    """Who may see a profile, in plain words."""
    if audience.get("everyone"):
        return _("All members (TLP:%(tlp)s)") % {"tlp": tlp}
    members = list(audience.get("members") or [])
    if members == ["SCO"] and not audience.get("organisations") and not audience.get("persons"):
        return _("Only the Secretariat (TLP:%(tlp)s)") % {"tlp": tlp}
    names = {m.code: m.name for m in Member.objects.filter(code__in=members)}
    named = ", ".join(names.get(code, code) for code in members)
    others = len(audience.get("organisations") or []) + len(audience.get("persons") or [])
    if others:
        named = (named + ", " if named else "") + _("%(count)s named organisations or persons") % {"count": others}
    return _("%(who)s (TLP:%(tlp)s)") % {"who": named, "tlp": tlp}


def _alliance_choice(form: roster_forms.ProfileForm, audience: dict[str, Any], account: Account) -> None:
    """Show `alliances` when the profile's audience is what that choice gives now."""
    if form.visibility != "kept" or account.organisation is None:
        return
    slugs = membership_queries.alliances_of(account.organisation.slug) or form.alliances
    if not slugs:
        return
    codes: set[str] = {"SCO"}
    for slug in slugs:
        codes.update(membership_queries.member_codes(slug))
    named_only = not audience.get("everyone") and not audience.get("organisations") and not audience.get("persons")
    if named_only and set(audience.get("members") or []) == codes:
        form.visibility = "alliances"


def form_context(form: roster_forms.ProfileForm, account: Account) -> dict[str, Any]:
    organisation = account.organisation
    own_alliances = membership_queries.alliances_of(organisation.slug) if organisation is not None else []
    return {
        "form": form,
        "error_list": form.error_list(),
        "field_choices": field_names(),
        "language_rows": [(code, name, form.levels.get(code, "")) for code, name in language_names()],
        "levels": [(level, level_name(level)) for level in vocab.LEVELS],
        "alliance_choices": [(a.slug, a.name) for a in Alliance.objects.all()],
        "own_alliances": [a.name for a in Alliance.objects.filter(slug__in=own_alliances)],
    }


def _my_page(
    request: HttpRequest, form: roster_forms.ProfileForm, row: ExpertProfile | None, *, status: int = 200
) -> HttpResponse:
    account = account_of(request)
    context = form_context(form, account)
    context.update({"profile": shown(row) if row is not None else None, "is_expert": account.has_role("expert")})
    return render(request, "alliances/roster_me.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_profile(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    row = roster_queries.own_profile(account)
    if request.method != "POST":
        if row is None:
            return _my_page(request, roster_forms.ProfileForm(), None)
        envelope = row.version.envelope()
        form = roster_forms.from_body(envelope["body"], envelope["audience"], row.version.tlp)
        _alliance_choice(form, envelope["audience"], account)
        return _my_page(request, form, row)
    form = roster_forms.from_post(request.POST)
    if form.visibility == "kept" and row is None:
        form.visibility = "secretariat"
    audience = form.audience(account.organisation.slug if account.organisation is not None else "")
    if form.errors:
        return _my_page(request, form, row, status=400)
    try:
        created = roster_actions.put_own(account, profile=form.profile(), audience=audience, tlp=form.label())[1]
    except ActionError as error:
        form.place(error.field, error.message)
        return _my_page(request, form, row, status=error.status)
    if created:
        messages.success(request, _("Your profile is on the roster, visible as you chose."))
    else:
        messages.success(request, _("Your profile is updated."))
    return HttpResponseRedirect(reverse("roster-me"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw_mine(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    row = roster_queries.own_profile(account)
    if row is None:
        return HttpResponseRedirect(reverse("roster-me"))
    if request.method != "POST":
        return render(request, "alliances/roster_withdraw.html", {"profile": shown(row), "own": True})
    if request.POST.get("confirm") != "yes":
        context = {"profile": shown(row), "own": True, "error": _("Tick the box to confirm the withdrawal.")}
        return render(request, "alliances/roster_withdraw.html", context, status=400)
    try:
        roster_actions.withdraw_own(account)
    except ActionError as error:
        context = {"profile": shown(row), "own": True, "error": error.message}
        return render(request, "alliances/roster_withdraw.html", context, status=error.status)
    messages.success(request, _("You have left the roster: your profile no longer appears in any search."))
    return HttpResponseRedirect(reverse("roster-me"))


@login_required
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    principal = Principal.of(account_of(request))
    form = roster_forms.search_from(request.GET)
    errors: dict[str, str] = {}
    rows = roster_queries.visible(principal).none()
    try:
        if form.field:
            vocab.check_field(form.field, "field")
        if form.language:
            vocab.check_language(form.language, "language")
        rows = roster_queries.search(
            principal,
            field=form.field or None,
            language=form.language or None,
            available_from=form.available_from or None,
            available_until=form.available_until or None,
            member=form.member or None,
            alliance=form.alliance or None,
            deployable={"yes": True, "no": False}.get(form.deployable),
        )
    except ActionError as error:
        errors[error.field or "field"] = error.message
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "alliances/roster_search.html",
        {
            "form": form,
            "errors": errors,
            "page": page,
            "count": page.paginator.count,
            "items": [shown(row) for row in page.object_list],
            "query": query.urlencode(),
            "field_choices": field_names(),
            "language_choices": language_names(),
            "members": Member.objects.all(),
            "alliance_choices": [(a.slug, a.name) for a in Alliance.objects.all()],
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def expert(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = account_of(request)
    try:
        row = roster_queries.profile_for(Principal.of(account), record_uuid)
    except NotFound:
        raise Http404("no such expert") from None
    mine = row.account == account.uuid
    organisation = account.organisation
    manages = (
        row.managed
        and organisation is not None
        and row.version.origin_organisation == organisation.uuid
        and account.has_role("focal_point")
    )
    return render(request, "alliances/roster_expert.html", {"profile": shown(row), "mine": mine, "manages": manages})
