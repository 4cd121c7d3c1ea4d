"""An in-memory Executor: a fake of our own port that records every request and answers as told."""

from __future__ import annotations

from bot.domain.execution import ExecRequest, ExecResult, ExecutionRefused


def result(*, ok: bool = True, output: str = "done", exit_code: int | None = None, timed_out: bool = False,
           executor: str = "fake") -> ExecResult:  # fmt: skip
    """An ExecResult as an executor would give it."""
    code = exit_code if exit_code is not None else (0 if ok else 1)
    summary = "timed out" if timed_out else f"exited {code}"
    return ExecResult(ok=ok, exit_code=code, timed_out=timed_out, output=output, duration=0.01,
                      summary=summary, executor=executor)  # fmt: skip


class FakeExecutor:
    """Records `requests` (each run) and `preflights`; answers with the queued results (`then`, `refuse_next`),
    else with a successful result. `refuse_in_preflight(reason)` makes every preflight (and run) refuse."""

    def __init__(self, name: str = "kubectl") -> None:
        self.name = name
        self.requests: list[ExecRequest] = []
        self.preflights: list[ExecRequest] = []
        self._answers: list[ExecResult | ExecutionRefused] = []
        self._preflight_refusal: str | None = None

    def then(self, *answers: ExecResult | ExecutionRefused) -> FakeExecutor:
        """Queue the answers of the next runs, in order (an ExecutionRefused is raised, before recording)."""
        self._answers.extend(answers)
        return self

    def refuse_next(self, reason: str = "refused: told to") -> FakeExecutor:
        """The next run raises ExecutionRefused(reason) and runs nothing."""
        return self.then(ExecutionRefused(reason))

    def refuse_in_preflight(self, reason: str | None) -> None:
        """Every preflight refuses with this reason from now on (None: stop refusing)."""
        self._preflight_refusal = reason

    async def preflight(self, req: ExecRequest) -> None:
        self.preflights.append(req)
        if self._preflight_refusal is not None:
            raise ExecutionRefused(self._preflight_refusal)

    async def run(self, req: ExecRequest) -> ExecResult:
        await self.preflight(req)
        if self._answers and isinstance(self._answers[0], ExecutionRefused):
            raise self._answers.pop(0)  # type: ignore[misc]
        self.requests.append(req)
        answer = self._answers.pop(0) if self._answers else result(executor=self.name)
        assert isinstance(answer, ExecResult)
        return answer

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        """The argv of every request that ran, in order."""
        return [r.argv for r in self.requests]
