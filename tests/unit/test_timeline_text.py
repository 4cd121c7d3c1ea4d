"""Timeline lines are built from the event's payload: people become mentions, what people wrote stays data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.events import Event, EventKind
from bot.domain.text import Icon, Mention, Text
from bot.domain.timeline import action, timeline_line

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def event(kind: EventKind, text: str, actor: str = "U0ALICE", **payload) -> Event:
    return Event(
        id=1,
        incident_id=1,
        chain="INC-20261123-001",
        seq=2,
        at=AT,
        actor=actor,
        kind=kind.value,
        text=text,
        payload=payload,
    )


@pytest.mark.parametrize(
    ("ev", "expected"),
    [
        (
            event(EventKind.ROLE_ASSIGNED, "made U0BOB scribe", role="scribe", user="U0BOB"),
            Text.of(Icon.PERSON, " ", Mention("U0ALICE"), " ", "made ", Mention("U0BOB"), " scribe"),
        ),
        (
            event(
                EventKind.SEVERITY_CHANGED,
                "raised severity SEV3 → SEV1: <!channel>",
                old="SEV3",
                new="SEV1",
                reason="<!channel>",
            ),
            Text.of(Icon.ALERT, " ", Mention("U0ALICE"), " ", "raised severity SEV3 → SEV1: ", "<!channel>"),
        ),
        (
            event(
                EventKind.SEVERITY_CHANGED,
                "raised severity SEV3 → SEV2",
                actor="alertmanager",
                old="SEV3",
                new="SEV2",
                reason="",
            ),
            Text.of(Icon.ALERT, " ", "alertmanager", " ", "raised severity SEV3 → SEV2"),
        ),
        (
            event(EventKind.NOTE_ADDED, "<!here> <@U0VICTIM> look"),
            Text.of(Icon.NOTE, " Note from ", Mention("U0ALICE"), ": ", "<!here> <@U0VICTIM> look"),
        ),
        (
            event(EventKind.RESOLVED, "resolved the incident: <!channel>", summary="<!channel>"),
            Text.of(Icon.DONE, " ", Mention("U0ALICE"), " ", "resolved the incident: ", "<!channel>"),
        ),
        (
            event(
                EventKind.STATUS_CHANGED,
                "status declared → mitigated: <!here>",
                old="declared",
                new="mitigated",
                note="<!here>",
            ),
            Text.of(Icon.STATUS, " ", Mention("U0ALICE"), " ", "status declared → mitigated: ", "<!here>"),
        ),
    ],
)
def test_lines(ev, expected):
    assert timeline_line(ev) == expected


def test_a_role_for_something_not_a_user_id_is_shown_as_text():
    ev = event(EventKind.ROLE_ASSIGNED, "made <!channel> sme", role="sme", user="<!channel>")
    assert action(ev) == Text.of("made ", "<!channel>", " sme")


def test_unknown_kinds_show_their_stored_sentence_as_data():
    ev = event(EventKind.ALERTS_RESOLVED, "<!channel> 2 alert(s) resolved")
    assert action(ev) == Text.of("<!channel> 2 alert(s) resolved")
