"""The HTTP API under /api/v1: one module per resource, mounted once behind one authentication middleware.

`app.api_routes` mounts the resources (`incidents`, `review`, `silences`); `auth.RequireApiAuth` guards the
whole mount; `answers.Api.route` wraps every endpoint so its answer is redacted and its refusals are JSON.
Each resource module also describes its paths for the OpenAPI document (`describe`).
"""

from __future__ import annotations

PREFIX = "/api/v1"
"""Where the API is mounted."""
API_MAX_BODY = 64 * 1024
"""The body cap of every /api/v1 route (a silence is a few hundred bytes)."""
