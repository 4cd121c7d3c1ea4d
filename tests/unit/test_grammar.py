"""The /incident grammar."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.incident import Role, Severity
from handlers.slack.commands import COMMANDS
from handlers.slack.grammar import GrammarError

parse = COMMANDS.parse


def test_declare_with_and_without_severity():
    p = parse("declare SEV2 Checkout is failing")
    assert (p.sub, p.severity, p.rest) == ("declare", Severity.SEV2, "Checkout is failing")
    p = parse("declare Checkout is failing")
    assert p.severity is None and p.rest == "Checkout is failing"
    assert parse("declare").rest == ""


def test_declare_bad_severity_names_valid_values():
    with pytest.raises(ValueError, match="SEV0, SEV1, SEV2, SEV3, SEV4"):
        parse("declare SEV9 x")


def test_sev_and_reason_and_ref():
    p = parse("sev INC-20261123-004 sev1 customers impacted")
    assert (p.sub, p.ref, p.severity, p.rest) == (
        "sev",
        "INC-20261123-004",
        Severity.SEV1,
        "customers impacted",
    )
    with pytest.raises(ValueError, match="SEV0, SEV1, SEV2, SEV3, SEV4"):
        parse("sev SEV9")
    with pytest.raises(GrammarError):
        parse("sev")


def test_role_with_mention():
    p = parse("role scribe <@U0CAROL|carol>")
    assert (p.role, p.user) == (Role.SCRIBE, "U0CAROL")
    with pytest.raises(GrammarError, match="not a user"):
        parse("role scribe carol")
    with pytest.raises(ValueError, match="commander"):
        parse("role janitor <@U1>")


def test_ref_first_form_and_aliases():
    assert parse("INC-20261123-001 ack").ref == "INC-20261123-001"
    assert parse("inc-20261123-001").sub == "status"
    assert parse("acknowledge").sub == "ack"
    assert parse("").sub == "help"


def test_unknown_subcommand():
    with pytest.raises(GrammarError, match="unknown subcommand `frobnicate`"):
        parse("frobnicate now")


def test_not_yet_subcommands_parse():
    from handlers.slack.grammar import CommandTable, Subcommand

    table = CommandTable([Subcommand("help", "", None), Subcommand("status", "", None)])
    assert table.parse("status something").sub == "status" and table.parse("status something").rest == "something"


@given(st.text(max_size=200))
def test_parse_never_crashes_unexpectedly(text):
    with contextlib.suppress(ValueError):
        parse(text)
