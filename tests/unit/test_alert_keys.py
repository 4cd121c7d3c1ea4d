"""The active key: unique among firing alerts, equal for the same alert, bounded, grouped for locality."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.alert import ACTIVE_KEY_MAX, active_key
from handlers.webhooks.alertmanager import parse_alertmanager_body
from tests.alert_builders import am_alert, am_body

SOURCES = st.sampled_from(["alertmanager", "generic", "cloudwatch"])


FPS = st.text(min_size=1, max_size=128)
LABELS = st.dictionaries(st.sampled_from(["alertname", "service", "job", "pod"]), st.text(max_size=300), max_size=4)


@given(SOURCES, FPS, FPS, LABELS | st.none(), LABELS | st.none())
def test_different_fingerprints_never_share_a_key(source, fp1, fp2, labels1, labels2):
    if fp1 != fp2:
        assert active_key(source, fp1, labels1) != active_key(source, fp2, labels2)


@given(SOURCES, SOURCES, FPS, FPS, st.dictionaries(st.sampled_from(["alertname", "service"]), st.text("ab/|:")))
def test_the_two_key_forms_never_meet(source1, source2, fp1, fp2, labels):
    assert active_key(source1, fp1) != active_key(source2, fp2, labels)


@given(SOURCES, FPS, LABELS | st.none())
def test_keys_fit_the_column(source, fp, labels):
    assert len(active_key(source, fp, labels)) <= ACTIVE_KEY_MAX


def test_the_alerts_of_one_group_share_the_lead_of_their_keys():
    body = am_body(*(am_alert(pod=f"p{i}", service="checkout-api") for i in range(3)))
    keys = [a.active_key for a in parse_alertmanager_body(json.dumps(body).encode())]
    assert len(set(keys)) == 3
    assert all(k.startswith("alertmanager/HighErrorRate/checkout-api|") for k in keys)


def test_a_fingerprint_of_its_own_is_the_key_as_it_is():
    assert active_key("cloudwatch", "abc") == "cloudwatch:abc"
    assert active_key("generic", "x|y", {"alertname": "a|b"}) == "generic/a/b/|x|y"
    # a fingerprint of its own that looks like the other form still cannot meet it
    assert active_key("generic", "a/b/|x") != active_key("generic", "x", {"alertname": "a/b"})
