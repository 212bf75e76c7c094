"""/api/v1/experts: the expert roster (the contract of issue #18; the names are used by checks outside this
repository: keep them).

* `PUT /api/v1/experts/me`, `GET /api/v1/experts/me`, `DELETE /api/v1/experts/me`: a person's own profile;
* `GET /api/v1/experts?field=&language=&available_on=&member=&alliance=&deployable=`: the profiles the caller may
  see, paged; `GET /api/v1/experts/{id}`: one (404 when not visible, withdrawn or none);
* `POST /api/v1/experts`, `PUT /api/v1/experts/{id}`, `DELETE /api/v1/experts/{id}`: profiles a focal point
  manages for people without an account (with their recorded consent).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool

from accord.alliances import roster_actions, roster_queries, vocab
from accord.alliances.roster_models import ExpertProfile
from accord.api import MAX_OFFSET, AudienceIn, Tlp, account_of, errors, links_to, page_of, principal_of, require_write
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal

router: Router = Router(tags=["experts"])

PROFILE_EXAMPLE: dict[str, Any] = {
    "fields": ["epidemiology", "laboratory_diagnostics"],
    "languages": [{"code": "ru", "level": "C1"}, {"code": "en", "level": "B2"}],
    "available": [{"from": "2026-06-01", "until": "2026-08-31"}],
    "deployable": True,
    "deploy_within_days": 7,
    "audience": {"members": ["SCO"]},
    "tlp": "AMBER",
}


class LanguageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=10, description="a language code of the roster (ISO 639-1: zh, ru, en ...)")
    level: str = Field(max_length=10, description="A1, A2, B1, B2, C1, C2 or native")


class WindowIn(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from", max_length=40, description="the first day (YYYY-MM-DD)")
    until: str = Field(max_length=40, description="the last day (YYYY-MM-DD), not before `from`")


class ProfileAudienceIn(AudienceIn):
    """The generic audience, or the shorthand `alliances` (slugs): the members of the alliances' member
    organisations."""

    alliances: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=3)

    def chosen(self) -> dict[str, Any]:
        found = self.plain()
        if found.get("alliances") is None:
            found.pop("alliances", None)
        return found


class ProfileIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    fields: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list, max_length=40, description="codes of the fields of expertise (at least one)"
    )
    languages: list[LanguageIn] = Field(default_factory=list, max_length=40)
    available: list[WindowIn] = Field(default_factory=list, max_length=40, description="availability windows")
    deployable: StrictBool = False
    deploy_within_days: int | None = Field(default=None, description="how fast the person can deploy, in days")
    alliances: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=10, description="the alliances the person works with (slugs)"
    )
    note: str = Field(default="", max_length=1000)
    contact_email: str | None = Field(default=None, max_length=254)
    audience: ProfileAudienceIn | None = Field(
        default=None, description="who may see the profile; default: the Secretariat only (with TLP:AMBER)"
    )
    tlp: Tlp | None = Field(default=None, description="default: AMBER (GREEN with an audience of everyone)")

    def profile(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "languages": [{"code": item.code, "level": item.level} for item in self.languages],
            "available": [{"from": item.start, "until": item.until} for item in self.available],
            "deployable": self.deployable,
            "deploy_within_days": self.deploy_within_days,
            "alliances": list(self.alliances),
            "note": self.note,
            "contact_email": self.contact_email,
        }

    def visibility(self) -> dict[str, Any] | None:
        return self.audience.chosen() if self.audience is not None else None


class ProfileConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    given_on: str = Field(max_length=40, description="the day the person gave consent (YYYY-MM-DD)")
    method: str = Field(max_length=200, description="how: in writing, by e-mail, in person ...")
    recorded_by: str | None = Field(default=None, max_length=200, description="default: the focal point's name")


class ManagedIn(ProfileIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    **PROFILE_EXAMPLE,
                    "name": "Aigerim Seitkali",
                    "consent": {"given_on": "2026-04-20", "method": "signed form"},
                }
            ]
        },
    )

    name: str | None = Field(default=None, max_length=200, description="the person's name")
    organisation: str | None = Field(
        default=None, max_length=80, description="the affiliation (slug of an organisation of your member)"
    )
    consent: ProfileConsentIn | None = Field(default=None, description="the person's recorded consent (required)")

    def managed(self) -> dict[str, Any]:
        found = self.profile()
        found["name"] = self.name
        found["organisation"] = self.organisation
        found["consent"] = self.consent.model_dump(exclude_none=True) if self.consent is not None else None
        return found


class AffiliationOut(Schema):
    organisation: str = Field(description="the organisation's slug")
    member: str
    name: str


class LanguageOut(Schema):
    code: str
    level: str


class ExpertOut(Schema):
    id: UUID = Field(description="the profile's record")
    node: UUID
    seq: int
    name: str
    account: UUID | None = Field(description="the person's account (their own profile); null when managed")
    affiliation: AffiliationOut
    organisation: str = Field(description="the affiliation's organisation slug")
    member: str = Field(description="the affiliation's member")
    fields: list[str]
    languages: list[LanguageOut]
    available: list[dict[str, str]] = Field(description="availability windows: `from` and `until` (YYYY-MM-DD)")
    deployable: bool
    deploy_within_days: int | None
    alliances: list[str]
    note: str
    contact_email: str | None
    managed: bool
    consent: dict[str, str] | None
    audience: dict[str, Any]
    tlp: str
    updated_at: str


class ExpertPage(Schema):
    count: int = Field(description="how many experts match (on every page)")
    items: list[ExpertOut]
    next_offset: int | None


class WithdrawnOut(Schema):
    id: UUID
    state: str = Field(description="withdrawn")


class ExpertFilters(Schema):
    field: str | None = Field(default=None, max_length=60, description="a field of expertise's code")
    language: str | None = Field(default=None, max_length=10, description="a language code")
    available_on: str | None = Field(default=None, max_length=40, description="a day (YYYY-MM-DD) the expert is free")
    available_from: str | None = Field(default=None, max_length=40, description="with available_until: a period")
    available_until: str | None = Field(default=None, max_length=40)
    member: str | None = Field(default=None, max_length=8, description="the affiliation's member code")
    alliance: str | None = Field(default=None, max_length=40, description="an alliance the expert works with")
    deployable: bool | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


def _out(row: ExpertProfile) -> dict[str, Any]:
    return roster_queries.details(row)


def _view(principal: Principal, record_uuid: UUID | str) -> dict[str, Any]:
    return _out(roster_queries.profile_for(principal, record_uuid))


@router.put(
    "/me",
    response={200: ExpertOut, 201: ExpertOut},
    summary="Put your own expert profile (role expert): 201 when new, 200 when revised",
    description=(
        "Fields, languages and levels, availability windows, deployability, and who may see it: `audience` (the "
        'generic shape, or `{"alliances": ["medicine"]}` for the members of an alliance) and `tlp`. Without an '
        "audience: the Secretariat only, TLP:AMBER (a revision keeps the audience it had). Bad input is a 400 "
        "naming the field (`fields`, `languages`, `available` ...), and nothing is stored."
    ),
)
def put_me(request: HttpRequest, payload: ProfileIn) -> Status[dict[str, Any]]:
    require_write(request)
    version, created = roster_actions.put_own(
        account_of(request), profile=payload.profile(), audience=payload.visibility(), tlp=payload.tlp
    )
    return Status(201 if created else 200, _view(principal_of(request), version.record_uuid))


@router.get("/me", response={200: ExpertOut, **errors(404)}, summary="Your own expert profile (404 when you have none)")
def get_me(request: HttpRequest) -> dict[str, Any]:
    found = roster_queries.own_profile(account_of(request))
    if found is None:
        raise NotFound("you have no expert profile on the roster", field="profile")
    return _out(found)


@router.delete(
    "/me",
    response={200: WithdrawnOut, **errors(404)},
    summary="Withdraw from the roster: your profile disappears from every search at once",
    description="Its versions stay in the record store for the audit only. You can publish a new profile later.",
)
def delete_me(request: HttpRequest) -> dict[str, Any]:
    require_write(request)
    version = roster_actions.withdraw_own(account_of(request))
    return {"id": version.record_uuid, "state": version.state}


@router.get(
    "",
    response=ExpertPage,
    summary="Experts you may see, by name",
    description=(
        "Filters: `field`, `language`, `available_on` (a day) or `available_from`..`available_until` (a window "
        "covering the whole period), `member` (the affiliation's), `alliance`, `deployable`. Only profiles whose "
        "audience and TLP let you see them are listed or counted; withdrawn profiles never."
    ),
)
def list_experts(request: HttpRequest, filters: Query[ExpertFilters]) -> dict[str, Any]:
    if filters.field:
        vocab.check_field(filters.field, "field")
    if filters.language:
        vocab.check_language(filters.language, "language")
    if filters.available_on and (filters.available_from or filters.available_until):
        raise ActionError("available_on: give a day, or a period with available_from and available_until",
                          field="available_on")  # fmt: skip
    on = roster_queries.day(filters.available_on, "available_on")
    start = on or roster_queries.day(filters.available_from, "available_from")
    end = on or roster_queries.day(filters.available_until, "available_until")
    rows = roster_queries.search(
        principal_of(request),
        field=filters.field,
        language=filters.language,
        available_from=start,
        available_until=end,
        member=filters.member,
        alliance=filters.alliance,
        deployable=filters.deployable,
    )
    return page_of(rows, filters.limit, filters.offset, _out)


@router.post(
    "",
    response={201: ExpertOut},
    summary="List a person without an account (a focal point, with the person's recorded consent)",
    openapi_extra=links_to(
        201,
        "record_uuid",
        "accord_alliances_roster_api_get_expert",
        "accord_alliances_roster_api_put_expert",
        "accord_alliances_roster_api_delete_expert",
        pointer="/id",
    ),
)
def create_expert(request: HttpRequest, payload: ManagedIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = roster_actions.create_managed(
        account_of(request), profile=payload.managed(), audience=payload.visibility(), tlp=payload.tlp
    )
    return Status(201, _view(principal_of(request), version.record_uuid))


@router.get("/{uuid:record_uuid}", response=ExpertOut, summary="One expert (404 when you may not see it)")
def get_expert(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return _view(principal_of(request), record_uuid)


@router.put(
    "/{uuid:record_uuid}",
    response=ExpertOut,
    summary="Revise a profile your organisation manages (focal point), or your own",
)
def put_expert(request: HttpRequest, record_uuid: UUID, payload: ManagedIn) -> dict[str, Any]:
    require_write(request)
    version = roster_actions.update_profile(
        account_of(request),
        record_uuid,
        profile=payload.managed(),
        audience=payload.visibility(),
        tlp=payload.tlp,
    )
    return _view(principal_of(request), version.record_uuid)


@router.delete(
    "/{uuid:record_uuid}",
    response=WithdrawnOut,
    summary="Withdraw a profile your organisation manages (focal point), or your own",
)
def delete_expert(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    require_write(request)
    version = roster_actions.withdraw_profile(account_of(request), record_uuid)
    return {"id": version.record_uuid, "state": version.state}


def add_routers(api: Any) -> None:
    api.add_router("/experts", router)
