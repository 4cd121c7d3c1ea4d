"""Reactors: one module per reactor, each turning the event-log entries of the kinds it declares into side
effects through a port. The composition root adds an instance of each to the ReactorRegistry (bot.plugins).

- `war_room.py`: opens the incident's chat room and keeps its card, topic and timeline current.
- `announcer.py`: tells the announcements channel about new incidents, severity changes and resolutions.
- `diagnosis.py`: runs the diagnostics and keeps one hypothesis card per hypothesis in the war room.
"""

from bot.services.reactors.announcer import Announcer
from bot.services.reactors.diagnosis import DiagnosisReactor
from bot.services.reactors.war_room import WarRoomReactor

__all__ = ["Announcer", "DiagnosisReactor", "WarRoomReactor"]
