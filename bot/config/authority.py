"""The rules file's sections on who may do what and what runs by itself: `approvers`, `permissions` and
`remediation.policy`, and their domain objects (bot.domain.authority, bot.domain.policy)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.fields import SeverityKey, UserId
from bot.domain.authority import Approvers, Who
from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_REMEDIATION_POLICY, Decision, RemediationPolicy
from bot.domain.runbook import Risk

_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def _group_id(value: str) -> str:
    """A Slack user group id such as S0SRELEADS."""
    if not _GROUP_ID.match(value):
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


class RemediationConfig(_Section):
    """What a remediation step may do by itself: per severity, per risk tier, `auto`, `approval` or
    `forbidden`. Missing severities and tiers keep the defaults (LOW and MEDIUM auto, HIGH approval)."""

    policy: dict[SeverityKey, dict[Risk, Decision]] = Field(default_factory=dict)

    @field_validator("policy", mode="before")
    @classmethod
    def _lowercase_tiers(cls, value: Any) -> Any:
        """`LOW`, `Low` and `low` are the same tier."""
        if not isinstance(value, Mapping):
            return value
        return {k: {str(r).lower(): d for r, d in row.items()} if isinstance(row, Mapping) else row
                for k, row in value.items()}  # fmt: skip

    @field_validator("policy")
    @classmethod
    def _high_never_auto(cls, value: dict[Severity, dict[Risk, Decision]]) -> dict[Severity, dict[Risk, Decision]]:
        """HIGH-risk steps always need an approval."""
        for sev, row in value.items():
            if row.get(Risk.HIGH) is Decision.AUTO:
                raise ValueError(f"{sev.value}.high: HIGH-risk steps always need approval (use approval or forbidden)")
        return value

    def remediation_policy(self) -> RemediationPolicy:
        """The domain's policy: the default table with the configured cells over it."""
        table = {sev: {**DEFAULT_REMEDIATION_POLICY.table[sev], **self.policy.get(sev, {})} for sev in Severity}
        return RemediationPolicy(table)
