"""A new information note from the web: title, text, its language, whom to share it with, its TLP, and files.

Every problem is shown at once, in the reader's language, each in the summary at the top linked to its field and
beside the field itself; nothing typed is lost. The note is published by the record core's action (signed version,
audit entry); files go in as its attachments (each at most ACCORD_MAX_BODY_BYTES, and the whole request too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _

from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records import kinds
from accord.records.envelope import Audience
from accord.records.errors import ActionError

LANGUAGES = (
    ("en", "English"),
    ("zh", "中文"),
    ("ru", "Русский"),
    ("kk", "Қазақ тілі"),
    ("ky", "Кыргызча"),
    ("tg", "Тоҷикӣ"),
    ("uz", "Oʻzbekcha"),
    ("hi", "हिन्दी"),
    ("ur", "اردو"),
    ("fa", "فارسی"),
    ("be", "Беларуская"),
)
TLPS = ("CLEAR", "GREEN", "AMBER")
STATUSES = ("actual", "exercise", "test")
MAX_FILES = 5


def _form_errors(data: dict[str, Any], files: list[Any], members: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data["title"]:
        errors["title"] = _("Give the note a title.")
    elif len(data["title"]) > 300:
        errors["title"] = _("Keep the title under 300 characters.")
    if len(data["text"]) > 50_000:
        errors["text"] = _("Keep the text under 50,000 characters.")
    if data["tlp"] not in TLPS:
        errors["tlp"] = _("Choose a TLP label.")
    if data["audience"] == "named":
        if not data["members"]:
            errors["audience"] = _("Choose at least one member to share the note with, or share it with every member.")
        elif set(data["members"]) - members:
            errors["audience"] = _("Choose members from the list.")
    elif data["tlp"] == "AMBER":
        errors["audience"] = _(
            "TLP:AMBER is for the members named only: choose the members, or use TLP:GREEN to share with every member."
        )
    if len(files) > MAX_FILES:
        errors["files"] = _("Attach at most %(count)d files.") % {"count": MAX_FILES}
    for upload in files:
        if upload.size > settings.ACCORD_MAX_BODY_BYTES:
            errors["files"] = _("%(name)s is larger than %(limit)s.") % {
                "name": upload.name,
                "limit": filesizeformat(settings.ACCORD_MAX_BODY_BYTES),
            }
        elif not upload.size:
            errors["files"] = _("%(name)s is empty.") % {"name": upload.name}
    return errors


@login_required
def note_new(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)
    members = {m.code: m.name for m in Member.objects.filter(active=True).order_by("code")}
    note_kind = kinds.require("note")
    allowed = account.organisation is not None and bool(account.role_names() & note_kind.roles_for(None))
    data: dict[str, Any] = {
        "title": "",
        "text": "",
        "language": "en",
        "audience": "everyone",
        "members": [],
        "tlp": "GREEN",
        "status": "actual",
    }
    errors: dict[str, str] = {}
    if request.method == "POST" and allowed:
        data.update(
            {
                "title": request.POST.get("title", "").strip(),
                "text": request.POST.get("text", "").strip(),
                "language": request.POST.get("language", "en"),
                "audience": "named" if request.POST.get("audience") == "named" else "everyone",
                "members": request.POST.getlist("members"),
                "tlp": request.POST.get("tlp", ""),
                "status": request.POST.get("status", "actual"),
            }
        )
        if data["language"] not in dict(LANGUAGES):
            data["language"] = "en"
        if data["status"] not in STATUSES:
            data["status"] = "actual"
        files = request.FILES.getlist("files")
        errors = _form_errors(data, files, set(members))
        if not errors:
            audience = Audience(members=data["members"]) if data["audience"] == "named" else Audience(everyone=True)
            attachments = [
                record_actions.NewAttachment(
                    name=(upload.name or "file")[:200],
                    media_type=upload.content_type or "application/octet-stream",
                    data=upload.read(),
                )
                for upload in files
            ]
            try:
                version = record_actions.publish(
                    "note",
                    {"title": data["title"], "text": data["text"], "language": data["language"]},
                    audience=audience,
                    tlp=data["tlp"],
                    status=data["status"],
                    acting_user=account,
                    files=attachments,
                )
            except ActionError as error:
                errors[error.field if error.field in ("title", "text", "audience", "tlp", "files") else "top"] = (
                    error.message
                )
            else:
                messages.success(request, _("The note is published."))
                return HttpResponseRedirect(reverse("record", kwargs={"record_uuid": str(version.record_uuid)}))
    labels = {
        "title": _("Title"),
        "text": _("Text"),
        "audience": _("Shared with"),
        "tlp": _("TLP label"),
        "files": _("Files"),
        "top": _("Note"),
    }
    return render(
        request,
        "web/note_form.html",
        {
            "data": data,
            "errors": errors,
            "summary": [(field, labels.get(field, field), message) for field, message in errors.items()],
            "member_choices": list(members.items()),
            "note_languages": LANGUAGES,
            "tlps": TLPS,
            "statuses": STATUSES,
            "allowed": allowed,
            "max_bytes": settings.ACCORD_MAX_BODY_BYTES,
        },
        status=400 if errors else (403 if not allowed else 200),
    )
