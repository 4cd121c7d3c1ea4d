"""The remediation executors of the composition root: the registry built from `remediation.executors`."""

from __future__ import annotations

from collections.abc import Callable

from bot.config.remediation import ExecutorsConfig
from bot.domain.execution import Executor, ExecutorRegistry
from bot.http_client import SharedHttp
from integrations.executors.command import CommandExecutor
from integrations.executors.dry_run import DryRunExecutor
from integrations.executors.http import HttpExecutor
from integrations.executors.kubectl import KubectlExecutor
from integrations.executors.process import ProcessLimits


def build_executors(config: ExecutorsConfig, *, http: SharedHttp, redact: Callable[[str], str]) -> ExecutorRegistry:
    """dry_run always, and every executor the section enables; a step of a disabled executor is dry-run (or
    refused when `fallback_to_dry_run` is false)."""
    limits = ProcessLimits(
        path=config.path, env=dict(config.env), workdir=config.workdir, output_limit=config.output_limit_bytes,
        kill_grace=config.kill_grace_seconds,
    )  # fmt: skip
    executors: list[Executor] = [DryRunExecutor(redact)]
    if config.command.enabled:
        executors.append(CommandExecutor(allow=config.command.allow, limits=limits, redact=redact))
    if config.kubectl.enabled:
        k = config.kubectl
        executors.append(KubectlExecutor(limits=limits, redact=redact, binary=k.binary, context=k.context,
                                         kubeconfig=k.kubeconfig))  # fmt: skip
    if config.http.enabled:
        executors.append(HttpExecutor(client=lambda: http.client, allow=config.http.allow, redact=redact,
                                      max_response_bytes=config.http.max_response_bytes))  # fmt: skip
    return ExecutorRegistry.of(executors, fallback_to_dry_run=config.fallback_to_dry_run)
