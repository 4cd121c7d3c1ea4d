"""Stakeholder updates: the template `/incident update` offers for the incident's severity. Posting the update
is `incidents.post_update`: it goes to the war room and the announcements channel, and its time resets the
status-update cadence (bot.services.sla_clocks)."""

from __future__ import annotations

from bot.domain.updates import DEFAULT_TEMPLATES, fill, unfilled
from bot.services.deps import Deps
from bot.services.incidents import get


async def untouched(deps: Deps, *, ref: str, text: str) -> bool:
    """Whether an update is the offered template as it was (nothing written into it)."""
    inc = await get(deps, ref=ref)
    raw = deps.response.templates.get(inc.severity) or DEFAULT_TEMPLATES[inc.severity]
    return unfilled(text, raw + "\n" + await template(deps, ref=ref))


async def template(deps: Deps, *, ref: str) -> str:
    """The update template of the incident's severity, filled with its facts and the next update's time."""
    inc = await get(deps, ref=ref)
    text = deps.response.templates.get(inc.severity) or DEFAULT_TEMPLATES[inc.severity]
    return fill(text, inc, now=deps.clock.now(), cadence_minutes=deps.sla[inc.severity].update_minutes)
