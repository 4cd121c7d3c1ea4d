"""Settings (environment) and the warroom.yml rules file: names, defaults, secrets, errors."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import (
    DEFAULT_SLA,
    AppConfig,
    ConfigError,
    Settings,
    check_config,
    load_config,
    load_settings,
    parse_config,
)
from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_REMEDIATION_POLICY
from bot.exposure import loopback_url

REPO = Path(__file__).resolve().parents[2]

ENV_NAMES = [
    "WARROOM_DATABASE_URL",
    "WARROOM_SQLITE_SYNCHRONOUS",
    "WARROOM_CONFIG",
    "WARROOM_HOST",
    "WARROOM_PORT",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "WARROOM_API_TOKEN",
    "WARROOM_API_PUBLIC_READ",
    "WARROOM_ALERT_TOKEN",
    "PROMETHEUS_URL",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "JIRA_URL",
    "JIRA_USER",
    "JIRA_API_TOKEN",
    "JIRA_PROJECT",
    "PAGERDUTY_ROUTING_KEY",
    "PAGERDUTY_EVENTS_URL",
    "DISCORD_ALERTS_WEBHOOK_URL",
    "DISCORD_REPORTS_WEBHOOK_URL",
    "DISCORD_API_URL",
    "WARROOM_LOG_LEVEL",
    "WARROOM_OUTBOX_MAX_ATTEMPTS",
    "WARROOM_OUTBOX_BASE_DELAY",
    "WARROOM_OUTBOX_MAX_DELAY",
    "WARROOM_OUTBOX_LEASE_SECONDS",
    "WARROOM_HEARTBEAT_SECONDS",
    "WARROOM_INSTANCE_NAME",
    "WARROOM_LOCAL_MODE",
    "WARROOM_SLACK_RATE_SCALE",
    "WARROOM_LOCAL_MODE_PUBLIC",
    "WARROOM_SNS_MAX_AGE_SECONDS",
    "FORWARDED_ALLOW_IPS",
]

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-very-secret-bot-token",
    "SLACK_SIGNING_SECRET": "signing-secret-123456",
    "SLACK_APP_TOKEN": "xapp-very-secret-app-token",
    "WARROOM_API_TOKEN": "api-token-abcdef",
    "WARROOM_ALERT_TOKEN": "alert-token-ghijkl",
    "JIRA_API_TOKEN": "jira-token-mnopqr",
    "PAGERDUTY_ROUTING_KEY": "pd-routing-key-stuvwx",
    "DISCORD_ALERTS_WEBHOOK_URL": "https://discord.com/api/webhooks/123456789012345678/alerts-hook-token",
    "DISCORD_REPORTS_WEBHOOK_URL": "https://discord.com/api/webhooks/223456789012345678/reports-hook-token",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No warroom variables from the outer environment, and a cwd without .env or warroom.yml."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(**env: str) -> Settings:
    """Settings from exactly these variables (no .env file)."""
    mp = pytest.MonkeyPatch()
    try:
        for k, v in env.items():
            mp.setenv(k, v)
        return Settings(_env_file=None)
    finally:
        mp.undo()


def write(tmp_path: Path, text: str, name: str = "warroom.yml") -> Path:
    """Write a rules file (dedented) and return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    """The ConfigError lines of loading `path`."""
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value).splitlines()


# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------


def test_env_names_are_exactly_the_contract() -> None:
    assert Settings.env_names() == ENV_NAMES


def test_defaults() -> None:
    s = settings()
    assert s.database_url == "sqlite+aiosqlite:///./warroom.db"
    assert s.sqlite_synchronous == "NORMAL"
    assert s.config_path is None
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.slack_bot_token is None and s.slack_signing_secret is None and s.slack_app_token is None
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.api_token is None and s.api_public_read is False and s.alert_token is None
    assert s.prometheus_url is None and s.aws_endpoint_url is None
    assert s.jira_url is None and s.jira_api_token is None and not s.jira_enabled
    assert s.pagerduty_routing_key is None and not s.pagerduty_enabled
    assert s.pagerduty_events_url == "https://events.pagerduty.com/v2/enqueue"
    assert s.discord_alerts_webhook_url is None and s.discord_reports_webhook_url is None
    assert s.discord_api_url == "https://discord.com/api/v10"
    assert s.log_level == "INFO"
    assert s.outbox_max_attempts == 10
    assert s.outbox_base_delay == 1.0 and s.outbox_max_delay == 300.0 and s.outbox_lease_seconds == 60.0
    assert s.local_mode_setting is None and s.local_mode is True
    assert s.slack_rate_scale == 1.0
    assert s.is_sqlite
    assert s.secret_values() == []


