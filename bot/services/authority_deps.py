"""Who may do what, as the use cases need it: the configured approvers and permissions, and the members of the
approvers' user groups, looked up through the chat platform and kept for a short while."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain.authority import Approvers, Who
from bot.domain.ports import ChatError, GroupDirectory

log = logging.getLogger("warroom.authority")
GROUP_TTL = timedelta(seconds=60)


@dataclass(slots=True)
class AuthorityDeps:
    """The approvers (listed users, user group ids), who may lower or resolve a SEV0/SEV1, and where the
    groups' members are looked up (None: nowhere, a group then has no members)."""

    approvers: Approvers = field(default_factory=Approvers)
    major_changes: Who = Who.APPROVERS
    groups: GroupDirectory | None = None
    ttl: timedelta = GROUP_TTL
    _members: dict[str, tuple[datetime, frozenset[str]]] = field(default_factory=dict)

    async def current(self, now: datetime) -> Approvers:
        """The approvers with their groups' members as of `now` (looked up at most once per `ttl`; when the
        platform cannot say, the members last seen, or none)."""
        if not self.approvers.usergroups or self.groups is None:
            return self.approvers
        members: set[str] = set()
        for group in self.approvers.usergroups:
            seen = self._members.get(group)
            if seen is None or now - seen[0] >= self.ttl:
                seen = (now, await self._look_up(group, seen[1] if seen else frozenset()))
                self._members[group] = seen
            members |= seen[1]
        return replace(self.approvers, group_members=frozenset(members))

    async def _look_up(self, group: str, last: frozenset[str]) -> frozenset[str]:
        assert self.groups is not None
        try:
            return frozenset(await self.groups.group_members(group))
        except ChatError as exc:
            log.warning("cannot list the members of user group %s (%s): using the %d last seen", group, exc, len(last))
            return last
