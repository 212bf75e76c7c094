"""Errors raised by actions. Each maps to one HTTP status and carries a message for the user."""

from __future__ import annotations


class ActionError(Exception):
    """The request is wrong (400 by default). `field` names the part that was wrong, if one."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Forbidden(ActionError):
    status = 403


class NotFound(ActionError):
    status = 404


class Conflict(ActionError):
    status = 409


class TooLarge(ActionError):
    status = 413