def test_every_variable_is_read_by_its_exact_name() -> None:
    s = settings(
        WARROOM_DATABASE_URL="postgresql+psycopg://warroom@db:5432/warroom",
        WARROOM_CONFIG="/etc/warroom/rules.yml",
        WARROOM_HOST="0.0.0.0",
        WARROOM_PORT="9090",
        SLACK_API_URL="http://127.0.0.1:1234/api",
        WARROOM_API_PUBLIC_READ="true",
        PROMETHEUS_URL="http://prometheus:9090",
        AWS_ENDPOINT_URL="http://127.0.0.1:5000",
        JIRA_URL="https://example.atlassian.net",
        JIRA_USER="bot@example.com",
        JIRA_PROJECT="OPS",
        PAGERDUTY_EVENTS_URL="http://127.0.0.1:4000/v2/enqueue",
        DISCORD_API_URL="http://127.0.0.1:4001/api/v10/",
        WARROOM_LOG_LEVEL="debug",
        WARROOM_OUTBOX_MAX_ATTEMPTS="3",
        WARROOM_OUTBOX_BASE_DELAY="0.5",
        WARROOM_OUTBOX_MAX_DELAY="20",
        WARROOM_OUTBOX_LEASE_SECONDS="5",
        WARROOM_LOCAL_MODE="false",
        WARROOM_SLACK_RATE_SCALE="0",
        **SECRETS,
    )
    assert s.database_url == "postgresql+psycopg://warroom@db:5432/warroom" and not s.is_sqlite
    assert s.config_path == Path("/etc/warroom/rules.yml")
    assert (s.host, s.port) == ("0.0.0.0", 9090)
    assert s.slack_api_url == "http://127.0.0.1:1234/api/"  # trailing slash added for slack_sdk
    assert s.api_public_read is True
    assert s.prometheus_url == "http://prometheus:9090"
    assert s.aws_endpoint_url == "http://127.0.0.1:5000"
    assert (s.jira_url, s.jira_user, s.jira_project) == (
        "https://example.atlassian.net",
        "bot@example.com",
        "OPS",
    )
    assert s.pagerduty_events_url == "http://127.0.0.1:4000/v2/enqueue"
    assert s.discord_api_url == "http://127.0.0.1:4001/api/v10"
    assert s.log_level == "DEBUG"
    assert (s.outbox_max_attempts, s.outbox_base_delay, s.outbox_max_delay) == (3, 0.5, 20.0)
    assert s.outbox_lease_seconds == 5.0
    assert s.local_mode_setting is False and s.local_mode is False
    assert s.slack_rate_scale == 0.0
    secrets = {
        "SLACK_BOT_TOKEN": s.slack_bot_token,
        "SLACK_SIGNING_SECRET": s.slack_signing_secret,
        "SLACK_APP_TOKEN": s.slack_app_token,
        "WARROOM_API_TOKEN": s.api_token,
        "WARROOM_ALERT_TOKEN": s.alert_token,
        "JIRA_API_TOKEN": s.jira_api_token,
        "PAGERDUTY_ROUTING_KEY": s.pagerduty_routing_key,
        "DISCORD_ALERTS_WEBHOOK_URL": s.discord_alerts_webhook_url,
        "DISCORD_REPORTS_WEBHOOK_URL": s.discord_reports_webhook_url,
    }
    for name, value in secrets.items():
        assert value is not None and value.get_secret_value() == SECRETS[name], name
    assert s.jira_enabled and s.pagerduty_enabled and s.slack_configured and s.socket_mode


