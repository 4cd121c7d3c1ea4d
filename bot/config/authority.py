"""The rules file's sections on who may do what: `approvers` and `permissions`, and their domain objects
(bot.domain.authority). What runs by itself is `remediation.policy` (bot.config.remediation_policy)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.fields import UserId
from bot.domain.authority import Approvers, Who

_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


def _group_id(value: str) -> str:
    """A Slack user group id such as S0SRELEADS."""
    if not _GROUP_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a Slack user group id (like S0123ABCD)")
    return value


GroupId = Annotated[str, AfterValidator(_group_id)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproversConfig(_Section):
    """Who may approve remediations and release human control, besides the commander: listed users and the
    members of Slack user group(s). The old form, a plain list of user ids, still means `users`."""

    users: list[UserId] = Field(default_factory=list)
    usergroup: list[GroupId] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _list_means_users(cls, value: Any) -> Any:
        """`approvers: [U0FRANK]` is `approvers: {users: [U0FRANK]}`."""
        if isinstance(value, str):
            raise ValueError("give a list of user ids, or `users:` and `usergroup:` (e.g. usergroup: S0SRELEADS)")
        return {"users": value} if isinstance(value, list) else value

    @field_validator("usergroup", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        """One group id or a list of them."""
        return [value] if isinstance(value, str) else value

    def __bool__(self) -> bool:
        return bool(self.users or self.usergroup)

    def approvers(self) -> Approvers:
        """The domain's approvers (the groups' members are resolved at run time)."""
        return Approvers(users=frozenset(self.users), usergroups=tuple(self.usergroup))


class PermissionsConfig(_Section):
    """Who may lower the severity of, resolve, or lift the deploy freeze of a SEV0/SEV1 incident: `approvers`
    (the commander or an approver, the default), `commander`, or `anyone`."""

    major_changes: Who = Who.APPROVERS
