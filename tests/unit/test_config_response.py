"""The rules-file sections of the response (rotations, PagerDuty services, reminders, auto-upgrade, update
templates, tiers' PagerDuty targets): defaults, validation with clear errors, check-config's summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.bootstrap.escalation import routing_keys
from bot.config import ConfigError, Settings, check_config, parse_config
from bot.config.response_rules import response_policy
from bot.domain.incident import Severity
from bot.domain.sla import UpgradeWhen


def errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "w.yml")
    return info.value.problems


def test_defaults_give_the_documented_policy():
    policy = response_policy(parse_config(""))
    assert [(t.name, t.after_minutes, t.notify, t.pagerduty) for t in policy.escalation.tiers] == [
        ("on-call", 0, ("oncall",), ("oncall",)), ("senior + lead", 15, (), ()),
        ("manager + director", 30, (), ()), ("VP", 60, (), ()),
    ]  # fmt: skip
    assert [(u.name, u.when, u.to) for u in policy.upgrades] == [
        ("sev3-unacknowledged", UpgradeWhen.UNACKNOWLEDGED, Severity.SEV2),
        ("wide-blast-radius", UpgradeWhen.SERVICES, Severity.SEV1),
    ]
    assert policy.reminders.commander_after_minutes == 10 and policy.reminders.resolution_every_hours == 4
    assert set(policy.templates) == set(Severity)


def test_a_full_response_section_reads_into_the_policy():
    config = parse_config(
        """\
        oncall:
          rotations:
            - {name: primary, users: [U0A, U0B], every: daily, handoff: "18:30", timezone: America/New_York,
               start: 2026-01-01, overrides: [{user: U0Z, starts_at: 2026-01-02T00:00:00Z, ends_at: 2026-01-03T00:00:00Z}]}
        teams: {db: {members: [U0DBA], pagerduty: dba}}
        pagerduty: {services: {dba: {routing_key_env: PD_KEY_DBA}}}
        escalation: {tiers: [{after_minutes: 0, notify: [oncall, team:db], pagerduty: [oncall, dba]}]}
        auto_upgrade: [{name: big, when: services, more_than: 2, to: SEV2, from: [SEV3, SEV4]}]
        reminders: {commander_after_minutes: 0}
        updates: {templates: {sev2: "$ref is $status"}}
        """
    )
    policy = response_policy(config)
    assert policy.oncall.now(datetime(2026, 1, 2, 12, tzinfo=UTC)) == ("U0Z",)
    audience = policy.audience(["oncall", "team:db"], datetime(2026, 1, 1, 12, tzinfo=UTC), pagerduty=["dba"])
    assert audience.users == ("U0B", "U0DBA") and audience.pagerduty == ("dba",)
    assert policy.upgrades[0].severities == (Severity.SEV3, Severity.SEV4)
    assert policy.templates[Severity.SEV2] == "$ref is $status" and policy.reminders.commander_after_minutes == 0
    settings = Settings(_env_file=None, PAGERDUTY_ROUTING_KEY="k" * 32)
    assert routing_keys(settings, config, {"PD_KEY_DBA": "d" * 32}) == {"oncall": "k" * 32, "dba": "d" * 32}
    assert routing_keys(settings, config, {}) == {"oncall": "k" * 32}, "an unset variable: that service is off"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("escalation: {tiers: [{after_minutes: 0, pagerduty: [managers]}]}\n",
         "escalation.tiers[0].pagerduty: unknown service 'managers' (services: oncall; add others under pagerduty.services)"),
        ("teams: {db: {pagerduty: dba}}\n", "teams.db.pagerduty: unknown service 'dba'"),
        ("pagerduty: {services: {oncall: {routing_key_env: X}}}\n", "pagerduty.services: 'oncall' is the service"),
        ("pagerduty: {services: {dba: {routing_key_env: e93facc04764012d}}}\n",
         "pagerduty.services.dba.routing_key_env: 'e93facc04764012d' is not an environment variable name"),
        ("oncall: {rotations: [{name: p, users: [U0A], timezone: Mars/Olympus}]}\n",
         "oncall.rotations[0].timezone: unknown time zone 'Mars/Olympus'"),
        ("oncall: {rotations: [{name: p, users: [U0A], every: monthly}]}\n",
         "oncall.rotations[0].every: unknown rotation period 'monthly' (daily or weekly)"),
        ("oncall: {rotations: [{name: p, users: []}]}\n", "oncall.rotations[0].users"),
        ("auto_upgrade: [{name: x, when: services, to: SEV1}]\n",
         "auto_upgrade[0].more_than: a `services` rule needs a threshold of at least 1"),
        ("auto_upgrade: [{name: x, when: unacknowledged, to: SEV2, from: [SEV1]}]\n",
         "auto_upgrade[0].from: every severity must be milder than SEV2"),
        ("auto_upgrade: [{name: x, when: sometimes, to: SEV2}]\n", "auto_upgrade[0].when"),
        ("sla: {SEV2: {update_minutes: 0}}\n", "sla.SEV2.update_minutes"),
        ("updates: {templates: {SEV1: ''}}\n", "updates.templates.SEV1: a template needs 1 to 3000 characters"),
        ("reminders: {commander_after_minutes: -1}\n", "reminders.commander_after_minutes"),
    ],
)  # fmt: skip
def test_mistakes_are_reported_with_their_key(text, expected):
    problems = errors(text)
    assert any(expected in p for p in problems), problems


def test_a_severity_without_update_cadence():
    config = parse_config("sla: {SEV3: {update_minutes: null}}\n")
    assert config.sla[Severity.SEV3].update_minutes is None and config.sla[Severity.SEV3].ack_minutes == 240


def test_check_config_summarises_the_response_without_secrets(tmp_path, monkeypatch):
    path = tmp_path / "w.yml"
    path.write_text(
        "pagerduty: {services: {dba: {routing_key_env: PD_KEY_DBA}, leads: {routing_key_env: PD_KEY_LEADS}}}\n"
        "oncall: {rotations: [{name: primary, users: [U0A, U0B]}]}\n"
    )
    monkeypatch.setenv("PD_KEY_DBA", "d" * 32)
    monkeypatch.delenv("PD_KEY_LEADS", raising=False)
    ok, text = check_config(Settings(_env_file=None, WARROOM_CONFIG=str(path), PAGERDUTY_ROUTING_KEY="k" * 32))
    assert ok, text
    assert (
        "pagerduty:        oncall (PAGERDUTY_ROUTING_KEY set); dba (PD_KEY_DBA set); leads (PD_KEY_LEADS NOT SET"
        in text
    )
    assert "rotations:        primary (weekly, 2 users)" in text
    assert "ladder:           on-call +0m, senior + lead +15m, manager + director +30m, VP +60m" in text
    assert "k" * 32 not in text and "d" * 32 not in text
