"""What a severity rule and a silence match is decided once, in the domain; the rules file and the API's
silences use it. One Slack user-id pattern holds for the rules file and the `/incident` grammar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, parse_config
from bot.domain.severity import rule_matches
from bot.domain.silence import covers, in_force
from bot.domain.text import USER_ID
from handlers.slack.grammar import parse_user

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_rule_conditions_are_exact_anchored_and_missing_labels_are_empty():
    assert rule_matches({"env": "prod"}, match={"env": "prod"}, match_re={})
    assert not rule_matches({"env": "production"}, match={}, match_re={"env": re.compile("prod")}), "anchored"
    assert rule_matches({}, match={"team": ""}, match_re={}), "a missing label matches as the empty string"
    assert rule_matches({"alertname": "DiskFull"}, match={}, match_re={}, alertname=re.compile("Disk.*"))
    assert not rule_matches({"alertname": "XDiskFull"}, match={}, match_re={}, alertname=re.compile("Disk.*"))


def test_silences_cover_by_equal_labels_inside_their_window():
    assert covers({"service": "api"}, {"service": "api", "pod": "a"})
    assert not covers({"service": "api"}, {"service": "web"})
    assert covers({"region": ""}, {"service": "api"})
    assert in_force(NOW, NOW + timedelta(minutes=5), NOW) and not in_force(NOW - timedelta(hours=1), NOW, NOW)


def test_the_rules_file_delegates_to_the_domain():
    config = parse_config(
        f"""
severity_rules:
  - {{name: pay, match: {{service: pay}}, match_re: {{env: "prod|live"}}, alertname: "Pay.*", severity: SEV1}}
silences:
  - {{matchers: {{service: batch}}, starts_at: "{NOW.isoformat()}", ends_at: "{(NOW + timedelta(hours=1)).isoformat()}"}}
"""
    )
    [rule], [silence] = config.severity_rules, config.silences
    for labels in ({"service": "pay", "env": "live", "alertname": "PayDown"}, {"service": "pay", "env": "prod-eu"}):
        expected = rule_matches(labels, match=rule.match, match_re=rule.match_re, alertname=rule.alertname)
        assert rule.matches(labels) is expected
    assert silence.matches({"service": "batch"}) and silence.is_active(NOW)
    assert not silence.is_active(NOW + timedelta(hours=1))


@pytest.mark.parametrize("user", ["U0ALICE", "W0BOB", "U1", "u0alice", "U0AL ICE", "S0OPS", "U"])
def test_one_user_id_pattern_for_the_rules_file_and_the_grammar(user):
    valid = USER_ID.match(user) is not None
    assert (parse_user(user) == user) is valid
    assert (parse_user(f"<@{user}|someone>") == user) is valid
    try:
        parse_config(f"approvers: [{user!r}]")
        accepted = True
    except ConfigError:
        accepted = False
    assert accepted is valid
