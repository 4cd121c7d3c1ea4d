"""The post-mortem draft of a scripted incident, through the real use cases on SQLite with an injected clock:
MTTx figures equal to hand-computed values, every section drawn from the log, and redaction of what alerts
carry (an e-mail address, a secret) before the Markdown is written."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from bot.domain.causes import Cause
from bot.domain.hypotheses import Evidence, Verdict
from bot.domain.incident import Role, Status
from bot.domain.root_cause import StoredHypothesis
from bot.redact import Redactor
from bot.services import alerts, hypotheses, incidents, postmortems
from bot.services.errors import BadRequest
from integrations.postmortem_markdown import MarkdownPostmortem
from tests.alert_builders import alert
from tests.builders import deps_for, sqlite_store

SECRET = "s3cr3t-Pr0d-Value-42"


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    d = deps_for(store)
    d.redact = Redactor([SECRET])
    yield d
    await store.dispose()


def hypothesis(ref: str, incident_id: int, hid: str, title: str, cause: Cause, at) -> StoredHypothesis:
    ev = Evidence("rate(http_errors_total[5m])", Verdict.SUPPORTS, observed=0.12, threshold=0.05,
                  likelihood_ratio=4.0, detail="error ratio 0.12 > 0.05 | x")  # fmt: skip
    return StoredHypothesis(hid, incident_id, title, "checkout-api", cause, 0.3, 0.6, (ev,), at, rank=1)


async def scripted(deps) -> str:
    """The script: alert started 08:53:30, ingested (declared) 09:00:00, acknowledged 09:04:15, a wrong root
    cause confirmed 09:10 and rejected 09:12, the right one confirmed 09:20:30, resolved 09:47:05."""
    clock = deps.clock
    t0 = clock.now()
    a = alert(summary=f"Checkout 5xx — ask bob.smith@example.com, key {SECRET}", region="eu-west-1",
              owner="bob.smith@example.com")  # fmt: skip
    a = dataclasses.replace(a, starts_at=t0 - timedelta(minutes=6, seconds=30))
    ref = (await alerts.ingest(deps, [a], source="alertmanager")).declared[0]
    inc = await incidents.get(deps, ref=ref)
    async with deps.store.transaction() as uow:
        await uow.hypotheses.save([
            hypothesis(ref, inc.id, "h-deploy", "Bad deploy of checkout", Cause.BAD_DEPLOY, t0),
            hypothesis(ref, inc.id, "h-db", "Database connection pool exhausted", Cause.CONNECTION_POOL_EXHAUSTION, t0),
        ])  # fmt: skip
    clock.advance(minutes=4, seconds=15)
    await incidents.assign_role(deps, ref=ref, role=Role.COMMANDER, user_id="U0BOB", actor="U0BOB")
    clock.advance(minutes=5, seconds=45)  # 09:10
    await hypotheses.judge_hypothesis(deps, hypothesis_id="h-deploy", confirm=True, actor="U0BOB")
    clock.advance(minutes=2)  # 09:12
    await hypotheses.judge_hypothesis(deps, hypothesis_id="h-deploy", confirm=False, actor="U0BOB")
    clock.advance(minutes=8, seconds=30)  # 09:20:30
    await hypotheses.judge_hypothesis(deps, hypothesis_id="h-db", confirm=True, actor="U0CAROL")
    await incidents.acknowledge(deps, ref=ref, actor="U0CAROL")  # acknowledged already: changes nothing
    item = postmortems.parse_item("Alert on pool saturation due 2026-12-01", "U0CAROL")
    await postmortems.add_action_item(deps, ref=ref, actor="U0BOB", item=item)
    clock.advance(minutes=26, seconds=35)  # 09:47:05
    await incidents.resolve(deps, ref=ref, actor="U0BOB", summary=f"Pool raised; thanks {SECRET}")
    return ref


async def test_mttx_of_a_scripted_incident_match_hand_computed_values(deps):
    ref = await scripted(deps)
    doc = await postmortems.draft(deps, ref=ref)
    figures = {f.name: (f.seconds, f.value) for f in doc.figures}
    assert figures == {
        "MTTD": (6 * 60 + 30, "6m 30s"),
        "MTTA": (4 * 60 + 15, "4m 15s"),
        "MTTI": (20 * 60 + 30, "20m 30s"),
        "MTTR": (47 * 60 + 5, "47m 05s"),
    }
    assert doc.impact_duration == "53m 35s" and doc.version == 1
    sev2 = {f.name: (f.target, f.met) for f in doc.figures}
    assert sev2 == {
        "MTTD": ("15 min", True),
        "MTTA": ("30 min", True),
        "MTTI": (None, None),
        "MTTR": ("1440 min", True),
    }


async def test_editing_the_columns_does_not_change_the_figures(deps):
    ref = await scripted(deps)
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get(ref, lock=True)
        inc.acknowledged_at = inc.declared_at + timedelta(hours=3)
        inc.resolved_at = inc.declared_at
        await uow.save(inc)
    doc = await postmortems.draft(deps, ref=ref)
    assert [f.value for f in doc.figures] == ["6m 30s", "4m 15s", "20m 30s", "47m 05s"]


async def test_every_section_is_drawn_from_the_log(deps):
    ref = await scripted(deps)
    doc = await postmortems.draft(deps, ref=ref)
    assert doc.root_cause is not None and doc.root_cause.title == "Database connection pool exhausted"
    assert doc.root_cause.cause == "connection_pool_exhaustion" and doc.root_cause.evidence[0].verdict == "supports"
    assert any("Bad deploy of checkout" in h for h in doc.ruled_out)
    assert [(i.id, i.text, i.due) for i in doc.action_items] == [
        ("ai-1", "Alert on pool saturation", date(2026, 12, 1))
    ]
    assert any("confirmed the root cause" in e.text.data() for e in doc.actions_taken)
    assert doc.services == ("checkout-api",) and doc.regions == ("eu-west-1",) and doc.status == "resolved"
    assert any("MTTA 4m 15s, within the target of 30 min" in w for w in doc.went_well)


async def test_an_email_or_a_secret_from_an_alert_never_reaches_the_post_mortem(deps):
    ref = await scripted(deps)
    text = MarkdownPostmortem().render(await postmortems.draft(deps, ref=ref))
    assert "bob.smith" not in text and "example.com" not in text and SECRET not in text
    assert "[redacted-email]" in text.replace("\\", "") and "[redacted]" in text.replace("\\", "")
    assert "| MTTR | 47m 05s | 1440 min ✅ |" in text


async def test_regenerating_makes_a_new_version_and_reopen_resolve_moves_mttr(deps):
    ref = await scripted(deps)
    out = await postmortems.regenerate(deps, ref=ref, actor="U0BOB", request_key="t1")
    assert out.changed and not (await postmortems.regenerate(deps, ref=ref, actor="U0BOB", request_key="t1")).changed
    assert (await postmortems.draft(deps, ref=ref)).version == 2
    await incidents.set_status(deps, ref=ref, status=Status.ACKNOWLEDGED, actor="U0BOB", note="it came back")
    assert (await postmortems.draft(deps, ref=ref)).figures[3].value == "n/a"
    deps.clock.advance(minutes=12, seconds=55)  # 10:00:00
    await incidents.resolve(deps, ref=ref, actor="U0BOB")
    doc = await postmortems.draft(deps, ref=ref)
    assert doc.version == 3 and doc.figures[3].value == "1h 00m 00s"


async def test_action_items_are_read_with_owner_and_due_date_and_remind_on_it(deps):
    ref = await scripted(deps)
    item = postmortems.parse_item("  Add a canary   stage  due:2027-01-15 ")
    assert item == postmortems.ItemRequest("Add a canary stage", None, date(2027, 1, 15))
    out = await postmortems.add_action_item(deps, ref=ref, actor="U0BOB", item=item, request_key="k")
    assert out.changed and "ai-2" in str(out.message)
    assert not (await postmortems.add_action_item(deps, ref=ref, actor="U0BOB", item=item, request_key="k")).changed
    with pytest.raises(BadRequest, match="not a date"):
        postmortems.parse_item("x due 2027-13-40")
    with pytest.raises(BadRequest, match="needs a text"):
        postmortems.parse_item("due 2027-01-01")
