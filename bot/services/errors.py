"""Errors the use cases raise; handlers turn them into clear replies."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses, with a message fit to show the user."""

    code = "refused"


class IncidentNotFound(ServiceError):
    """No incident with that reference (or no incident for that channel)."""

    code = "not_found"


class IncidentNotOpen(ServiceError):
    """The incident is resolved or closed: its buttons and most commands are refused."""

    code = "not_open"


class BadRequest(ServiceError):
    """The request itself is malformed (bad severity, empty note...)."""

    code = "bad_request"


class NotAllowed(ServiceError):
    """A rule of who may do what refused the request; `rule` says which, in a sentence."""

    code = "forbidden"

    def __init__(self, rule: str) -> None:
        super().__init__(f"Refused: {rule}.")
        self.rule = rule
