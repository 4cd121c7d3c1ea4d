"""Reactors: one module per reactor, each turning the event-log entries of the kinds it declares into side
effects through a port. The composition root adds an instance of each to the ReactorRegistry (bot.plugins).

- `war_room.py`: opens the incident's chat room and keeps its card, topic and timeline current.
- `announcer.py`: tells the announcements channel about new incidents, severity changes, status updates and
  resolutions.
- `clocks.py`: sets, moves and stops the incident's SLA clocks and escalation timers.
- `paging.py`: pages, acknowledges and resolves through the Pager port (PagerDuty).
"""

from bot.services.reactors.announcer import Announcer
from bot.services.reactors.clocks import ClocksReactor
from bot.services.reactors.paging import PagingReactor
from bot.services.reactors.war_room import WarRoomReactor

__all__ = ["Announcer", "ClocksReactor", "PagingReactor", "WarRoomReactor"]
