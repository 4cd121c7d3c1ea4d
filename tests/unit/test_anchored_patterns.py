"""Validators refuse a value with a trailing newline.

In Python's `re`, `$` also matches just before a final newline, so `re.compile(r"^[a-z]+$").match("ok\\n")`
succeeds: an id, a user id or a label value checked that way lets a newline through into a query, an argv
item or a log line. Anchored validators end with `\\Z`; the guard below keeps `$` from coming back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config.fields import CHANNEL_NAME
from bot.domain.naming import REF_RE
from bot.domain.runbook import SAFE_VALUE
from bot.domain.text import CHANNEL_ID, GROUP_ID, USER_ID
from bot.services.silences import ID as SILENCE_ID
from handlers.slack.grammar import parse_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        (USER_ID, "U012ABCDEF"),
        (GROUP_ID, "S0123ABC"),
        (CHANNEL_ID, "C0123ABC"),
        (REF_RE, "INC-20261202-001"),
        (SAFE_VALUE, "payments-api"),
        (SILENCE_ID, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        (CHANNEL_NAME, "incidents"),
    ],
)
def test_a_valid_value_passes_and_the_same_value_with_a_trailing_newline_does_not(
    pattern: re.Pattern[str], valid: str
) -> None:
    assert pattern.match(valid)
    assert pattern.match(valid + "\n") is None
    assert pattern.match(valid + "\r\n") is None


def test_a_mention_token_with_a_trailing_newline_is_not_a_user() -> None:
    assert parse_user("<@U012ABCDEF>") == "U012ABCDEF"
    assert parse_user("<@U012ABCDEF>\n") is None


def _dollar_anchored(path: Path) -> list[str]:
    """`re.compile` / `re.match` / `re.fullmatch` / `re.search` calls whose literal pattern starts with `^`,
    ends with `$` and has no flags (so `$` is not a per-line anchor)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
            continue
        if node.func.attr not in {"compile", "match", "search"} or not node.args:
            continue
        first = node.args[0]
        flags = len(node.args) > 2 or (node.func.attr == "compile" and len(node.args) > 1) or node.keywords
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and not flags:
            text = first.value
            if text.startswith("^") and text.endswith("$") and not text.endswith("\\$"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


SHARED_WITH_JSON_SCHEMA = {"bot/domain/alert.py:12"}  # also a pydantic/JSON Schema pattern; fullmatch in Python


def test_no_validator_in_the_code_is_anchored_with_a_dollar() -> None:
    offenders = [
        hit
        for top in ("bot", "handlers", "integrations")
        for path in sorted((ROOT / top).rglob("*.py"))
        for hit in _dollar_anchored(path)
        if hit not in SHARED_WITH_JSON_SCHEMA
    ]
    assert offenders == [], "end anchored validators with \\Z, not $ (which also matches before a final newline)"
