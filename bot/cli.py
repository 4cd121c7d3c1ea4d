"""`warroom` command line: serve, migrate, check-config, audit verify, demo, digest, runbooks lint, postmortem."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, check_config, load_settings
from bot.db.owner import DatabaseInUse, SqliteOwner
from bot.exposure import exposure_problems, http_url, loopback_url
from bot.redact import Redactor, install_log_redaction

log = logging.getLogger("warroom")


def setup_logging(settings: Settings) -> Redactor:
    """Root logging to stderr, every record redacted."""
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("alembic.runtime.plugins", "httpx", "httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redactor = Redactor(settings.secret_values())
    install_log_redaction(redactor)
    return redactor


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


def _own_sqlite_file(settings: Settings, purpose: str) -> SqliteOwner | None:
    """Take the SQLite file for this process (None on PostgreSQL); DatabaseInUse when another holds it."""
    owner = SqliteOwner.for_url(settings.database_url)
    if owner is not None:
        owner.acquire(purpose=purpose)
    return owner


def cmd_migrate(settings: Settings) -> int:
    """Apply database migrations (on PostgreSQL one process at a time; SQLite: not under a running bot)."""
    from bot.db.migrate import MigrationLockTimeout, upgrade

    try:
        owner = _own_sqlite_file(settings, "warroom migrate")
    except DatabaseInUse as exc:
        print(f"warroom migrate: {exc}", file=sys.stderr)
        return 1
    try:
        upgrade(settings.database_url)
    except MigrationLockTimeout as exc:
        print(f"warroom migrate: {exc}", file=sys.stderr)
        return 1
    finally:
        if owner is not None:
            owner.release()
    print(f"database migrated to head ({settings.database_url_display})")
    return 0


def cmd_check_config(settings: Settings) -> int:
    """Validate settings and warroom.yml."""
    ok, text = check_config(settings)
    print(text)
    return 0 if ok else 1


async def _audit(settings: Settings) -> int:
    from bot.audit import verify
    from bot.db.store import Store

    store = Store.from_url(settings.database_url)
    try:
        report = await verify(store)
    finally:
        await store.dispose()
    print(report.describe())
    return 0 if report.ok else 1


async def _serve(settings: Settings, *, migrate: bool) -> int:
    try:
        owner = _own_sqlite_file(settings, "warroom serve")
    except DatabaseInUse as exc:
        print(f"warroom serve: {exc}", file=sys.stderr)
        return 1
    try:
        return await _serve_owned(settings, migrate=migrate)
    finally:
        if owner is not None:
            owner.release()


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound and listening: connections wait in the backlog from now on, so the URLs
    printed at start-up work at once."""
    # IPPROTO_TCP (not 0) so asyncio turns on TCP_NODELAY for accepted connections; with proto 0 every
    # response waits ~40 ms on Nagle + delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


