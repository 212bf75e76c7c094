"""Publishing alerts and subscribing people, through the actions."""

from __future__ import annotations

from typing import Any

from accord.alerts import actions as alert_actions
from accord.members.models import Account
from accord.notify import actions
from accord.notify.models import Channel, Subscription
from accord.records.envelope import Audience
from accord.records.models import Version
from tests.alerts.support import cap, info


def publish(author: Account, *, audience: Audience | None = None, tlp: str = "GREEN", **info_fields: Any) -> Version:
    body = cap(info(**info_fields))
    result = alert_actions.publish_alert(
        body, audience=audience or Audience(everyone=True), tlp=tlp, acting_user=author
    )
    return result.version


def subscribe(
    owner: Account,
    *,
    webhook: str | None = None,
    email: str | None = None,
    language: str | None = None,
    mode: str = "immediate",
    immediate_severity: str = "",
    **filters: Any,
) -> tuple[Subscription, Channel]:
    channel = actions.create_channel(
        kind="webhook" if webhook else "email",
        target=webhook or email or owner.email,
        account=owner,
        language=language,
        acting_user=owner,
    )
    subscription = actions.create_subscription(
        channels=[channel],
        filters=actions.Filters(**filters),
        account=owner,
        mode=mode,
        immediate_severity=immediate_severity,
        name="test",
        acting_user=owner,
    )
    return subscription, channel
