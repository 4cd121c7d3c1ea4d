"""/api/v1 as one mount: every resource's routes and the OpenAPI document, behind `RequireApiAuth`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from handlers import openapi
from handlers.api import PREFIX
from handlers.api.answers import Api
from handlers.api.auth import ApiAuth, RequireApiAuth
from handlers.api.resources import RESOURCES


class ApiMount(Mount):
    """A Mount that takes every path under its prefix, a newline in it too.

    Starlette's `{path:path}` is `.*`, which stops at a newline: `/api/v1/incidents/%0A` would miss the mount
    and get a 404 instead of meeting the authentication every path under /api/v1 meets.
    """

    def __init__(self, path: str, *, routes: Sequence[BaseRoute], middleware: Sequence[Middleware]) -> None:
        super().__init__(path, routes=routes, middleware=middleware)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_routes(api: Api, auth: ApiAuth) -> list[BaseRoute]:
    """The mount: the OpenAPI document (public) and every resource's routes (need `auth`)."""
    routes = [openapi.route(), *(route for resource in RESOURCES for route in resource.routes(api))]
    guard = Middleware(RequireApiAuth, auth=auth, public=[openapi.MOUNTED_PATH])
    return [ApiMount(PREFIX, routes=routes, middleware=[guard])]
