"""`python -m tests.killtest.launch`: the real bot in a process of its own, pointed at a
Discord double, on a clock that runs faster than real time.

The kill test (`tests.killtest.harness`) starts this process, kills it with SIGKILL and
starts it again. Everything the bot needs comes from the environment, so a restarted
process continues exactly where the killed one was:

- the bot's own configuration, read by its normal path (`load_settings`):
  `DISCORD_TOKEN`, `DATABASE_PATH`, `ENCRYPTION_KEY`, `LOG_LEVEL`;
- `KILLTEST_DISCORD`: the double's base URL (``http://127.0.0.1:PORT``), where REST,
  the gateway and the CDN are pointed (as `DiscordDouble.patch_discord` does in-process);
- `KILLTEST_SIM_START`, `KILLTEST_REAL_START`, `KILLTEST_SPEED`: one timeline shared by
  every process of a run: simulated time = SIM_START + (wall clock - REAL_START) * SPEED;
- `KILLTEST_BREAK` (optional): a deliberately broken bot (`tests.killtest.breakages`).

Then it runs `bot.__main__.serve`, the entry point `python -m bot` uses (signals, exit
codes), so SIGTERM still stops it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.__main__ import configure_logging, fail, serve
from bot.app import BalintBot
from bot.kernel.config import ConfigError, load_settings
from bot.kernel.pacing import Pacer

TICK_SECONDS = 0.1
"""How often (real seconds) the clock tells the scheduler that time has moved on."""


class ScaledClock:
    """Simulated time that runs `speed` times faster than the wall clock.

    The scheduler arms its timer in real seconds from "now until the next job", which on
    a sped-up clock would fire `speed` times too late; so this clock calls its listeners
    every `TICK_SECONDS` (as `ManualClock` does when a test moves it) and the scheduler
    looks at the database again."""

    def __init__(
        self,
        sim_start: float,
        real_start: float,
        speed: float,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.sim_start, self.real_start, self.speed = sim_start, real_start, speed
        self._wall = wall
        self._listeners: list[Callable[[], None]] = []
        self.ticking = True

    def seconds(self) -> float:
        """Simulated unix seconds now."""
        return self.sim_start + (self._wall() - self.real_start) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds(), UTC)

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def tick(self) -> None:
        """Tell the listeners that time moved on, every `TICK_SECONDS`, forever."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            if not self.ticking:
                return
            for listener in list(self._listeners):
                listener()

    def stop_ticking_on_close(self) -> None:
        """When the bot starts to close, stop re-arming its scheduler and give the wakes
        already handed to APScheduler a moment to start: the scheduler's stop waits only
        for wakes that have started. (A real clock never re-arms it.)"""
        close = BalintBot.close
        clock = self

        async def close_after_the_last_tick(self: BalintBot) -> None:
            clock.ticking = False
            await asyncio.sleep(4 * TICK_SECONDS)
            await close(self)

        BalintBot.close = close_after_the_last_tick  # type: ignore[method-assign]

    def pacer(self) -> Pacer:
        """The bot's DM pacer on simulated time: one DM a simulated second after a burst
        of five, as in production, so that a sped-up run is not held back in real time."""

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(seconds / self.speed)

        return Pacer(monotonic=self.seconds, sleep=sleep)


def clock_from(env: os._Environ[str] | dict[str, str]) -> ScaledClock:
    return ScaledClock(
        float(env["KILLTEST_SIM_START"]),
        float(env["KILLTEST_REAL_START"]),
        float(env["KILLTEST_SPEED"]),
    )


def point_discord_at(base_url: str) -> None:
    """REST, gateway and CDN of discord.py to the double (see `DiscordDouble.patch_discord`)."""
    import discord.asset
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = f"{base_url}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base_url.replace("http://", "ws://", 1) + "/gateway"
    )
    discord.asset.Asset.BASE = f"{base_url}/cdn"


async def run(clock: ScaledClock) -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        fail(str(error))
        return 2
    configure_logging(settings)
    clock.stop_ticking_on_close()
    # The clock re-arms the scheduler every tick, and APScheduler notes each wake at INFO
    # (and each wake it folds into a running one at WARNING); its errors still show.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    ticking = asyncio.create_task(clock.tick())
    try:
        return await serve(settings, clock=clock, dm_pacer=clock.pacer(), guild_ready_timeout=0.05)
    finally:
        ticking.cancel()


def main() -> int:
    point_discord_at(os.environ["KILLTEST_DISCORD"])
    if os.environ.get("KILLTEST_BREAK"):
        from tests.killtest import breakages

        breakages.apply(os.environ["KILLTEST_BREAK"])
    logging.captureWarnings(True)
    return asyncio.run(run(clock_from(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
