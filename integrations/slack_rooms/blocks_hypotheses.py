"""The hypothesis card -> Block Kit (slack_sdk.models.blocks), registered with the card renderers of blocks.py.

Title and what it blames, prior -> posterior, status, one line per piece of evidence (verdict, what was
observed against which threshold, a link to the graph or console page, the query), and Confirm / Reject.
Everything that came from outside (titles, services, queries, details) is escaped; links are the bot's own
http(s) URLs with their `&`, `<`, `>` escaped, so they cannot open a mention or another link.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.domain.hypotheses import Status, Verdict
from bot.domain.hypothesis_cards import EvidenceLine, HypothesisCard
from integrations.slack_rooms.blocks import (
    FALLBACK_MAX,
    FIELD_MAX,
    SECTION_MAX,
    RenderedCard,
    block_id,
    button_rows,
    mrkdwn,
    renders,
    user,
)
from integrations.slack_rooms.mrkdwn import bold, clip, escape

VERDICT_ICON = {
    Verdict.SUPPORTS: ":white_check_mark:",
    Verdict.CONTRADICTS: ":x:",
    Verdict.INCONCLUSIVE: ":grey_question:",
}
STATUS_TEXT = {
    Status.OPEN: ":mag: open",
    Status.CONFIRMED: ":dart: *confirmed root cause*",
    Status.REJECTED: ":no_entry_sign: rejected",
}
QUERY_MAX = 400


def number(value: float | None) -> str:
    """A measurement as people read it (4 significant digits), or a dash."""
    return "—" if value is None else f"{value:.4g}"


def percent(p: float) -> str:
    """A probability in percent."""
    return f"{100 * p:.0f}%" if p >= 0.01 else f"{100 * p:.1f}%"


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to one of the bot's own URLs (http or https only), else nothing."""
    if not url or not url.startswith(("http://", "https://")):
        return ""
    safe = escape(url).replace("|", "%7C")
    return f" · <{safe}|{label}>"


def evidence_text(e: EvidenceLine) -> str:
    """One evidence line: icon, what it says, observed vs threshold, the link, the query in code."""
    measured = f"observed {number(e.observed)}"
    if e.threshold is not None:
        measured += f" · threshold {number(e.threshold)}"
    label = "graph" if "/graph?" in (e.link or "") else "console"
    head = f"{VERDICT_ICON[e.verdict]} *{e.verdict.value}*: {escape(e.detail) or 'no detail'}"
    query = clip(escape(e.query).replace("`", "'"), QUERY_MAX)
    return f"{head}\n{measured}{link(e.link, label)}\n`{query}`"


def _head(card: HypothesisCard) -> str:
    rank = f"#{card.rank} · " if card.rank else ""
    blamed = bold(card.service) if card.service else "_no single component_"
    return f"{rank}{bold(card.title) or '*(untitled)*'}\nBlames {blamed} · cause `{card.cause.value}`"


def _facts(card: HypothesisCard) -> list[str]:
    status = STATUS_TEXT[card.status]
    if card.decided_by and card.status is not Status.OPEN:
        status += f" by {user(card.decided_by)}"
    facts = [f"*Probability*\n{percent(card.prior)} → *{percent(card.posterior)}*", f"*Status*\n{status}"]
    if card.runbook:
        facts.append(f"*Runbook*\n{clip(escape(card.runbook), 200)}")
    if card.rank is None:
        facts.append("*Rank*\n_not among the top hypotheses of the latest diagnosis_")
    return facts


@renders(HypothesisCard)
def hypothesis_card(card: HypothesisCard) -> RenderedCard:
    """A hypothesis card: head, probability and status, evidence, Confirm / Reject."""
    blocks: list[Block] = [
        SectionBlock(block_id=block_id(card.marker), text=mrkdwn(_head(card))),
        SectionBlock(block_id="hypothesis-facts", fields=[mrkdwn(f, FIELD_MAX) for f in _facts(card)]),
    ]
    for i, e in enumerate(card.evidence):
        blocks.append(SectionBlock(block_id=f"evidence-{i}", text=mrkdwn(evidence_text(e), SECTION_MAX)))
    if not card.evidence:
        blocks.append(ContextBlock(elements=[mrkdwn("_no evidence gathered_")]))
    blocks.extend(button_rows(card.buttons))
    if not card.actionable:
        blocks.append(ContextBlock(elements=[mrkdwn(f"{card.ref} is closed: decisions are final.")]))
    fallback = f"Hypothesis for {card.ref}: {escape(card.title)} ({percent(card.posterior)})"
    return RenderedCard(clip(fallback, FALLBACK_MAX), blocks)
