"""The daily digest -> Block Kit (slack_sdk.models.blocks), registered with the card renderers of blocks.py.

A header (the marker is its block id), the window, the figures with their trends as section fields, one section
per list (open incidents, noisiest alerts, review queue, overdue action items). Data (titles, alert names, action
items) is escaped by `render`; owners are mentions. Within Block Kit's limits: 10 fields, 3000 characters a
section, far fewer than 50 blocks.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock

from bot.domain.digest import DigestReport, figures
from bot.domain.digest_notices import digest_title, sections, window_line
from integrations.slack_rooms.blocks import (
    FALLBACK_MAX,
    FIELD_MAX,
    FIELDS_MAX,
    HEADER_MAX,
    SECTION_MAX,
    RenderedCard,
    block_id,
    mrkdwn,
    plain,
    renders,
)
from integrations.slack_rooms.mrkdwn import clip, escape, render


@renders(DigestReport)
def digest_card(card: DigestReport) -> RenderedCard:
    """The digest of one day."""
    facts = [f"*{f.label}*\n{escape(f.value)}\n_{escape(f.trend)}_" for f in figures(card)]
    blocks: list[Block] = [
        HeaderBlock(block_id=block_id(card.marker), text=plain(digest_title(card), HEADER_MAX)),
        ContextBlock(block_id="digest-window", elements=[mrkdwn(escape(window_line(card)))]),
        SectionBlock(block_id="digest-figures", fields=[mrkdwn(f, FIELD_MAX) for f in facts[:FIELDS_MAX]]),
        DividerBlock(),
    ]
    for i, s in enumerate(sections(card)):
        lines = [f"• {render(line)}" for line in s.lines] or [f"_{escape(s.empty)}_"]
        if s.more > 0:
            lines.append(f"_… and {s.more} more_")
        body = f"*{escape(s.title)}*\n" + "\n".join(lines)
        blocks.append(SectionBlock(block_id=f"digest-section-{i}", text=mrkdwn(body, SECTION_MAX)))
    t = card.today
    fallback = (
        f"{digest_title(card)}: {t.opened_total} opened, {t.resolved_total} resolved, {card.data.open_total} open"
    )
    return RenderedCard(clip(escape(fallback), FALLBACK_MAX), blocks)
