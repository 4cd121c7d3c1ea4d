"""The `kubectl` executor: `kubectl <args>` from an argv list (never a shell), against the configured cluster."""

from __future__ import annotations

import os

from bot.domain.execution import ExecRequest, ExecResult, ExecutionRefused
from integrations.executors.output import Redact, process_result
from integrations.executors.process import ProcessLimits, check_argv, resolve_binary, run_process

# Options that choose the cluster or the identity: the executor's configuration sets them, a step may not.
CLUSTER_OPTIONS = (
    "--kubeconfig", "--context", "--cluster", "--server", "-s", "--token", "--as", "--as-group", "--as-uid", "--user",
    "--username", "--password", "--client-certificate", "--client-key", "--certificate-authority",
    "--insecure-skip-tls-verify", "--tls-server-name",
)  # fmt: skip


def _sets_cluster(item: str) -> bool:
    return any(item == opt or item.startswith(opt + "=") for opt in CLUSTER_OPTIONS)


class KubectlExecutor:
    """Runs `kubectl` steps (argv[0] must be `kubectl`) with the configured binary, context and kubeconfig."""

    name = "kubectl"

    def __init__(
        self, *, limits: ProcessLimits, redact: Redact, binary: str = "kubectl", context: str | None = None,
        kubeconfig: str | None = None,
    ) -> None:  # fmt: skip
        self._limits = limits
        self._redact = redact
        self._binary = binary
        self._context = context
        self._kubeconfig = kubeconfig

    def argv(self, req: ExecRequest) -> tuple[str, ...]:
        """The argv to run: the binary's absolute path, the cluster options, the step's arguments."""
        check_argv(req.argv)
        if req.argv[0] != "kubectl":
            raise ExecutionRefused(f"refused: a kubectl step starts with kubectl, not {req.argv[0][:100]!r}")
        own = req.argv[1 : req.argv.index("--")] if "--" in req.argv else req.argv[1:]  # after --: the pod's
        if bad := next((a for a in own if _sets_cluster(a)), None):
            raise ExecutionRefused(f"refused: a step may not choose the cluster or identity ({bad[:60]!r}); "
                                   "the kubectl executor's configuration does")  # fmt: skip
        found = resolve_binary(self._binary, self._limits.path)
        if found is None:
            raise ExecutionRefused(f"refused: kubectl binary {self._binary!r} is not an executable file "
                                   f"(PATH {self._limits.path}); nothing was run")  # fmt: skip
        if self._kubeconfig is not None and not os.path.isfile(self._kubeconfig):
            raise ExecutionRefused(f"refused: the kubeconfig {self._kubeconfig} does not exist; nothing was run")
        options: list[str] = []
        if self._kubeconfig is not None:
            options += ["--kubeconfig", self._kubeconfig]
        if self._context is not None:
            options += ["--context", self._context]
        return (found, *options, *req.argv[1:])

    async def preflight(self, req: ExecRequest) -> None:
        """The step is a kubectl step, the binary and kubeconfig are there."""
        self.argv(req)

    async def run(self, req: ExecRequest) -> ExecResult:
        """Run kubectl with the step's arguments, each one argv item."""
        done = await run_process(self.argv(req), time_limit=req.timeout_seconds, limits=self._limits)
        return process_result(
            self.name, req, exit_code=done.exit_code, timed_out=done.timed_out, raw=done.output,
            dropped=done.dropped, duration=done.duration, limit=self._limits.output_limit, redact=self._redact,
        )  # fmt: skip
