"""Background work of the response room: the incident's origin reacting to consents stored here."""

from __future__ import annotations

from accord.records.models import Version


def consent_committed(version_id: int) -> None:
    """A listener of `version_committed` for consents (run by the worker after the commit, for consents written
    here and received from peers alike): where the incident was issued, a consent that is no longer given
    drops the incident from level 2 or 3 to level 1 (`actions.react_to_consent`, which does nothing when there
    is nothing to do)."""
    from accord.response.actions import react_to_consent

    version = Version.objects.filter(pk=version_id, kind="consent").first()
    if version is not None and version.state == "active":
        react_to_consent(version)
