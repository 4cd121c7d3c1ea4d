"""`/incident postmortem` grammar: no text regenerates; `action <text> [@owner] [due YYYY-MM-DD]` reads one owner
from anywhere in the text; anything else says how to write it."""

from __future__ import annotations

import pytest

from handlers.slack.commands import COMMANDS
from handlers.slack.grammar import GrammarError


def test_no_text_regenerates_and_a_reference_may_come_first():
    assert COMMANDS.parse("postmortem").targets == ()
    parsed = COMMANDS.parse("INC-20261123-001 postmortem")
    assert (parsed.sub, parsed.ref, parsed.targets) == ("postmortem", "INC-20261123-001", ())
    assert "postmortem" in COMMANDS.available


def test_an_action_item_with_its_owner_anywhere_and_its_due_date():
    parsed = COMMANDS.parse("postmortem action Add a <@U0BOB|bob> canary due 2027-01-15")
    assert parsed.targets == ("action",) and parsed.user == "U0BOB"
    assert parsed.rest == "Add a canary due 2027-01-15"
    plain = COMMANDS.parse("postmortem INC-20261123-001 ACTION write the runbook")
    assert (plain.ref, plain.user, plain.rest) == ("INC-20261123-001", None, "write the runbook")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("postmortem now", "usage"),
        ("postmortem action fix it <@U0BOB> <@U0CAROL>", "one owner"),
    ],
)
def test_malformed_commands_say_how(text, error):
    with pytest.raises(GrammarError, match=error):
        COMMANDS.parse(text)