async def _serve_owned(settings: Settings, *, migrate: bool) -> int:
    import uvicorn

    from bot.bootstrap import LOCAL_PAGE_PATH, build
    from bot.http_server import Server

    if problems := exposure_problems(settings):
        for problem in problems:
            log.error("refusing to start: %s", problem)
        return 2
    if migrate:
        from bot.db.migrate import MigrationLockTimeout, upgrade

        try:
            await asyncio.to_thread(upgrade, settings.database_url)
        except MigrationLockTimeout as exc:
            print(f"warroom serve: {exc}", file=sys.stderr)
            return 1
    sock = _listening_socket(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    container = build(settings, instance=f"{socket.gethostname()}:{port}")
    base = http_url(host, port)
    container.set_public_url(loopback_url(host, port))  # the emulator answers loopback clients only
    server = Server(
        uvicorn.Config(
            container.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            http="httptools",  # C parser (uvicorn[standard]); h11 is pure Python
            ws="none",  # the bot serves no WebSocket (Socket Mode is a client connection out to Slack)
            proxy_headers=True,  # X-Forwarded-For names the client only when a trusted proxy sends it
            forwarded_allow_ips=settings.trusted_proxies,
        ),
        container.begin_shutdown,  # open local-mode pages must not hold the shutdown up
    )
    if container.local:
        mode = "local mode (built-in Slack emulator)"
    else:
        mode = "Slack Socket Mode" if container.socket else "Slack HTTP mode"
    log.info("warroom listening on %s — %s; database %s", base, mode, settings.database_url_display)
    if container.local:
        log.info("local Slack API at %s/local-slack/api/ ; try: warroom demo", loopback_url(host, port))
    print(f"warroom ready on {base} ({mode})", flush=True)
    if container.local:
        page = f"{loopback_url(host, port)}{LOCAL_PAGE_PATH}"
        print(f"open {page} in a browser and press 'Send test alert' (or run: warroom demo)", flush=True)
    # Start-up objects live as long as the process: keep them out of every GC pass, and collect the young
    # generation less often (alert storms allocate many short-lived dicts).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    await server.serve(sockets=[sock])
    return 0


async def _postmortem(settings: Settings, redactor: Redactor, ref: str, output: str | None) -> int:
    """Print (or write to `output`) the post-mortem draft of an incident as it stands, redacted."""
    from pathlib import Path

    from bot.bootstrap.builders import sla_targets
    from bot.bootstrap.outbound import postmortem_renderer
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.db.store import Store
    from bot.services.deps import Deps
    from bot.services.errors import ServiceError
    from bot.services.postmortems import draft

    config = load_config(settings.config_path)
    renderer = postmortem_renderer(config)
    redactor.ips = config.redaction.ip_addresses
    store = Store.from_url(settings.database_url)
    deps = Deps(store=store, clock=SystemClock(), sla=sla_targets(config), redact=redactor)
    try:
        text = redactor(renderer.render(await draft(deps, ref=ref)))
    except ServiceError as exc:
        print(f"warroom postmortem: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.dispose()
    if output is None:
        sys.stdout.write(text)
        return 0
    await asyncio.to_thread(Path(output).write_text, text, encoding="utf-8")
    print(f"wrote the post-mortem of {ref.upper()} to {output}", file=sys.stderr)
    return 0


def cmd_runbooks_lint(paths: list[str], *, promql: bool) -> int:
    """Check every runbook file; print `file:line: problem` lines; 1 when anything is wrong."""
    from pathlib import Path

    from bot.runbook_lint import PromtoolMissing, lint
    from bot.runbooks import default_directory

    try:
        loaded, findings = lint([Path(p) for p in paths] or [default_directory()], promql=promql)
    except PromtoolMissing as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    status = "no problems" if not findings else f"{len(findings)} problem(s)"
    print(f"{len(loaded.runbooks)} runbook(s) valid, {status}", file=sys.stderr)
    return 1 if findings else 0


def _digest(settings: Settings, day: str | None, *, dry_run: bool) -> int:
    from bot.digest_cli import parse_day, run_digest

    try:
        parsed = parse_day(day) if day else None
    except ValueError as exc:
        print(f"warroom digest: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(run_digest(settings, day=parsed, dry_run=dry_run))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `warroom` console script."""
    parser = argparse.ArgumentParser(prog="warroom", description="ChatOps incident response for Slack")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bot (applies migrations first)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations at start")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("check-config", help="validate the environment and warroom.yml")
    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="walk the hash chain and report the first broken row")
    demo = sub.add_parser("demo", help="send a sample alert to the local-mode bot and print the war room")
    demo.add_argument("--title", default="Checkout is failing", help="the alert's summary")
    demo.add_argument("--severity", default="SEV2", choices=["SEV1", "SEV2", "SEV3"])
    digest = sub.add_parser("digest", help="render the daily digest on demand (and post it, unless --dry-run)")
    digest.add_argument("--date", help="the report day, YYYY-MM-DD (default: the last one that ended)")
    digest.add_argument("--dry-run", action="store_true", help="print the digest; post nothing")
    runbooks = sub.add_parser("runbooks", help="runbook library tools")
    runbooks_sub = runbooks.add_subparsers(dest="runbooks_command", required=True)
    lint = runbooks_sub.add_parser("lint", help="check runbook files: schema, ids, placeholders, PromQL (promtool)")
    lint.add_argument("paths", nargs="*", help="files or directories (default: ./runbooks)")
    lint.add_argument("--no-promql", action="store_true", help="skip the promtool parse of PromQL queries")
    postmortem = sub.add_parser("postmortem", help="print an incident's post-mortem draft (Markdown, redacted)")
    postmortem.add_argument("ref", help="the incident, e.g. INC-20261123-001")
    postmortem.add_argument("--output", "-o", help="write it to this file instead of printing it")
    args = parser.parse_args(argv)

    if args.command == "runbooks":
        return cmd_runbooks_lint(args.paths, promql=not args.no_promql)

    settings = _settings()
    if args.command == "check-config":
        return cmd_check_config(settings)
    redactor = setup_logging(settings)
    if args.command == "migrate":
        return cmd_migrate(settings)
    if args.command == "audit":
        return asyncio.run(_audit(settings))
    if args.command == "postmortem":
        try:
            return asyncio.run(_postmortem(settings, redactor, args.ref, args.output))
        except (ConfigError, ValueError) as exc:
            print(f"warroom postmortem: {exc}", file=sys.stderr)
            return 2
    if args.command == "serve":
        import uvloop

        return uvloop.run(_serve(settings, migrate=not args.no_migrate))
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(settings, title=args.title, severity=args.severity))
    if args.command == "digest":
        return _digest(settings, args.date, dry_run=args.dry_run)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
