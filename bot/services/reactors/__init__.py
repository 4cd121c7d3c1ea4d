"""Reactors: one module per reactor, each turning the event-log entries of the kinds it declares into side
effects through a port. The composition root adds an instance of each to the ReactorRegistry (bot.plugins).

- `war_room.py`: opens the incident's chat room and keeps its card, topic and timeline current.
- `announcer.py`: tells the announcements channel about new incidents, severity changes, status updates and
  resolutions.
- `diagnosis.py`: runs the diagnostics and keeps one hypothesis card per hypothesis in the war room.
- `tickets.py`: one tracker (Jira) ticket per incident, commented and moved as the incident goes.
- `discord_channel.py`: the Discord alert channel: new incidents, severity changes, resolutions, rate-limited.
- `clocks.py`: sets, moves and stops the incident's SLA clocks and escalation timers.
- `paging.py`: pages, acknowledges and resolves through the Pager port (PagerDuty).
- `postmortem.py`: each version of the post-mortem draft, to the war room and attached to the ticket.
- `remediation.py`: proposes remediation actions and keeps their approval cards (and output threads) current.
"""

from bot.services.reactors.announcer import Announcer
from bot.services.reactors.clocks import ClocksReactor
from bot.services.reactors.diagnosis import DiagnosisReactor
from bot.services.reactors.discord_channel import DiscordAlerts
from bot.services.reactors.paging import PagingReactor
from bot.services.reactors.postmortem import PostmortemReactor, PostmortemTicketReactor
from bot.services.reactors.remediation import RemediationReactor
from bot.services.reactors.tickets import TicketsReactor
from bot.services.reactors.war_room import WarRoomReactor

__all__ = [
    "Announcer", "ClocksReactor", "DiagnosisReactor", "DiscordAlerts", "PagingReactor", "PostmortemReactor",
    "PostmortemTicketReactor", "RemediationReactor", "TicketsReactor", "WarRoomReactor",
]  # fmt: skip
