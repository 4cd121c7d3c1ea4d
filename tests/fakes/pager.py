"""An in-memory Pager: a fake of our own port, recording every page it accepted."""

from __future__ import annotations

from bot.domain.paging import Page
from bot.domain.ports import PagerError


class FakePager:
    """Accepts pages for `services`; `fail_next(*errors)` makes the next sends raise."""

    def __init__(self, services: tuple[str, ...] = ("oncall",)) -> None:
        self.services = set(services)
        self.pages: list[Page] = []
        self.failures: list[PagerError] = []
        self.attempts = 0

    def serves(self, service: str) -> bool:
        return service in self.services

    def fail_next(self, *errors: PagerError) -> None:
        self.failures.extend(errors)

    async def send(self, page: Page) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.pages.append(page)

    def actions(self) -> list[tuple[str, str, str]]:
        """(action, dedup key, service) of each accepted page, in order."""
        return [(p.action.value, p.dedup_key, p.service) for p in self.pages]
