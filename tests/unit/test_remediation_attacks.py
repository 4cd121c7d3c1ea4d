"""The adversarial suite (tests/remediation_attacks.py) on SQLite: every attempt refused with a clear message,
nothing executed, the refusal in the hash-chained log."""

from __future__ import annotations

import pytest

from bot.audit import verify
from tests.builders import sqlite_store
from tests.remediation_attacks import run_attacks


@pytest.fixture
async def store(tmp_path):
    s = await sqlite_store(tmp_path)
    yield s
    await s.dispose()


async def test_every_attack_is_refused_runs_nothing_and_is_audited(store):
    results = await run_attacks(store)
    assert len(results) >= 14
    for r in results:
        assert r.refused, f"{r.name}: {r.message}"
        assert r.executed == 0, f"{r.name} ran something"
        assert r.audited, f"{r.name} left no refused entry in the log"
        assert r.message.startswith("refused: ") and "Nothing was run" in r.message, r.message
    rules = {r.name: r.rule for r in results}
    assert rules["self-approval of HIGH"] == "self_approval"
    assert rules["approval by a non-approver"] == "not_authorized"
    assert rules["approval after expiry"] == rules["approval after expiry (timer not fired yet)"] == "expired"
    assert rules["double click (second approval)"] == "already_decided"
    assert rules["stale card after a newer proposal"] == "superseded"
    assert {rules[n] for n in rules if n.startswith("label value")} == {"unsafe_value"}
    assert (await verify(store)).ok, "the log's hash chain holds"
