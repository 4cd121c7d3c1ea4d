"""The rules file's `remediation` section: what a step may do by itself (`policy`: severity x risk tier ->
auto | approval | forbidden) and the executors that carry out remediation steps (`executors`).

Every executor but `dry_run` is off until enabled here. Commands run from an argv list (never a shell), in a new
session, with stdin closed and only the environment given here (`path`, `env`): no variable of the bot's own
environment, so none of its secrets, reaches a child process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.fields import SeverityKey
from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_REMEDIATION_POLICY, Decision, RemediationPolicy
from bot.domain.runbook import Risk
from bot.domain.url_allowlist import parse_prefix

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
_BINARY = re.compile(r"(/[A-Za-z0-9._+-]+)+|[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_binary(value: str) -> str:
    if not _BINARY.fullmatch(value) or "/../" in value + "/":
        raise ValueError(f"{value!r} is neither a program name nor an absolute path")
    return value


class CommandExecutorConfig(_Section):
    """The generic `command` executor: runs only the programs on `allow` (names looked up on `path`, or
    absolute paths taken as they are)."""

    enabled: bool = False
    allow: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("allow")
    @classmethod
    def _check_allow(cls, value: list[str]) -> list[str]:
        return [_check_binary(v) for v in value]


class KubectlExecutorConfig(_Section):
    """The `kubectl` executor: the binary (a name looked up on `path`, or an absolute path), and the context and
    kubeconfig it is given (`--context`, `--kubeconfig`; steps may not set them themselves)."""

    enabled: bool = False
    binary: str = "kubectl"
    context: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,252}$")
    kubeconfig: str | None = Field(default=None, pattern=r"^/[^\x00-\x1f]{1,4095}$")

    @field_validator("binary")
    @classmethod
    def _check_binary(cls, value: str) -> str:
        return _check_binary(value)


class HttpExecutorConfig(_Section):
    """The `http` executor: only URLs under an `allow` prefix (`http(s)://host[:port]/path`, a host label may be
    `*`), a JSON body, at most `max_response_bytes` of the response kept."""

    enabled: bool = False
    allow: list[str] = Field(default_factory=list, max_length=100)
    max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)

    @field_validator("allow")
    @classmethod
    def _check_allow(cls, value: list[str]) -> list[str]:
        for entry in value:
            parse_prefix(entry)  # ValueError names the entry and what is wrong
        return value


class ExecutorsConfig(_Section):
    """How remediation steps are executed. A step whose executor is not enabled is dry-run (it says exactly
    what would run) when `fallback_to_dry_run`, refused otherwise."""

    fallback_to_dry_run: bool = True
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    kill_grace_seconds: float = Field(default=2.0, gt=0, le=60)
    output_limit_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    path: str = Field(default="/usr/local/bin:/usr/bin:/bin", pattern=r"^/[^:\x00-\x1f]*(:/[^:\x00-\x1f]*)*$")
    env: dict[str, str] = Field(default_factory=dict, max_length=20)
    workdir: str | None = Field(default=None, pattern=r"^/[^\x00-\x1f]{0,4095}$")
    command: CommandExecutorConfig = Field(default_factory=CommandExecutorConfig)
    kubectl: KubectlExecutorConfig = Field(default_factory=KubectlExecutorConfig)
    http: HttpExecutorConfig = Field(default_factory=HttpExecutorConfig)

    @field_validator("env")
    @classmethod
    def _check_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name, item in value.items():
            if not _ENV_NAME.fullmatch(name) or name == "PATH":
                raise ValueError(f"{name!r} is not an environment variable name (uppercase; PATH is `path`)")
            if "\x00" in item:
                raise ValueError(f"the value of {name} holds a NUL character")
        return value


class RemediationConfig(_Section):
    """The `remediation` section. `policy`: per severity, per risk tier, `auto`, `approval` or `forbidden`;
    missing severities and tiers keep the defaults (LOW and MEDIUM auto, HIGH approval)."""

    policy: dict[SeverityKey, dict[Risk, Decision]] = Field(default_factory=dict)
    executors: ExecutorsConfig = Field(default_factory=ExecutorsConfig)

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
