"""/readyz tells when a background loop of the running bot is not running."""

from __future__ import annotations


async def test_readyz_names_a_loop_that_is_not_running(bot):
    async with bot.http as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert "outbox" in ready.json()["detail"] and "timers" in ready.json()["detail"]
        await bot.container.scheduler.stop()
        stopped = await http.get("/readyz")
        assert stopped.status_code == 503
        assert stopped.json()["status"] == "not_ready"
        assert "not running: timers" in stopped.json()["detail"]
        await bot.container.outbox.stop()
        assert "not running: outbox, timers" in (await http.get("/readyz")).json()["detail"]
        bot.container.scheduler.start()
        bot.container.outbox.start()
        assert (await http.get("/readyz")).status_code == 200