def test_names_are_case_sensitive_and_unprefixed() -> None:
    s = settings(warroom_port="9999", WARROOM_WARROOM_PORT="9998", PORT="9997", port="9996")
    assert s.port == 8080
    s = settings(database_url="x", slack_bot_token="xoxb-by-field-name", local_mode_setting="false")
    assert s == settings()  # field names are not variable names


def test_construct_with_variable_names() -> None:
    s = Settings(_env_file=None, WARROOM_PORT=0, SLACK_BOT_TOKEN="xoxb-1")  # type: ignore[call-arg]
    assert s.port == 0 and s.slack_bot_token is not None and not s.local_mode
    assert s.model_copy(update={"port": 1}).port == 1


def test_raw_validation_errors_hide_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", "bad//user:hunter2@host")
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    assert "hunter2" not in str(info.value)


def test_dotenv_file_is_optional_and_read(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "missing.env").port == 8080
    env = tmp_path / "test.env"
    env.write_text("WARROOM_PORT=7000\nSLACK_BOT_TOKEN=xoxb-from-dotenv\n", encoding="utf-8")
    s = load_settings(env)
    assert s.port == 7000 and not s.local_mode


def test_empty_variables_mean_unset() -> None:
    s = settings(SLACK_BOT_TOKEN="", WARROOM_PORT="", JIRA_URL="")
    assert s.slack_bot_token is None and s.port == 8080 and s.jira_url is None and s.local_mode


def test_secrets_never_shown_in_repr_str_or_json() -> None:
    s = settings(WARROOM_DATABASE_URL="postgresql+psycopg://warroom:db-password-zz@db/warroom", **SECRETS)
    shown = [repr(s), str(s), s.model_dump_json(), json.dumps(s.model_dump(mode="json"))]
    shown.append(check_config(s)[1])
    for text in shown:
        for secret in [*SECRETS.values(), "db-password-zz", "alerts-hook-token"]:
            assert secret not in text
    assert "**********" in repr(s)
    assert "postgresql+psycopg://warroom:***@db/warroom" in repr(s)
    assert s.database_url.endswith("db-password-zz@db/warroom")  # the real value stays usable


def test_secret_values_lists_every_secret_for_redaction() -> None:
    s = settings(WARROOM_DATABASE_URL="postgresql+psycopg://warroom:db-password-zz@db/warroom", **SECRETS)
    values = s.secret_values()
    assert set(SECRETS.values()) <= set(values)
    assert "alerts-hook-token" in values and "reports-hook-token" in values  # webhook tokens alone
    assert "db-password-zz" in values
    assert "" not in values and len(values) == len(set(values))


def test_local_mode_rules() -> None:
    assert settings().local_mode is True
    assert settings(SLACK_BOT_TOKEN="xoxb-1").local_mode is False
    assert settings(SLACK_BOT_TOKEN="xoxb-1", WARROOM_LOCAL_MODE="true").local_mode is True
    assert settings(WARROOM_LOCAL_MODE="false").local_mode is False


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WARROOM_PORT", "http", "environment: WARROOM_PORT: Input should be a valid integer"),
        ("WARROOM_PORT", "70000", "environment: WARROOM_PORT: Input should be less than or equal to 65535"),
        ("WARROOM_LOG_LEVEL", "LOUD", "environment: WARROOM_LOG_LEVEL: unknown log level 'LOUD'"),
        ("WARROOM_DATABASE_URL", "warroom.db", "environment: WARROOM_DATABASE_URL: not a SQLAlchemy URL"),
        (
            "PROMETHEUS_URL",
            "prometheus:9090",
            "environment: PROMETHEUS_URL: 'prometheus:9090' is not an http",
        ),
        (
            "WARROOM_OUTBOX_MAX_ATTEMPTS",
            "0",
            "environment: WARROOM_OUTBOX_MAX_ATTEMPTS: Input should be greater",
        ),
        ("WARROOM_OUTBOX_MAX_DELAY", "0.1", "environment: WARROOM_OUTBOX_MAX_DELAY must be >="),
    ],
)
def test_bad_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert str(info.value).startswith(expected), str(info.value)


def test_bad_database_url_error_hides_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", "nonsense//user:hunter2@host/db")
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert "WARROOM_DATABASE_URL" in str(info.value) and "hunter2" not in str(info.value)


