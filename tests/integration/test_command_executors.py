"""The command and kubectl executors, for real: stub programs on the configured PATH record what they were given.

They prove no shell is involved (metacharacters arrive as one literal argument, or the action is refused before
anything runs), that the child gets a clean environment, closed stdin and its own session, that output is
capped and redacted, and that a timeout kills the whole process group.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.domain.execution import ExecRequest, ExecutionRefused, build_request
from bot.redact import Redactor
from integrations.executors.command import CommandExecutor
from integrations.executors.kubectl import KubectlExecutor
from integrations.executors.process import ProcessLimits
from tests.executor_stubs import calls, kill_quietly, pids, recorder, sleeper, wait_dead

SECRET = "s3cr3t-deploy-key-0042"
redact = Redactor([SECRET])


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    recorder(d)
    recorder(d, "kubectl")
    sleeper(d)
    sleeper(d, "stubborn", ignore_term=True)
    sleeper(d, "leaver", leave=True)
    return d


def limits(bin_dir: Path, **kw: object) -> ProcessLimits:
    return ProcessLimits(path=f"{bin_dir}:/usr/bin:/bin", env={"HOME": str(bin_dir)}, **kw)  # type: ignore[arg-type]


def command(bin_dir: Path, *, allow: tuple[str, ...] = ("recorder", "sleeper", "stubborn", "leaver"), **kw: object):
    return CommandExecutor(allow=allow, limits=limits(bin_dir, **kw), redact=redact)


def req(*argv: str, timeout: float = 30, executor: str = "command") -> ExecRequest:
    return ExecRequest(action_id="act-1", executor=executor, argv=argv, timeout_seconds=timeout)


METACHARACTERS = ["prod; rm -rf /", "$(reboot)", "`id`", "../../etc", "a\nb", "x && touch pwned", "* ?", "'\"\\"]


async def test_metacharacters_arrive_as_one_literal_argument_each(bin_dir, tmp_path):
    result = await command(bin_dir).run(req("recorder", *METACHARACTERS, f"> {tmp_path}/pwned"))
    assert result.ok and result.exit_code == 0 and not result.timed_out
    (call,) = calls(bin_dir)
    assert call["argv"][1:] == [*METACHARACTERS, f"> {tmp_path}/pwned"]
    assert not (tmp_path / "pwned").exists() and not (bin_dir / "pwned").exists()


async def test_the_child_gets_a_clean_environment_closed_stdin_and_its_own_session(bin_dir):
    await command(bin_dir).run(req("recorder"))
    (call,) = calls(bin_dir)
    assert call["env"] == {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(bin_dir), "LANG": "C.UTF-8",
                           "LC_ALL": "C.UTF-8"}  # fmt: skip
    assert call["stdin"] == ""
    assert call["session_leader"] is True
    assert call["argv"][0] == str(bin_dir / "recorder")  # the resolved path: no second lookup by the child


@pytest.mark.parametrize(
    ("name", "value"),
    [("namespace", "prod; rm -rf /"), ("namespace", "$(reboot)"), ("deployment", "../../etc"),
     ("namespace", "shop\nrm -rf /"), ("namespace", "shop\n"), ("deployment", "--all")],
)  # fmt: skip
async def test_adversarial_values_are_refused_before_anything_runs(bin_dir, name, value):
    values = {"namespace": "shop", "deployment": "checkout", name: value}
    template = ["kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"]
    with pytest.raises(ExecutionRefused) as err:
        request = build_request(action_id="a", executor="kubectl", template=template, values=values)
        await KubectlExecutor(limits=limits(bin_dir), redact=redact).run(request)
    assert f"{{{{{name}}}}}" in err.value.reason and "nothing was run" in err.value.reason
    assert calls(bin_dir, "kubectl") == []


async def test_kubectl_gets_the_configured_cluster_and_the_steps_arguments(bin_dir):
    kubeconfig = bin_dir / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    kubectl = KubectlExecutor(limits=limits(bin_dir), redact=redact, context="prod-eu", kubeconfig=str(kubeconfig))
    request = build_request(
        action_id="a", executor="kubectl", values={"deployment": "checkout", "namespace": "shop"},
        template=["kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"],
    )  # fmt: skip
    result = await kubectl.run(request)
    assert result.ok and result.executor == "kubectl"
    (call,) = calls(bin_dir, "kubectl")
    assert call["argv"] == [str(bin_dir / "kubectl"), "--kubeconfig", str(kubeconfig), "--context", "prod-eu",
                            "rollout", "undo", "deployment/checkout", "-n", "shop"]  # fmt: skip
    assert "exited 0" in result.summary and "kubectl rollout undo deployment/checkout -n shop" in result.summary


@pytest.mark.parametrize(
    ("argv", "why"),
    [(("kubectl", "--context=evil", "delete", "ns", "prod"), "may not choose the cluster"),
     (("kubectl", "get", "--token", "x"), "may not choose the cluster"),
     (("recorder", "get"), "starts with kubectl"),
     ((), "empty argv")],
)  # fmt: skip
async def test_kubectl_refuses_steps_that_pick_the_cluster_or_another_program(bin_dir, argv, why):
    with pytest.raises(ExecutionRefused, match=why):
        await KubectlExecutor(limits=limits(bin_dir), redact=redact).run(req(*argv, executor="kubectl"))
    assert calls(bin_dir, "kubectl") == [] and calls(bin_dir) == []


async def test_kubectl_options_after_double_dash_belong_to_the_pods_command(bin_dir):
    argv = ("kubectl", "exec", "-n", "shop", "deploy/x", "--", "psql", "--user", "app")
    assert (await KubectlExecutor(limits=limits(bin_dir), redact=redact).run(req(*argv))).ok


async def test_kubectl_refuses_a_missing_binary_or_kubeconfig(bin_dir):
    missing = KubectlExecutor(limits=limits(bin_dir), redact=redact, binary="/nonexistent/kubectl")
    with pytest.raises(ExecutionRefused, match="not an executable file"):
        await missing.preflight(req("kubectl", "get", "pods"))
    no_config = KubectlExecutor(limits=limits(bin_dir), redact=redact, kubeconfig=str(bin_dir / "nope"))
    with pytest.raises(ExecutionRefused, match="kubeconfig"):
        await no_config.run(req("kubectl", "get", "pods"))
    assert calls(bin_dir, "kubectl") == []


@pytest.mark.parametrize(
    ("argv", "why"),
    [(("rm", "-rf", "/"), "not on the command executor's allow-list"),
     (("./recorder",), "not on the command executor's allow-list"),
     (("/bin/sh", "-c", "id"), "not on the command executor's allow-list"),
     (("ghost",), "not an executable file")],
)  # fmt: skip
async def test_only_allow_listed_programs_run(bin_dir, argv, why):
    executor = command(bin_dir, allow=("recorder", "ghost"))
    with pytest.raises(ExecutionRefused, match=why):
        await executor.preflight(req(*argv))
    with pytest.raises(ExecutionRefused, match=why):
        await executor.run(req(*argv))
    assert calls(bin_dir) == []


async def test_an_absolute_path_on_the_allow_list_runs_as_it_is(bin_dir):
    path = str(bin_dir / "recorder")
    assert (await command(bin_dir, allow=(path,)).run(req(path, "x"))).ok
    assert calls(bin_dir)[0]["argv"] == [path, "x"]


async def test_a_failing_command_is_a_failed_result_with_its_exit_code(bin_dir):
    result = await command(bin_dir).run(req("recorder", "stderr=it broke", "exit=3"))
    assert not result.ok and result.exit_code == 3 and not result.timed_out
    assert "it broke" in result.output and result.summary.startswith("exited 3 in ")


async def test_output_is_redacted(bin_dir):
    token = "xoxb-123456789012-123456789012-abcdefghijABCDEFGHIJabcd"
    result = await command(bin_dir).run(req("recorder", f"print=key={SECRET}", f"stderr=token {token}"))
    assert SECRET not in result.output and token not in result.output
    assert "[redacted]" in result.output


async def test_output_is_capped_and_a_secret_across_the_cap_never_shows_in_part(bin_dir):
    limit = 1024
    executor = command(bin_dir, output_limit=limit)
    result = await executor.run(req("recorder", "bytes=1019", f"print={SECRET}", "bytes=200000"))
    assert result.ok and len(result.output.encode()) < limit + 100
    assert "[output truncated: about" in result.output
    assert not any(SECRET[:n] in result.output for n in range(4, len(SECRET) + 1))


async def test_a_timeout_kills_the_whole_process_group(bin_dir):
    result = await command(bin_dir, kill_grace=5.0).run(req("sleeper", timeout=1.0))
    leader, grandchild = pids(bin_dir)
    try:
        assert result.timed_out and not result.ok
        assert "timed out after 1s (process group killed)" in result.summary
        assert wait_dead(leader) and wait_dead(grandchild)
        assert result.duration < 5.0  # SIGTERM was enough: no wait for the grace period
    finally:
        kill_quietly(grandchild)


async def test_a_child_that_ignores_sigterm_gets_sigkill_after_the_grace(bin_dir):
    result = await command(bin_dir, kill_grace=0.3).run(req("stubborn", timeout=1.0))
    leader, grandchild = pids(bin_dir, "stubborn")
    try:
        assert result.timed_out and result.exit_code == -9
        assert wait_dead(leader) and wait_dead(grandchild)
        assert result.duration >= 1.3
    finally:
        kill_quietly(grandchild)


async def test_what_a_command_leaves_running_in_its_group_is_killed_when_it_ends(bin_dir):
    result = await command(bin_dir, kill_grace=5.0).run(req("leaver", timeout=60))
    leader, grandchild = pids(bin_dir, "leaver")
    try:
        assert result.ok and result.exit_code == 0 and not result.timed_out
        assert wait_dead(grandchild)
        assert result.duration < 5.0  # not held up by the grandchild's copy of the output pipe
    finally:
        kill_quietly(grandchild)


async def test_a_program_that_cannot_start_is_refused(bin_dir):
    (bin_dir / "garbage").write_bytes(b"\x7fELF not really\n")
    (bin_dir / "garbage").chmod(0o755)
    with pytest.raises(ExecutionRefused, match="could not be started"):
        await command(bin_dir, allow=("garbage",)).run(req("garbage"))
    with pytest.raises(ExecutionRefused, match="could not be started"):
        await command(bin_dir, workdir=str(bin_dir / "missing")).run(req("recorder"))
    assert calls(bin_dir) == []


async def test_cancelling_a_run_ends_its_process_group(bin_dir):
    task = asyncio.create_task(command(bin_dir).run(req("sleeper", timeout=300)))
    deadline = time.monotonic() + 10
    while not (bin_dir / "sleeper.pids").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # polls for the stub's own pid file, with a deadline
    leader, grandchild = pids(bin_dir)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    try:
        assert wait_dead(leader) and wait_dead(grandchild)
    finally:
        kill_quietly(grandchild)
