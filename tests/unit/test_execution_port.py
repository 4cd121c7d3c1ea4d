"""The executor port: argv rendering with strict per-placeholder patterns, http argv, the registry, the fake."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.execution import (
    DRY_RUN,
    VALUE_PATTERNS,
    ExecRequest,
    ExecutionRefused,
    ExecutorRegistry,
    HttpCall,
    build_request,
    http_call_from_argv,
    render_argv,
)
from bot.domain.runbook import Step
from tests.fakes.executor import FakeExecutor, result

ROLLBACK = ["kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"]
GOOD = {"deployment": "checkout", "namespace": "shop", "replicas": "3", "breaker": "payments", "service": "api"}
ADVERSARIAL = [
    "prod; rm -rf /",
    "$(reboot)",
    "`reboot`",
    "../../etc",
    "..",
    "shop\n",
    "shop\nrm -rf /",
    "shop\r",
    "-n",
    "--kubeconfig=/tmp/evil",
    "shop && reboot",
    "shop|sh",
    "shop > /etc/passwd",
    "shop'",
    'shop"',
    "",
    " shop",
    "shop\x00",
    "\uff53\uff48\uff4f\uff50",  # fullwidth "shop": not ASCII
    "${IFS}",
    "*",
    ".*",
]
NOT_A_NAMESPACE = ["SHOP", "shop.", "a" * 64, "shop-", "shop_1", "shop.prod"]


def test_render_substitutes_checked_values_one_item_per_template_item():
    argv = render_argv(ROLLBACK, GOOD)
    assert argv == ("kubectl", "rollout", "undo", "deployment/checkout", "-n", "shop")
    assert render_argv(["--replicas={{replicas}}", "{{ deployment }}"], GOOD) == ("--replicas=3", "checkout")


@pytest.mark.parametrize("bad", ADVERSARIAL + NOT_A_NAMESPACE)
def test_adversarial_namespace_is_refused_with_a_clear_message(bad):
    with pytest.raises(ExecutionRefused) as err:
        render_argv(ROLLBACK, {**GOOD, "namespace": bad})
    assert err.value.placeholder == "namespace"
    assert "{{namespace}}" in err.value.reason and "nothing was run" in err.value.reason
    assert "\n" not in err.value.reason  # the value is shown escaped, one line


@pytest.mark.parametrize("bad", ADVERSARIAL)
@pytest.mark.parametrize("name", ["deployment", "replicas", "breaker", "some_param", "region", "instance"])
def test_adversarial_values_are_refused_for_every_placeholder(name, bad):
    with pytest.raises(ExecutionRefused, match="refused"):
        render_argv([f"x={{{{{name}}}}}"], {name: bad})


def test_option_injection_is_named():
    with pytest.raises(ExecutionRefused, match="start an option"):
        render_argv(["{{deployment}}"], {"deployment": "-rf"})


def test_missing_value_refuses():
    with pytest.raises(ExecutionRefused, match=r"\{\{namespace\}\} has no value"):
        render_argv(ROLLBACK, {"deployment": "checkout"})


def test_empty_template_refuses():
    with pytest.raises(ExecutionRefused, match="empty argv"):
        render_argv([], GOOD)


def test_template_literals_are_the_runbooks_own():
    # literal text (options, paths) comes from the reviewed runbook; only values are data
    assert render_argv(["find", "/var/log", "-name", "*.gz"], {}) == ("find", "/var/log", "-name", "*.gz")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("namespace", "kube-system"),
        ("deployment", "checkout-v2.canary"),
        ("replicas", "0"),
        ("replicas", "12"),
        ("window", "5m"),
        ("instance", "10.0.0.1:9100"),
        ("region", "eu-west-1"),
        ("error_ratio", "0.05"),
        ("some_param", "Payments_v2"),
    ],
)
def test_ordinary_values_pass(name, value):
    assert render_argv([f"{{{{{name}}}}}"], {name: value}) == (value,)


@pytest.mark.parametrize(("name", "value"), [("replicas", "01"), ("replicas", "99999"), ("window", "0m")])
def test_numbers_and_durations_are_strict(name, value):
    with pytest.raises(ExecutionRefused):
        render_argv([f"{{{{{name}}}}}"], {name: value})


SHELL_META = set(";&|$`<>()\\'\" \t\n\r*?[]{}!#~\x00")


@given(
    name=st.sampled_from([*VALUE_PATTERNS, "param_x"]),
    value=st.text(min_size=1, max_size=40).filter(lambda v: bool(set(v) & SHELL_META)),
)
def test_no_value_holding_a_shell_metacharacter_is_ever_accepted(name, value):
    with pytest.raises(ExecutionRefused):
        render_argv(["{{" + name + "}}"], {name: value})


@given(
    name=st.sampled_from([*VALUE_PATTERNS, "param_x"]),
    prefix=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
    tail=st.sampled_from(["\n", "\r\n", "\n-rf", "/..", "/../x"]),
)
def test_a_good_value_with_a_trailing_newline_or_traversal_is_refused(name, prefix, tail):
    with pytest.raises(ExecutionRefused):
        render_argv(["{{" + name + "}}"], {name: prefix + tail})


@given(value=st.text(min_size=1, max_size=30))
def test_whatever_is_accepted_is_one_plain_argv_item(value):
    try:
        argv = render_argv(["{{some_param}}"], {"some_param": value})
    except ExecutionRefused:
        return
    assert argv == (value,)
    assert not value.startswith("-") and not set(value) & SHELL_META and ".." not in value and value.isascii()


def test_http_argv_becomes_an_http_call():
    call = http_call_from_argv(["post", "http://api.shop:8080/actuator/x", '{"updateState": "FORCE_OPEN"}'])
    assert call == HttpCall("POST", "http://api.shop:8080/actuator/x", {"updateState": "FORCE_OPEN"})
    assert http_call_from_argv(["GET", "https://x/y"]).json_body is None


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["POST"], "argv is"),
        (["TRACE", "http://x/"], "method"),
        (["GET", "file:///etc/passwd"], "not an http"),
        (["GET", "http://x/ y"], "not an http"),
        (["POST", "http://x/", "{not json"], "not JSON"),
        (["POST", "http://x/", "{}", "extra"], "argv is"),
    ],
)
def test_bad_http_argv_is_refused(argv, why):
    with pytest.raises(ExecutionRefused, match=why):
        http_call_from_argv(argv)


def test_build_request_for_a_runbook_step():
    step = Step.model_validate(
        {"id": "force-open", "title": "Force open", "risk": "medium", "executor": "http",
         "argv": ["POST", "http://{{service}}.{{namespace}}:8080/cb/{{breaker}}", '{"s":"{{breaker}}"}']}
    )  # fmt: skip
    req = build_request(action_id="a1", executor=step.executor, template=step.argv, values=GOOD, timeout_seconds=5)
    assert req.http == HttpCall("POST", "http://api.shop:8080/cb/payments", {"s": "payments"})
    assert req.timeout_seconds == 5 and req.action_id == "a1"
    with pytest.raises(ExecutionRefused):
        build_request(action_id="a1", executor="http", template=step.argv, values={**GOOD, "breaker": 'x"}'})


def test_command_is_a_runbook_executor():
    step = Step.model_validate(
        {"id": "s", "title": "t", "risk": "low", "executor": "command", "argv": ["traffic-shift", "--to", "x"]}
    )
    assert step.executor == "command"


def test_describe_quotes_items_so_their_bounds_show():
    req = ExecRequest(action_id="a", executor="command", argv=("echo", "a b", "it's", "plain-1"))
    assert req.describe() == "echo 'a b' 'it'\"'\"'s' plain-1"


def test_registry_finds_by_name_and_falls_back_to_dry_run():
    dry, kubectl = FakeExecutor(DRY_RUN), FakeExecutor("kubectl")
    registry = ExecutorRegistry.of([dry, kubectl])
    assert registry.names == ("dry_run", "kubectl")
    assert registry.get("kubectl") is kubectl and registry.resolve("kubectl") is kubectl
    assert registry.resolve("http") is dry
    with pytest.raises(ExecutionRefused, match="http executor is not enabled"):
        registry.get("http")
    strict = ExecutorRegistry.of([dry], fallback_to_dry_run=False)
    with pytest.raises(ExecutionRefused, match="not enabled"):
        strict.resolve("kubectl")
    with pytest.raises(ValueError, match="dry_run"):
        ExecutorRegistry.of([kubectl])


async def test_fake_records_requests_and_answers_as_told():
    fake = FakeExecutor("kubectl").then(result(ok=False, output="boom")).refuse_next("refused: no")
    req = ExecRequest(action_id="a", executor="kubectl", argv=("kubectl", "get", "pods"))
    registry = ExecutorRegistry.of([FakeExecutor(DRY_RUN), fake])
    first = await registry.run(req)
    assert not first.ok and first.output == "boom"
    with pytest.raises(ExecutionRefused, match="no"):
        await registry.run(req)
    assert (await registry.run(req)).ok
    assert fake.argvs == [req.argv, req.argv]
    assert len(fake.preflights) == 3
