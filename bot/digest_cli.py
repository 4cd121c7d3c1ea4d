"""`warroom digest [--date YYYY-MM-DD] [--dry-run]`: render the daily digest on demand.

Without `--date` it is the last report day that has ended (at the configured time and zone). `--dry-run` prints
it (redacted) and posts nothing. Otherwise it is posted like the timer posts it, and once: a digest already
posted for that day (by the timer or an earlier run) is not posted again. Posting needs a real Slack workspace:
in local mode the emulator lives inside the running bot, so only `--dry-run` is offered.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

from bot.bootstrap.chat import build_chat
from bot.bootstrap.outbound import build_outbound
from bot.bootstrap.reports import build_digest, digest_schedule
from bot.clock import SystemClock
from bot.config import AppConfig, ConfigError, Settings, load_config
from bot.db.store import Store
from bot.domain.digest import day_window, report_day
from bot.domain.digest_notices import digest_text
from bot.redact import Redactor
from bot.services.deps import Deps
from bot.services.stats import Telemetry


def last_ended(config: AppConfig, now: datetime) -> date:
    """The newest report day whose end is not after `now`."""
    s = digest_schedule(config)
    day = report_day(now, tz=s.tz)
    return day if day_window(day, at=s.at, tz=s.tz)[1] <= now else day - timedelta(days=1)


def parse_day(text: str) -> date:
    """`YYYY-MM-DD` (argparse's type: a clear error otherwise)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


async def run_digest(settings: Settings, *, day: date | None, dry_run: bool) -> int:
    """Render, and unless `dry_run` post, the digest of `day`; the exit status."""
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not dry_run and settings.local_mode:
        print("warroom digest: in local mode the running bot posts the digest; use --dry-run", file=sys.stderr)
        return 2
    clock = SystemClock()
    redactor = Redactor(settings.secret_values(), ips=config.redaction.ip_addresses)
    store = Store.from_url(settings.database_url)
    deps = Deps(store=store, clock=clock, redact=redactor)
    day = day or last_ended(config, clock.now())
    try:
        if dry_run:
            report = await build_digest(deps, store, config, chat=None, discord=None).build(day)
            print(digest_text(redactor.card(report)))
            return 0
        return await _post(settings, config, deps, store, redactor, day)
    finally:
        await store.dispose()


async def _post(settings: Settings, config: AppConfig, deps: Deps, store: Store, redactor: Redactor, day: date) -> int:
    chat = build_chat(settings, redactor, Telemetry(), deps.clock).chat
    outbound = build_outbound(settings, config, redactor, deps.clock)
    try:
        digest = build_digest(deps, store, config, chat=chat, discord=outbound.reports)
        report = await digest.build(day)
        posted = await digest.post(report)
    finally:
        await outbound.close()
    print(digest_text(redactor.card(report)))
    where = [
        w for w, done in (("Slack", posted.slack_ts), ("chart", posted.chart), ("Discord", posted.discord)) if done
    ]
    print(f"\nposted the digest of {day.isoformat()} ({', '.join(where)}; a place that had it already is skipped)")
    return 0
