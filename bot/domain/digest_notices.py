"""The digest's sections as neutral text, and from them its Discord notices and its plain-text form
(`warroom digest --dry-run`). Slack renders the same sections in Block Kit (integrations/slack_rooms/blocks_digest.py).

Every title, alert name and action item is data (a `str` part): each platform escapes it; owners are mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.digest import DigestReport, age, figures
from bot.domain.outbound import Notice, NoticeField
from bot.domain.text import Icon, Mention, Part, Strong, Text, visible


@dataclass(frozen=True, slots=True)
class Section:
    """A titled list of lines (an empty list: the section shows `empty`)."""

    title: str
    lines: tuple[Text, ...]
    empty: str = "none"
    more: int = 0  # lines not listed (the list is cut)


def owner(user_id: str | None) -> Part:
    """A mention of the owner, or `unassigned`."""
    return Mention(user_id) if user_id else "unassigned"


def sections(report: DigestReport) -> list[Section]:
    """Open incidents, noisiest alerts, suppressed duplicates, review queue, overdue action items."""
    d = report.data
    open_lines = tuple(
        Text.of(Strong(o.ref), f" {o.severity.value} · ", o.title, f" · open {age(o.declared_at, report.end)} · ",
                owner(o.owner))
        for o in d.open_incidents
    )  # fmt: skip
    noisy = tuple(Text.of(Strong(n.alertname), f" · {n.received} received ({n.alerts} alerts)") for n in d.noisy)
    alerts = Text.of(
        f"{d.alerts_received} alert notifications, {d.duplicates} suppressed as duplicates, {d.silenced} silenced"
    )
    review = (Text.of(f"{d.review_total} waiting: ", ", ".join(d.review)),) if d.review_total else ()
    overdue = tuple(
        Text.of(Strong(i.ref), " ", i.text or i.item, f" · due {i.due_at:%Y-%m-%d} · ", owner(i.owner))
        for i in d.overdue
    )
    return [
        Section(f"Open incidents ({d.open_total})", open_lines, more=d.open_total - len(open_lines)),
        Section("Noisiest alerts", (*noisy, alerts)),
        Section(f"Review queue ({d.review_total})", review, empty="empty"),
        Section(f"Overdue action items ({d.overdue_total})", overdue, more=d.overdue_total - len(overdue)),
    ]


def digest_title(report: DigestReport) -> str:
    """`Daily incident digest — 2026-11-23`."""
    return f"Daily incident digest — {report.day.isoformat()}"


def window_line(report: DigestReport) -> str:
    """The day's window in UTC and the zone it is read in."""
    return f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC (report day in {report.tz})"


def digest_headline(report: DigestReport) -> Text:
    """The Discord message's content line."""
    return Text.of(Icon.INFO, " ", Strong(digest_title(report)))


def digest_notices(report: DigestReport, *, image: str | None = None) -> list[Notice]:
    """The digest as Discord shows it: the figures (with the chart as their image), then the sections."""
    head = Notice(
        digest_title(report),
        Text.of(window_line(report)),
        tuple(NoticeField(f.label, Text.of(Strong(f.value), "\n", f.trend), inline=False) for f in figures(report)),
        at=report.end, footer="warroom daily digest", image=image,
    )  # fmt: skip
    fields = []
    for s in sections(report):
        value = Text.join("\n", s.lines) if s.lines else Text.of(s.empty)
        if s.more > 0:
            value = Text.of(value, f"\n… and {s.more} more")
        fields.append(NoticeField(s.title, value, inline=False))
    return [head, Notice("Open work and noise", fields=tuple(fields))]


def plain(text: Text) -> str:
    """A neutral text for a terminal: data as written (invisible characters dropped), mentions as @id."""
    out: list[str] = []
    for p in text:
        if isinstance(p, str):
            out.append(visible(p))
        elif isinstance(p, Strong):
            out.append(visible(p.text))
        elif isinstance(p, Mention):
            out.append(f"@{p.user_id}")
    return "".join(out)


def digest_text(report: DigestReport) -> str:
    """The digest as plain text (the CLI's --dry-run)."""
    lines = [digest_title(report), window_line(report), ""]
    lines += [f"{f.label}: {f.value}  [{f.trend}]" for f in figures(report)]
    for s in sections(report):
        lines += ["", f"{s.title}:"]
        lines += [f"  - {plain(line)}" for line in s.lines] or [f"  {s.empty}"]
        if s.more > 0:
            lines.append(f"  … and {s.more} more")
    return "\n".join(lines)