def test_settings_problems() -> None:
    assert settings().problems() == []
    assert settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s").problems() == []
    assert "SLACK_SIGNING_SECRET" in settings(SLACK_BOT_TOKEN="xoxb-1").problems()[0]
    jira = settings(JIRA_URL="https://jira.example.com").problems()
    assert jira == ["Jira is partly configured: JIRA_USER, JIRA_API_TOKEN, JIRA_PROJECT not set"]


# ---------------------------------------------------------------------------------------------------
# Rules file: defaults
# ---------------------------------------------------------------------------------------------------


def test_builtin_defaults_when_no_file() -> None:
    config = load_config(None)  # cwd is an empty tmp dir
    assert config.source is None
    assert config == AppConfig()
    assert config.channels.announcements == "incidents" and config.channels.prefix == "inc"
    assert config.oncall.users == [] and config.oncall.slack_group is None
    assert (
        config.teams == {}
        and not config.approvers
        and config.permissions.major_changes == "approvers"
        and config.severity_rules == []
        and config.silences == []
    )
    assert config.grouping.by == ["service", "alertname"]
    assert config.grouping.correlation_window_minutes == 30
    assert config.grouping.auto_declare_at is Severity.SEV3
    assert [t.after_minutes for t in config.escalation.tiers] == [0, 15, 30, 60]
    assert config.escalation.tiers[0].notify == ["oncall"]


def test_default_slas() -> None:
    sla = AppConfig().sla
    assert set(sla) == set(Severity)
    table = {sev: (t.detect_minutes, t.ack_minutes, t.update_minutes, t.resolve_minutes) for sev, t in sla.items()}
    # Issue 13: the status-update cadence SEV0 10 min, SEV1 15, SEV2 30, SEV3 2 h, SEV4 none; detect targets.
    assert table == {
        Severity.SEV0: (5, 5, 10, 240),
        Severity.SEV1: (5, 15, 15, 480),
        Severity.SEV2: (15, 30, 30, 1440),
        Severity.SEV3: (60, 240, 120, 4320),
        Severity.SEV4: (None, 1440, None, 10080),
    }
    assert {s: asdict(v) for s, v in DEFAULT_SLA.items()} == {s: t.model_dump() for s, t in AppConfig().sla.items()}
    from bot.domain import cards, policy
    from bot.services.deps import Deps

    assert DEFAULT_SLA is policy.DEFAULT_SLA is cards.DEFAULT_SLA, "one DEFAULT_SLA"
    assert Deps(store=None, clock=None).sla == policy.DEFAULT_SLA  # type: ignore[arg-type]


def test_warroom_yml_in_cwd_is_used(clean_env: Path) -> None:
    write(clean_env, "channels: {announcements: '#ops-incidents'}\n")
    config = load_config(None)
    assert config.channels.announcements == "ops-incidents"
    assert config.source == Path("warroom.yml")


def test_empty_and_comment_only_files_give_defaults(tmp_path: Path) -> None:
    defaults = AppConfig().model_dump()
    assert load_config(write(tmp_path, "")).model_dump() == defaults
    assert load_config(write(tmp_path, "# nothing yet\n", "c.yml")).model_dump() == defaults
    assert load_config(write(tmp_path, "---\n", "d.yml")).model_dump() == defaults


