"""The REAL Alertmanager (Debian package) sends its webhooks to the bot: alerts arrive, group and resolve."""

from __future__ import annotations

import httpx

from tests.e2e.harness import ALERT_TOKEN, eventually


def labels(service: str, instance: str, alertname: str = "HighErrorRate") -> dict[str, str]:
    return {"alertname": alertname, "service": service, "instance": instance, "severity": "critical"}


async def test_alertmanager_to_war_rooms(bot, alertmanager_factory):
    am = alertmanager_factory(f"{bot.url}/webhooks/alertmanager", token=ALERT_TOKEN)
    fired = [
        labels("checkout-api", "a"),
        labels("checkout-api", "b"),
        labels("checkout-api", "c"),
        labels("search", "x", "LatencyHigh"),
    ]
    await am.apost_alerts(
        [{"labels": lab, "annotations": {"summary": f"{lab['service']} is unhappy"}} for lab in fired]
    )

    async def incidents():
        data = (await bot.http.get("/api/v1/incidents")).json()["incidents"]
        return data if sum(i["alert_count"] for i in data) == 4 else None

    found = await eventually(incidents, timeout=20)
    by_service = {i["services"][0]: i for i in found}
    assert set(by_service) == {"checkout-api", "search"}
    assert by_service["checkout-api"]["alert_count"] == 3 and by_service["search"]["alert_count"] == 1
    assert by_service["checkout-api"]["title"] == "checkout-api is unhappy"
    await eventually(lambda: len([c for c in bot.workspace.channels() if c.name.startswith("inc-")]) == 2, timeout=20)

    for lab in fired[:3]:
        await am.aresolve(lab, {"summary": "checkout-api is unhappy"})
    ref = by_service["checkout-api"]["ref"]

    async def all_resolved():
        timeline = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["timeline"]
        return [e for e in timeline if e["kind"] == "alerts.all_resolved"]

    await eventually(all_resolved, timeout=20)
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert detail["status"] == "declared", "resolved alerts never resolve the incident by themselves"
    other = (await bot.http.get(f"/api/v1/incidents/{by_service['search']['ref']}")).json()
    assert not [e for e in other["timeline"] if e["kind"].startswith("alerts.")]


async def test_wrong_token_is_refused_and_nothing_is_stored(bot, alertmanager_factory):
    am = alertmanager_factory(f"{bot.url}/webhooks/alertmanager", basic_auth=("alertmanager", "wrong"))
    await am.apost_alerts([{"labels": labels("checkout-api", "a")}])

    async def failed_notifications() -> bool:
        async with httpx.AsyncClient() as c:
            text = (await c.get(f"{am.url}/metrics")).text
        for line in text.splitlines():
            if line.startswith("alertmanager_notifications_failed_total") and 'integration="webhook"' in line:
                return float(line.rsplit(" ", 1)[1]) >= 1
        return False

    await eventually(failed_notifications, timeout=20)  # Alertmanager sent it and got our 401
    assert (await bot.http.get("/api/v1/incidents")).json()["incidents"] == []
