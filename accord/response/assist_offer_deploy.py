"""The request page's part about commitments and deployments (the template `response/_assist_offer_deploy.html`):
for each offer on the request, what was accepted of it for this request, committed, deployed and delivered, and its
deployments (each linked to its page); for the offering member's focal points, the commit form and the link to the
deploy form, or why not here (an offer is committed and deployed on its own node).

`dress(principal, out, own=, may_act=, errors=)` adds this to the request's dict of `assist_views` (each offer's
`deploy`, and `deploying`: the offers that have something to show). Reads only: the offers and deployments through
the audience filter (`assist_actions.offer_for`, `assist_queries.deployments_of_offer`), the sums from the ledger's
rows of those offers. What was accepted is counted as the ledger counts it (`assist_ledger.accepted_of_offer`): of a
withdrawn offer, only what was committed; the rest is shown as released back to the request's gap, and a withdrawn
offer has no commit form and no deploy link (the actions refuse it, 409).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model, QuerySet, Sum
from django.urls import reverse

from accord.records import actions as record_actions
from accord.records.errors import NotFound
from accord.records.principal import Principal
from accord.response import assist_actions, assist_points, assist_queries
from accord.response import assist_ledger as ledger
from accord.response.assist_deploy_forms import status_label
from accord.response.assist_forms import region_name, unit_name
from accord.response.assist_models import (
    AssistanceAcceptanceView,
    AssistanceCommitmentView,
    AssistanceOfferView,
    AssistanceRequestView,
    DeploymentView,
)


def _sum(rows: QuerySet[Any], column: str = "quantity") -> int:
    return int(rows.aggregate(total=Sum(column))["total"] or 0)


def _rows(model: type[Model], offer: Any, request: Any) -> QuerySet[Any]:
    found: QuerySet[Any] = model.objects.filter(  # type: ignore[attr-defined]
        offer_record=offer, request_record=request, counted=True
    )
    return found


def _accepted(offer: Any, request: Any) -> tuple[int, int]:
    """What counts as accepted of the offer for the request, as the ledger counts it (`assist_ledger`: of a withdrawn
    offer only what was committed), and all that was accepted of it."""
    wanted = AssistanceRequestView.objects.filter(record__uuid=request).values_list("node", "member").first()
    offered = AssistanceOfferView.objects.filter(record__uuid=offer).values_list("node", flat=True).first()
    if wanted is None or offered is None:  # not projected here (yet): the counted acceptances as they are
        accepted = _sum(_rows(AssistanceAcceptanceView, offer, request))
        return accepted, accepted
    return ledger.accepted_of_offer(offered, uuid.UUID(str(offer)), wanted[0], uuid.UUID(str(request)), wanted[1])


def sums(offer: Any, request: Any) -> dict[str, int]:
    """What counts as accepted of an offer for a request (as the ledger counts it), committed, deployed and
    delivered; what was accepted of a withdrawn offer and released back to the request's gap; what is left to commit
    and to deploy."""
    accepted, all_accepted = _accepted(offer, request)
    committed = _sum(_rows(AssistanceCommitmentView, offer, request))
    deployments = _rows(DeploymentView, offer, request)
    deployed, delivered = _sum(deployments), _sum(deployments, "delivered")
    return {
        "accepted": accepted,
        "released": all_accepted - accepted,
        "committed": committed,
        "deployed": deployed,
        "delivered": delivered,
        "to_commit": max(accepted - committed, 0),
        "to_deploy": max(accepted - deployed, 0),
    }


def deployment_row(out: dict[str, Any]) -> dict[str, Any]:
    """A deployment of `assist_queries.deployment_out` with what a page shows of it."""
    out["status_label"] = status_label(str(out.get("status", "")))
    out["unit_name"] = unit_name(str(out.get("unit", "")))
    out["region_name"] = region_name(str((out.get("location") or {}).get("region", "")))
    out["point_text"] = assist_points.text((out.get("location") or {}).get("point"))
    out["url"] = reverse("assist-deployment", args=[out["id"]])
    return out


def dress(principal: Principal, out: dict[str, Any], *, own: str, may_act: bool, errors: dict[str, str]) -> None:
    here = str(record_actions.here().node_id)
    out["deploying"] = []
    for offer in out["offers"]:
        try:
            record = assist_actions.offer_for(principal, offer["id"])
        except NotFound:
            continue
        found = sums(offer["id"], out["id"])
        deployments = [
            deployment_row(assist_queries.deployment_out(d))
            for d in assist_queries.deployments_of_offer(principal, record)
            if str(d.current_version.body.get("request", {}).get("record")) == str(out["id"])  # type: ignore[union-attr]
        ]
        provider = may_act and own == offer["member"] and offer["state"] == "active"
        offer["deploy"] = {
            **found,
            "deployments": deployments,
            "provider": provider,
            "elsewhere": provider and str(offer["node"]) != here,
            "commit_error": errors.get(f"commit-{offer['id']}", ""),
            "deploy_url": reverse("assist-deploy", args=[offer["id"]]) + f"?request={out['id']}",
        }
        if found["accepted"] or found["released"] or deployments:
            out["deploying"].append(offer)