def test_sla_overrides_merge_with_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            sla:
              sev1: {ack_minutes: 10}
              SEV3: {ack_minutes: 60, update_minutes: 60, resolve_minutes: 600}
            """,
        )
    )
    assert set(config.sla) == set(Severity)
    assert config.sla_for(Severity.SEV1).model_dump() == {
        "ack_minutes": 10,
        "update_minutes": 15,
        "resolve_minutes": 480,
        "detect_minutes": 5,
    }
    assert config.sla[Severity.SEV3].resolve_minutes == 600
    assert config.sla[Severity.SEV0].ack_minutes == 5


def test_example_file_loads_and_is_complete() -> None:
    config = load_config(REPO / "warroom.example.yml")
    # every key of every section appears in the example
    text = (REPO / "warroom.example.yml").read_text(encoding="utf-8")
    for key in [
        *AppConfig.model_fields,
        "announcements",
        "prefix",
        "users",
        "slack_group",
        "members",
        "services",
        "ack_minutes",
        "update_minutes",
        "resolve_minutes",
        "by",
        "correlation_window_minutes",
        "auto_declare_at",
        "name",
        "match",
        "match_re",
        "alertname",
        "severity",
        "reason",
        "matchers",
        "starts_at",
        "ends_at",
        "comment",
        "tiers",
        "after_minutes",
        "notify",
        # issue 12: approvers, permissions, the remediation policy
        "usergroup",
        "major_changes",
        "policy",
        # issue 13: escalation, paging, on-call, reminders, auto-upgrade, updates
        "detect_minutes",
        "pagerduty",
        "rotations",
        "every",
        "handoff",
        "timezone",
        "start",
        "overrides",
        "user",
        "routing_key_env",
        "commander_after_minutes",
        "commander_every_minutes",
        "resolution_after_hours",
        "resolution_every_hours",
        "when",
        "to",
        "from",
        "more_than",
        "templates",
    ]:
        assert f"{key}:" in text, key
    assert config.oncall.users and config.teams and config.approvers
    assert config.severity_rules and config.silences
    assert all(rule.match or rule.match_re or rule.alertname for rule in config.severity_rules)
    assert config.team_for_service("checkout") == "payments"
    assert config.approvers.approvers().usergroups == ("S0SRELEADS",)
    assert config.remediation.remediation_policy() == DEFAULT_REMEDIATION_POLICY, "the example shows the defaults"


# ---------------------------------------------------------------------------------------------------
# Rules file: rules, regexes, silences
# ---------------------------------------------------------------------------------------------------


def test_severity_rule_matching(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            severity_rules:
              - name: cf
                match: {customer_facing: true, tier: 1}
                match_re: {service: "checkout|billing"}
                alertname: "Http5xx.*"
                severity: SEV1
                reason: customer-facing errors
              - name: catch-all
                severity: SEV3
            """,
        )
    )
    rule = config.severity_rules[0]
    assert rule.match == {"customer_facing": "true", "tier": "1"}  # YAML bool/int back to strings
    labels = {"customer_facing": "true", "tier": "1", "service": "checkout", "alertname": "Http5xxHigh"}
    assert rule.matches(labels)
    assert not rule.matches({**labels, "service": "checkout-v2"})  # anchored
    assert not rule.matches({**labels, "alertname": "LatencyHigh"})
    assert not rule.matches({k: v for k, v in labels.items() if k != "tier"})
    assert rule.why == "customer-facing errors"
    assert config.severity_rules[1].matches({}) and config.severity_rules[1].why == "rule catch-all"
    dumped = json.loads(config.model_dump_json())
    assert dumped["severity_rules"][0]["match_re"] == {"service": "checkout|billing"}


def test_invalid_regex_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        severity_rules:
          - name: broken
            match_re: {service: "(checkout"}
            alertname: "*Down"
            severity: SEV2
        """,
    )
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}: severity_rules[0].match_re.service: invalid regular expression '(checkout':")
    assert errors[1].startswith(f"{path}: severity_rules[0].alertname: invalid regular expression '*Down':")


def test_silence_window(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            silences:
              - matchers: {service: db}
                starts_at: 2026-01-10T22:00:00Z
                ends_at: 2026-01-11T02:00:00+01:00
                comment: upgrade
            """,
        )
    )
    silence = config.silences[0]
    assert silence.matches({"service": "db", "env": "prod"}) and not silence.matches({"service": "api"})
    assert silence.is_active(datetime(2026, 1, 10, 23, 0, tzinfo=UTC))
    assert not silence.is_active(datetime(2026, 1, 11, 1, 0, tzinfo=UTC))  # ends 01:00 UTC


