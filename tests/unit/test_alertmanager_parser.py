"""The Alertmanager body parser: the one-pass fast path agrees with the careful path on every input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.alert import AlertStatus
from handlers.webhooks.alertmanager import parse_alertmanager, parse_alertmanager_body
from handlers.webhooks.common import WebhookError, parse_json
from tests.alert_builders import am_alert, am_body


def careful(body: bytes) -> Any:
    """The careful path's answer: the alerts, or the error code and detail."""
    try:
        return parse_alertmanager(parse_json(body))
    except WebhookError as exc:
        return (exc.status, exc.code, exc.detail)


def either(body: bytes) -> Any:
    """The public parser's answer, in the same shape."""
    try:
        return parse_alertmanager_body(body)
    except WebhookError as exc:
        return (exc.status, exc.code, exc.detail)


def encode(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_a_real_body_parses_with_times_fingerprint_and_zero_end():
    body = encode(am_body(am_alert(pod="a", summary="disk full"), am_alert(status="resolved", pod="b")))
    alerts = parse_alertmanager_body(body)
    assert [a.status for a in alerts] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert alerts[0].ends_at is None and alerts[1].ends_at is not None
    assert alerts[0].starts_at is not None and alerts[0].starts_at.utcoffset() is not None
    assert alerts[0].annotations == {"summary": "disk full"}
    assert alerts == careful(body)


@pytest.mark.parametrize(
    ("labels", "code"),
    [
        ({}, "missing_labels"),
        ({"bad name": "x"}, "invalid_label_name"),
        ({"trailing\n": "x"}, "invalid_label_name"),
        ({"a": "x" * 1025}, "label_too_long"),
        ({"a": "bell\x07"}, "invalid_label_value"),
        ({"a": "c1\x85"}, "invalid_label_value"),
    ],
)
def test_bad_labels_get_the_careful_paths_reason(labels, code):
    item = am_alert()
    item["labels"] = labels
    answer = either(encode(am_body(item)))
    assert answer[0] == 400 and answer[1] == code and answer == careful(encode(am_body(item)))


def test_annotations_may_hold_newlines_and_tabs_but_no_other_control_characters():
    ok, bad = am_alert(), am_alert()
    ok["annotations"] = {"description": "line 1\nline 2\r\n\tindented"}
    bad["annotations"] = {"description": "form\x0cfeed"}
    assert parse_alertmanager_body(encode(am_body(ok)))[0].annotations == ok["annotations"]
    assert either(encode(am_body(bad)))[1] == "invalid_annotation"


def test_a_missing_fingerprint_is_computed_and_an_overlong_one_refused():
    item = am_alert(pod="x")
    given_fp = item.pop("fingerprint")
    assert parse_alertmanager_body(encode(am_body(item)))[0].fingerprint == given_fp
    item["fingerprint"] = "f" * 129
    assert either(encode(am_body(item)))[1] == "invalid_fingerprint"


LABEL_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(["", "a", "x\n", "é", "\x85"])
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | LABEL_TEXT
ALERTS = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["firing", "resolved", "pending", ""]) | JSON_SCALARS,
        "labels": st.dictionaries(LABEL_TEXT, LABEL_TEXT | JSON_SCALARS, max_size=4) | JSON_SCALARS,
        "annotations": st.dictionaries(LABEL_TEXT, LABEL_TEXT, max_size=3) | JSON_SCALARS,
        "startsAt": st.sampled_from(["2026-11-23T09:14:30.512Z", "0001-01-01T00:00:00Z", "yesterday", ""])
        | JSON_SCALARS,
        "endsAt": st.sampled_from(["2026-11-23T09:14:30+02:00", "2026-11-23T09:14:30"]) | JSON_SCALARS,
        "generatorURL": LABEL_TEXT | JSON_SCALARS,
        "fingerprint": st.sampled_from(["", "abc", "f" * 200]) | JSON_SCALARS,
    },
)
BODIES = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from(["4", "3", 4]) | JSON_SCALARS,
        "alerts": st.lists(ALERTS | JSON_SCALARS, max_size=3) | JSON_SCALARS,
        "status": JSON_SCALARS,
    },
)


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_fast_and_careful_paths_agree_on_any_body(data):
    body = encode(data)
    assert either(body) == careful(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_get_an_answer_and_never_an_exception(raw):
    answer = either(raw)
    assert isinstance(answer, list) or answer[0] == 400


NAMES = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.:-]{0,6}\Z") | st.sampled_from(["bad name", "9x", "a\n"])
VALUES = st.text(st.characters(codec="utf-8", max_codepoint=0x2FF), max_size=8)
NEAR_VALID = st.lists(
    st.fixed_dictionaries(
        {"labels": st.dictionaries(NAMES, VALUES, min_size=1, max_size=4)},
        optional={
            "status": st.sampled_from(["firing", "resolved"]),
            "annotations": st.dictionaries(NAMES, VALUES, max_size=2),
            "startsAt": st.sampled_from(["2026-11-23T09:14:30.512Z", "0001-01-01T00:00:00Z"]),
            "fingerprint": st.sampled_from(["", "0123456789abcdef"]),
        },
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(NEAR_VALID)
def test_fast_and_careful_paths_agree_on_nearly_valid_bodies(alerts):
    body = encode({"version": "4", "status": "firing", "alerts": alerts})
    assert either(body) == careful(body)
