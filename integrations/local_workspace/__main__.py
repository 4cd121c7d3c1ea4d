"""Run the emulator from the command line: `python -m integrations.local_workspace --port 0`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .server import EmulatorServer
from .workspace import DEFAULT_SIGNING_SECRET, DEFAULT_TOKEN, Workspace


def main(argv: list[str] | None = None) -> int:
    """Serve a fresh workspace until interrupted; prints the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="Loopback Slack-compatible workspace emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (only loopback clients are served)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--signing-secret", default=DEFAULT_SIGNING_SECRET)
    parser.add_argument("--events-url", default=None, help="where signed commands/interactions/events go")
    parser.add_argument("--app-token", default=None, help="an xapp- token: turns Socket Mode on (no events URL needed)")
    parser.add_argument("--rate-limit-scale", type=float, default=1.0, help="0 turns rate limits off")
    options = parser.parse_args(argv)
    workspace = Workspace(
        options.token,
        options.signing_secret,
        options.events_url,
        rate_limit_scale=options.rate_limit_scale,
        app_token=options.app_token,
    )
    server = EmulatorServer(workspace, host=options.host, port=options.port)

    async def serve() -> None:
        await server.start()
        print(server.url, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