def test_silence_must_end_after_it_starts_and_be_aware(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        silences:
          - matchers: {service: db}
            starts_at: 2026-01-11T00:00:00Z
            ends_at: 2026-01-10T00:00:00Z
          - matchers: {service: db}
            starts_at: 2026-01-10T00:00:00
            ends_at: 2026-01-11T00:00:00Z
          - matchers: {}
            starts_at: 2026-01-10T00:00:00Z
            ends_at: 2026-01-11T00:00:00Z
        """,
    )
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}: silences[0].ends_at: must be after starts_at")
    assert errors[1] == f"{path}: silences[1].starts_at: Input should have timezone info"
    assert errors[2].startswith(f"{path}: silences[2].matchers: at least one matcher is required")


# ---------------------------------------------------------------------------------------------------
# Rules file: error messages name the file, the key path and the problem
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sla:\n  SEV9: {ack_minutes: 5}\n", ["sla.SEV9: unknown severity 'SEV9' (use SEV0..SEV4)"]),
        (
            "severity_rules:\n  - {name: x, severity: SEV7}\n",
            ["severity_rules[0].severity: Input should be 'SEV0', 'SEV1', 'SEV2', 'SEV3' or 'SEV4' (got 'SEV7')"],
        ),
        ("severity_rules:\n  - {severity: SEV1}\n", ["severity_rules[0].name: required key is missing"]),
        (
            "channels:\n  announcement: ops\n",
            ["channels.announcement: unknown key 'announcement' (expected one of: announcements, prefix)"],
        ),
        ("chanels: {}\n", ["chanels: unknown key 'chanels' (expected one of: channels, oncall, teams,"]),
        (
            "oncall:\n  users: [U0ALICE, alice]\n",
            ["oncall.users[1]: 'alice' is not a Slack user id (like U0ALICE)"],
        ),
        ("approvers: [u0bob]\n", ["approvers.users[0]: 'u0bob' is not a Slack user id"]),
        ("approvers:\n  usergroup: sre\n", ["approvers.usergroup[0]: 'sre' is not a Slack user group id"]),
        ("permissions:\n  major_changes: boss\n", ["permissions.major_changes: Input should be 'anyone', 'commander'"]),
        (
            "remediation:\n  policy:\n    SEV2: {high: auto}\n",
            ["remediation.policy.SEV2.high: HIGH-risk steps always need approval (use approval or forbidden)"],
        ),
        ("remediation:\n  policy:\n    SEV2: {huge: auto}\n", ["remediation.policy.SEV2.huge: Input should be 'low'"]),
        ("remediation:\n  policy:\n    SEV2: {low: maybe}\n", ["remediation.policy.SEV2.low: Input should be 'auto'"]),
        (
            "teams:\n  payments:\n    members: [bob]\n",
            ["teams.payments.members[0]: 'bob' is not a Slack user id"],
        ),
        ("teams:\n  pay ments: {}\n", ["teams.pay ments: 'pay ments' is not a valid team name"]),
        ("grouping:\n  by: []\n", ["grouping.by: List should have at least 1 item"]),
        ("grouping:\n  auto_declare_at: SEV5\n", ["grouping.auto_declare_at: Input should be 'SEV0'"]),
        (
            "grouping:\n  correlation_window_minutes: soon\n",
            ["grouping.correlation_window_minutes: Input should"],
        ),
        (
            "grouping: 5\n",
            ["grouping: Input should be a valid dictionary or instance of GroupingConfig (got 5)"],
        ),
        (
            "sla:\n  SEV1: {ack_minutes: 60, resolve_minutes: 30}\n",
            ["sla.SEV1.resolve_minutes: must be >= ack_minutes (30 < 60)"],
        ),
        (
            "escalation:\n  tiers:\n    - {after_minutes: 10}\n    - {after_minutes: 5}\n",
            ["escalation.tiers: after_minutes must increase from tier to tier (10 then 5)"],
        ),
        (
            "escalation:\n  tiers:\n    - {after_minutes: 0, notify: [team:sre]}\n",
            ["escalation.tiers[0].notify: unknown team 'sre' (teams: none configured)"],
        ),
        (
            "escalation:\n  tiers:\n    - {after_minutes: 0, notify: ['@bob']}\n",
            ["escalation.tiers[0].notify[0]: '@bob' is not a Slack user id (U...), user group id (S...)"],
        ),
        (
            "severity_rules:\n  - {name: a, severity: SEV1}\n  - {name: a, severity: SEV2}\n",
            ["severity_rules[1].name: duplicate rule name 'a'"],
        ),
        ("channels:\n  prefix: INC\n", ["channels.prefix: 'INC' is not a valid channel prefix"]),
        ("- channels\n- oncall\n", ["top level: expected a mapping of sections (channels, oncall,"]),
        ("just a string\n", ["top level: expected a mapping of sections", "got a str"]),
    ],
)
def test_error_messages(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    errors = errors_of(path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}: {expected[0]}"), errors[0]
    for more in expected[1:]:
        assert more in errors[0]


def test_several_problems_one_line_each(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        oncall: {users: [alice]}
        approvers: [bob]
        sla: {SEV9: {ack_minutes: 1}}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert info.value.problems == [
        "oncall.users[0]: 'alice' is not a Slack user id (like U0ALICE)",
        "approvers.users[0]: 'bob' is not a Slack user id (like U0ALICE)",
        "sla.SEV9: unknown severity 'SEV9' (use SEV0..SEV4)",
    ]
    assert str(info.value).splitlines() == [f"{path}: {p}" for p in info.value.problems]


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  announcements: ops\n prefix: inc\n")
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}: line 3, column 2: YAML syntax error:"), errors[0]


def test_duplicate_yaml_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  prefix: inc\n  prefix: war\n")
    assert errors_of(path) == [
        f"{path}: line 3, column 3: YAML syntax error: while constructing a mapping; found duplicate key 'prefix'"
    ]


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "nope.yml") == [f"{tmp_path / 'nope.yml'}: file not found"]
    assert errors_of(tmp_path) == [f"{tmp_path}: is a directory, not a file"]
    bad = tmp_path / "latin1.yml"
    bad.write_bytes(b"channels: {announcements: caf\xe9}\n")
    assert errors_of(bad)[0].startswith(f"{bad}: not UTF-8 text")


def test_parse_config_names_the_source() -> None:
    with pytest.raises(
        ConfigError, match=r"^rules\.yml: approvers: give a list of user ids, or `users:` and `usergroup:`"
    ):
        parse_config("approvers: U0ALICE\n", "rules.yml")


# ---------------------------------------------------------------------------------------------------
# check_config
# ---------------------------------------------------------------------------------------------------


def test_check_config_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_CONFIG", str(REPO / "warroom.example.yml"))
    jira = {"JIRA_URL": "https://jira.example.com", "JIRA_USER": "bot", "JIRA_PROJECT": "OPS"}
    ok, text = check_config(settings(**SECRETS, **jira))
    assert ok, text
    assert str(REPO / "warroom.example.yml") in text
    assert "severity rules:   3" in text
    assert "teams:            2 (payments, platform)" in text
    assert "on-call users:    2" in text
    assert "slack:            configured (Socket Mode)" in text
    assert "mode:             Slack" in text
    assert "jira on, pagerduty on, prometheus off, discord alerts on, discord reports on" in text
    for secret in SECRETS.values():
        assert secret not in text


def test_check_config_defaults_and_local_mode() -> None:
    ok, text = check_config(settings())
    assert ok
    assert "built-in defaults" in text
    assert "slack:            not configured" in text
    assert "mode:             local (no SLACK_BOT_TOKEN)" in text


def test_check_config_reports_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "sla:\n  SEV9: {ack_minutes: 5}\n", "bad.yml")
    monkeypatch.setenv("WARROOM_CONFIG", str(path))
    ok, text = check_config(settings(SLACK_BOT_TOKEN="xoxb-secret-only-token"))
    assert not ok
    assert f"{path}: sla.SEV9: unknown severity 'SEV9' (use SEV0..SEV4)" in text
    assert "environment: SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET" in text
    assert "xoxb-secret-only-token" not in text


# ---------------------------------------------------------------------------------------------------
# exposure: local mode stays local, and check-config says what is open
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_local_mode_on_loopback_is_fine(host: str) -> None:
    assert settings(WARROOM_HOST=host).problems() == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "warroom.example.com"])
def test_local_mode_beyond_loopback_needs_the_flag(host: str) -> None:
    (problem,) = settings(WARROOM_HOST=host).problems()
    assert f"WARROOM_HOST={host}" in problem and "WARROOM_LOCAL_MODE_PUBLIC=true" in problem
    ok, text = check_config(settings(WARROOM_HOST=host))
    assert not ok and "not a loopback address" in text


def test_public_local_mode_needs_an_alert_token_a_wildcard_host_and_named_proxies() -> None:
    public = {"WARROOM_HOST": "0.0.0.0", "WARROOM_LOCAL_MODE_PUBLIC": "true"}
    assert [p.split(" needs ")[1] for p in settings(**public).problems()] == ["WARROOM_ALERT_TOKEN for the webhooks"]
    token = {**public, "WARROOM_ALERT_TOKEN": "alert-token-123"}
    assert settings(**token).problems() == []
    assert "0.0.0.0 or ::" in settings(**{**token, "WARROOM_HOST": "192.168.1.20"}).problems()[0]
    assert "FORWARDED_ALLOW_IPS=*" in settings(**token, FORWARDED_ALLOW_IPS="10.0.0.1, *").problems()[0]
    assert settings(WARROOM_HOST="0.0.0.0", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s").problems() == []


def exposure(text: str) -> dict[str, str]:
    lines = text.split("  exposure:\n", 1)[1].splitlines()
    return {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines}


def test_check_config_tells_what_a_default_local_run_opens() -> None:
    ok, text = check_config(settings())
    assert ok, text
    seen = exposure(text)
    assert seen["reachable from"].startswith("this machine only (WARROOM_HOST=127.0.0.1)")
    assert seen["/webhooks/*"] == "no WARROOM_ALERT_TOKEN: loopback clients only (local mode); refused from elsewhere"
    assert seen["/local-slack/*"] == "the built-in Slack emulator, loopback clients only"
    assert seen["/api/v1/*"] == "no WARROOM_API_TOKEN: loopback clients only"
    assert seen["X-Forwarded-For"] == "believed only from 127.0.0.1, ::1 (FORWARDED_ALLOW_IPS)"


def test_check_config_tells_what_a_public_install_opens() -> None:
    ok, text = check_config(
        settings(
            WARROOM_HOST="0.0.0.0",
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="signing-secret",
            WARROOM_API_TOKEN="api-token-1",
            WARROOM_API_PUBLIC_READ="true",
            FORWARDED_ALLOW_IPS="*",
        )
    )
    assert ok, text
    seen = exposure(text)
    assert seen["reachable from"] == "the network (WARROOM_HOST=0.0.0.0 is not a loopback address)"
    assert "GET /api/v1/*" in seen["no token needed"] and "/metrics" in seen["no token needed"]
    assert seen["/api/v1/*"].startswith("reads OPEN to anyone")
    assert seen["/webhooks/*"] == "no WARROOM_ALERT_TOKEN: every request refused"
    assert seen["/slack/events"] == "Slack-signed requests only (SLACK_SIGNING_SECRET)"
    assert "any client can claim to be loopback" in seen["X-Forwarded-For"]
    assert "/local-slack/*" not in seen
    assert "api-token-1" not in text and "signing-secret" not in text


def test_check_config_says_public_read_needs_a_token() -> None:
    _, text = check_config(settings(WARROOM_API_PUBLIC_READ="true"))
    assert exposure(text)["/api/v1/*"] == (
        "no WARROOM_API_TOKEN: loopback clients only (WARROOM_API_PUBLIC_READ is ignored without a token)"
    )


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("::", "http://[::1]:8080"),
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("::1", "http://[::1]:8080"),
        ("localhost", "http://localhost:8080"),
    ],
)
def test_the_bot_reaches_its_own_emulator_over_loopback(host: str, url: str) -> None:
    assert loopback_url(host, 8080) == url


def test_a_discord_webhook_url_is_checked_without_showing_it():
    with pytest.raises(ValidationError) as bad:
        settings(DISCORD_ALERTS_WEBHOOK_URL="https://example.com/hooks/secret-token-zzz")
    assert "not a Discord webhook URL" in str(bad.value) and "secret-token-zzz" not in str(bad.value)
    ok = settings(DISCORD_REPORTS_WEBHOOK_URL="https://discord.com/api/webhooks/1234/abc-DEF_1.x")
    assert "abc-DEF_1.x" in ok.secret_values()
