"""Every write of the library and of the legal register: documents added (with their files) and withdrawn, register
entries added, revised and withdrawn. Each issues record versions through the record core (`publish`, `revise`,
`withdraw`), which applies the kinds' rules and writes the audit entry; what the kinds cannot know (who may act for
an alliance, or write for a member) is checked here first. A refusal stores nothing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from accord.alliances import library_access, library_files
from accord.alliances.library_kinds import KIND as DOCUMENT_KIND
from accord.alliances.library_legal_kind import KIND as INSTRUMENT_KIND
from accord.alliances.models import Alliance
from accord.members.models import Member
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Forbidden, NotFound
from accord.records.models import Record
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.records.models import Version

NO_SUCH_ALLIANCE = "no such alliance"
NO_SUCH_DOCUMENT = "no such document"
NO_SUCH_ENTRY = "no such entry of the legal register"
DEFAULT_TLP = "GREEN"


def named(error: ActionError) -> ActionError:
    """A refusal of the body's schema ("body.title: ...", field `body`) as a refusal of the field it names (`title`),
    as the API's callers gave it."""
    if error.field == "body" and error.message.startswith("body."):
        name = error.message[5:].split(":", 1)[0].split(".", 1)[0]
        if name:
            found = type(error)(error.message[5:], field=name)
            return found
    return error


def visible(principal: Principal, kind: str, record_uuid: uuid.UUID | str, missing: str) -> Record:
    """A record of `kind` the principal may see; otherwise the same 404 as for none."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(missing) from None
    record = Record.objects.visible_to(principal).filter(kind=kind, uuid=key).select_related("current_version").first()
    if record is None:
        raise NotFound(missing)
    return record


def alliance_of(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(NO_SUCH_ALLIANCE)
    return found


def may_add(slug: str, account: Account) -> Alliance:
    """The alliance `slug` if `account` may add to its library: 404 for no such alliance, 403 for an account that
    may not act for it."""
    alliance = alliance_of(slug)
    if not library_access.may_act_for_alliance(account, alliance.slug):
        raise Forbidden(
            f"alliance: only accounts that may act for the {alliance.slug} alliance add to its library",
            field="alliance",
        )
    return alliance


def add_document(
    slug: str,
    *,
    acting_user: Account,
    doc_type: str,
    title: dict[str, str],
    abstract: dict[str, str] | None = None,
    tags: list[str] | None = None,
    languages: list[str],
    date: str,
    authors: str = "",
    files: list[library_files.Upload] | None = None,
    audience: Audience | None = None,
    tlp: str | None = None,
) -> Version:
    """Add a document to the library of the alliance `slug`, with its files (PDF, DOCX, XLSX)."""
    alliance = may_add(slug, acting_user)
    attachments = library_files.check(files or [])
    organisation = acting_user.organisation
    assert organisation is not None  # may_act_for_alliance holds only for an account of an organisation
    body: dict[str, Any] = {
        "alliance": alliance.slug,
        "type": doc_type,
        "title": title,
        "abstract": abstract or {},
        "tags": tags or [],
        "languages": languages,
        "date": date,
        "authors": authors,
        "publisher": {"slug": organisation.slug, "member": organisation.member.code},
    }
    try:
        return record_actions.publish(
            DOCUMENT_KIND,
            body,
            audience=audience if audience is not None else Audience(everyone=True),
            tlp=tlp or DEFAULT_TLP,
            acting_user=acting_user,
            files=attachments,
        )
    except ActionError as error:
        raise named(error) from None


def withdraw_document(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str) -> Version:
    """Withdraw a document (its publishing organisation, on its origin node): no longer listed nor served."""
    record = visible(Principal.of(acting_user), DOCUMENT_KIND, record_uuid, NO_SUCH_DOCUMENT)
    return record_actions.withdraw(record, acting_user=acting_user, reason=reason)


def _check_member(code: str) -> None:
    if not Member.objects.filter(code=code, kind=Member.Kind.STATE).exists():
        raise ActionError(f"member: {code!r} is not a member state", field="member")


def _refuse_writer(member: str) -> Forbidden:
    return Forbidden(
        f"member: the entries of {member} are written by its focal points, by accounts of a law alliance member "
        "organisation of it, or by the Secretariat's coordinators",
        field="member",
    )


def add_instrument(
    body: dict[str, Any], *, acting_user: Account, audience: Audience | None = None, tlp: str | None = None
) -> Version:
    """Add an entry to the legal register (a body of the `legal_instrument` kind)."""
    member = str(body.get("member") or "")
    _check_member(member)
    if not library_access.may_write_instrument(acting_user, member):
        raise _refuse_writer(member)
    try:
        return record_actions.publish(
            INSTRUMENT_KIND,
            body,
            audience=audience if audience is not None else Audience(everyone=True),
            tlp=tlp or DEFAULT_TLP,
            acting_user=acting_user,
        )
    except ActionError as error:
        raise named(error) from None


def revise_instrument(
    record_uuid: uuid.UUID | str,
    body: dict[str, Any],
    *,
    acting_user: Account,
    expected_seq: int | None = None,
    audience: Audience | None = None,
    tlp: str | None = None,
) -> Version:
    """Issue the next version of an entry (its organisation, on its origin node); it keeps its member."""
    record = visible(Principal.of(acting_user), INSTRUMENT_KIND, record_uuid, NO_SUCH_ENTRY)
    current = record.current_version
    assert current is not None
    member = str(current.body.get("member") or "")
    if not library_access.may_write_instrument(acting_user, member):
        raise _refuse_writer(member)
    if isinstance(body, dict) and body.get("member") != member:
        raise ActionError(f"member: the entry is {member}'s; an entry keeps its member", field="member")
    try:
        return record_actions.revise(
            record, acting_user=acting_user, expected_seq=expected_seq, body=body, audience=audience, tlp=tlp
        )
    except ActionError as error:
        raise named(error) from None


def withdraw_instrument(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str) -> Version:
    record = visible(Principal.of(acting_user), INSTRUMENT_KIND, record_uuid, NO_SUCH_ENTRY)
    current = record.current_version
    assert current is not None
    if not library_access.may_write_instrument(acting_user, str(current.body.get("member") or "")):
        raise _refuse_writer(str(current.body.get("member") or ""))
    return record_actions.withdraw(record, acting_user=acting_user, reason=reason)
