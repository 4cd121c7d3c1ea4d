"""What the remediation use cases need, injected by the composition root: the executors, the policy and the
timings (approval expiry, the wait before verifying). Who may approve is `Deps.authority`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.execution import ExecutorRegistry
from bot.domain.policy import DEFAULT_REMEDIATION_POLICY, RemediationPolicy

DEFAULT_APPROVAL_TTL = timedelta(minutes=15)


@dataclass(slots=True)
class RemediationDeps:
    """The executors (None: remediation is off, nothing is proposed) and the policy."""

    executors: ExecutorRegistry | None = None
    policy: RemediationPolicy = DEFAULT_REMEDIATION_POLICY
    approval_ttl: timedelta = DEFAULT_APPROVAL_TTL
    verify_after: timedelta = timedelta(seconds=60)  # metrics need a moment to show the change
    exec_timeout: float = 120.0
    output_max: int = 3000  # characters of output posted in the card's thread

    @property
    def enabled(self) -> bool:
        """Whether actions are proposed at all."""
        return self.executors is not None
