"""Errors raised by actions. Each maps to one HTTP status and carries a message for the user."""

from __future__ import annotations

import uuid


class ActionError(Exception):
    """The request is wrong (400 by default). `field` names the part that was wrong, if one."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Forbidden(ActionError):
    status = 403


class UnknownKey(Forbidden):
    """A received version is signed by a key this node does not know (yet) for its origin node: it may become
    valid when the key's announcement arrives (federation keeps it until then)."""

    def __init__(self, message: str, *, kid: str, node: uuid.UUID) -> None:
        super().__init__(message)
        self.kid = kid
        self.node = node


class NotFound(ActionError):
    status = 404


class Conflict(ActionError):
    status = 409


class TooLarge(ActionError):
    status = 413
