"""/api/v1/me, /members, /node, /kinds."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from accord.members.actions import describe_account
from accord.members.models import Account, Member, NodeIdentity, NodeKey
from accord.records import kinds

router: Router = Router(tags=["members"])


class AccountOut(Schema):
    username: str
    uuid: uuid.UUID
    member: str | None
    organisation: str | None
    roles: list[str]
    email: str
    active: bool


class MemberOut(Schema):
    code: str
    kind: str
    name_en: str
    name_zh: str
    name_ru: str


class NodeOut(Schema):
    node_id: uuid.UUID
    name: str
    member: str
    keys: list[dict[str, Any]]


class KindOut(Schema):
    name: str
    label: str
    body_schema: dict[str, Any]


@router.get("/me", response=AccountOut, summary="The account you are")
def me(request: HttpRequest) -> dict[str, Any]:
    account = request.auth  # type: ignore[attr-defined]
    assert isinstance(account, Account)
    return describe_account(account)


@router.get("/members", response=list[MemberOut], summary="The members")
def members(request: HttpRequest) -> list[Member]:
    return list(Member.objects.filter(active=True))


@router.get("/node", response=NodeOut, summary="This node's identity and public keys")
def node(request: HttpRequest) -> dict[str, Any]:
    identity = NodeIdentity.objects.select_related("member").get(id=1)
    keys = [
        {"kid": k.kid, "public_key": k.public_key, "active": k.active, "revoked": k.revoked_at is not None}
        for k in NodeKey.objects.filter(node_id=identity.node_id).order_by("created_at")
    ]
    return {"node_id": identity.node_id, "name": identity.name, "member": identity.member.code, "keys": keys}


@router.get("/kinds", response=list[KindOut], summary="The record kinds this node can create")
def record_kinds(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"name": k.name, "label": str(k.label), "body_schema": k.body_model.model_json_schema()}
        for k in kinds.all_kinds()
    ]
