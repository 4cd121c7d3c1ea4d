"""The page's "Send test alert" button: a sample alert posted to the bot's own webhook, as a monitor would.

The emulator knows no alert format: whoever starts it (the bot, in local mode) says where the webhook is and
gives the function that builds the body. The URL is fixed there; nothing on the page can point it elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

JSON = dict[str, Any]
MAX_OPTION = 200
"""The longest option value (summary, service, ...) the button passes on."""


@dataclass
class SampleAlert:
    """Where the test alert goes (`url`, set once the bot knows its address) and how its body is built.

    `build(options)` gets the page's options (str -> str, e.g. summary) and returns the webhook body;
    it raises ValueError for options it does not take.
    """

    build: Callable[[dict[str, str]], JSON]
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    async def send(self, client: httpx.AsyncClient, options: dict[str, str]) -> httpx.Response:
        """POST the body built from `options` to the webhook; RuntimeError when no URL is set yet."""
        if not self.url:
            raise RuntimeError("the test alert has no webhook URL yet")
        return await client.post(self.url, json=self.build(options), headers=self.headers)


def read_options(data: Any) -> dict[str, str]:
    """The options of a test-alert request: a JSON object of short strings; ValueError otherwise."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object of strings")
    options: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"option {key!r} must be a non-empty string")
        if len(value) > MAX_OPTION:
            raise ValueError(f"option {key!r} is longer than {MAX_OPTION} characters")
        options[str(key)] = value
    return options
