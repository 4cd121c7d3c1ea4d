"""The resources of /api/v1, in one list: the mount serves them and the OpenAPI document describes them."""

from __future__ import annotations

from typing import Protocol

from starlette.routing import Route

from handlers.api import freeze, hypotheses, incidents, review, silences
from handlers.api.answers import Api
from handlers.apidoc import Doc, Paths


class Resource(Protocol):
    """A resource module: its routes, and the description of their paths."""

    def routes(self, api: Api) -> list[Route]:
        """The routes, with paths relative to the mount."""
        ...

    def describe(self, doc: Doc) -> Paths:
        """The OpenAPI paths (absolute)."""
        ...


RESOURCES: tuple[Resource, ...] = (incidents, hypotheses, review, silences, freeze)
