"""Every webhook turns a pydantic ValidationError into a 400 the same way (handlers.webhooks.common): where and
what, quoted, never the input; and every time the bot shows is written by one helper (bot.domain.times.iso)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.times import iso, parse_iso
from handlers.webhooks.alertmanager import parse_alertmanager_body
from handlers.webhooks.cloudwatch import parse_alarm
from handlers.webhooks.common import WebhookError, parse_json
from handlers.webhooks.generic import parse_generic
from handlers.webhooks.sns import SnsError, parse_envelope

ESC_KEY = "k\x1b[31m\u202e"
SECRET = "s3cr3t-value-never-echoed"


def generic(body: dict) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        parse_generic(body)
    return info.value


def alertmanager(body: dict) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        parse_alertmanager_body(json.dumps(body).encode())
    return info.value


@pytest.mark.parametrize(
    "refuse",
    [
        lambda labels: generic({"alerts": [{"labels": labels}]}),
        lambda labels: alertmanager({"version": "4", "alerts": [{"labels": labels}]}),
    ],
    ids=["generic", "alertmanager"],
)
def test_a_bad_field_is_named_quoted_and_its_value_never_echoed(refuse):
    err = refuse({"alertname": "X", ESC_KEY: [SECRET]})
    assert (err.status, err.code) == (400, "invalid_alert")
    assert all(ch.isprintable() for ch in err.detail), repr(err.detail)
    assert "labels" in err.detail and SECRET not in err.detail
    assert err.detail.endswith(": 'Input should be a valid string'")


def test_alertmanager_names_the_alert_and_the_field():
    err = alertmanager({"version": "4", "alerts": [{"labels": {"alertname": "X"}}, {"labels": {"a": 1}}]})
    assert err.detail == "'alerts[1].labels.a': 'Input should be a valid string'"


def test_sns_and_cloudwatch_say_it_the_same_way():
    with pytest.raises(SnsError) as envelope:
        parse_envelope(json.dumps({"Type": "Notification", "MessageId": 5, "Token": SECRET}).encode(), {})
    assert "'MessageId': 'Input should be a valid string'" in envelope.value.detail
    assert SECRET not in envelope.value.detail
    with pytest.raises(SnsError) as alarm:
        parse_alarm(json.dumps({"AlarmArn": "arn", "NewStateValue": "ALARM", "AlarmName": [SECRET]}))
    assert alarm.value.detail.startswith("invalid alarm: 'AlarmName': 'Input should be a valid string'")
    assert SECRET not in alarm.value.detail


def test_one_time_format():
    assert iso(datetime(2026, 11, 23, 9, 12, tzinfo=UTC)) == "2026-11-23T09:12:00.000000Z"
    assert iso(datetime(2026, 11, 23, 9, 12)) == "2026-11-23T09:12:00.000000Z", "naive times are stored UTC"
    assert iso(datetime(2026, 11, 23, 11, 12, tzinfo=timezone(timedelta(hours=2)))) == "2026-11-23T09:12:00.000000Z"
    assert iso(None) is None
    assert parse_iso("2026-11-23T09:12:00Z") == datetime(2026, 11, 23, 9, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_parse_json_is_shared_and_says_where():
    with pytest.raises(WebhookError) as info:
        parse_json(b'{"a": }')
    assert info.value.code == "invalid_json" and "char 6" in info.value.detail
