"""One run of the kill test.

1. The double starts, the world is set up through the bot's commands (in this process).
2. The bot starts as a child process on the same database and a sped-up clock on which
   the reminder groups' reminders fall due one (simulated) minute apart; the burst of
   users starts (`tests.killtest.actors`).
3. `kills` times: the child is killed with SIGKILL at a random moment (seeded): a share
   while it starts and catches up, the others within `kill_window` real seconds after it
   connected, while it works; and started again at once.
4. The last life runs until every planned job is due and done; the burst stops; the bot
   is stopped with SIGTERM (exit status 0 expected), and the checks run
   (`tests.killtest.checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.double import DiscordDouble
from tests.killtest.actors import Burst
from tests.killtest.checks import Checker, Counts
from tests.killtest.child import BotProcess, Life, Timeline
from tests.killtest.world import (
    KEY,
    RUN_STARTS,
    TOKEN,
    Shape,
    build_cast,
    read_database,
    set_up,
    settings_for,
)

DRAIN_TIMEOUT = 60.0
"""Real seconds the last life may take to finish what is due."""


@dataclass(frozen=True)
class RunConfig:
    seed: int = 1
    kills: int = 3
    speed: float = 60.0
    """Simulated seconds per real second."""
    kill_window: tuple[float, float] = (0.1, 2.5)
    """Real seconds after the bot connected within which it is killed."""
    startup_kills: float = 0.2
    """The share of kills that land while the bot starts, before it connected."""
    shape: Shape = field(default_factory=Shape)
    breakage: str = ""
    """A deliberately broken bot (`tests.killtest.breakages`), to see the checks fail."""
    actor_pause: tuple[float, float] = (0.0, 0.15)
    """Real seconds each user waits between two actions (drawn at random)."""
    nonce_window: float | None = None
    """Real seconds the double honours a message nonce (None: its default, 300 s, like
    Discord's few minutes). Shorter than a restart, it shows the documented limit: a
    send repeated after a kill between sending and recording is no longer collapsed."""


@dataclass
class RunResult:
    config: RunConfig
    counts: Counts
    seconds: float
    exit_status: int | None
    workdir: Path


async def run_once(config: RunConfig, workdir: Path) -> RunResult:
    started = time.monotonic()
    kill_rng = random.Random(config.seed)
    burst_rng = random.Random(config.seed + 1_000_000)
    database = workdir / "balint.db"
    async with DiscordDouble(token=TOKEN) as double:
        cast = build_cast(double)
        plan = await set_up(cast, settings_for(database), config.shape)
        double.requests.clear()  # what the setup sent is not what the run is judged on
        if config.nonce_window is not None:
            double.nonce_window = config.nonce_window
        timeline = Timeline(RUN_STARTS, config.speed)
        bot = BotProcess(double, database, KEY, timeline, workdir, breakage=config.breakage)
        burst = Burst(cast, plan, bot, burst_rng, pause=config.actor_pause)
        burst.start()
        counts = Counts()
        try:
            for _ in range(config.kills):
                life = await _live_and_die(bot, kill_rng, config)
                counts.kills += 1
                counts.kills_before_ready += life.ready_at is None
            final = await _live(bot)
            await _drain(bot, timeline, RUN_STARTS + config.shape.span + timedelta(minutes=1))
            await burst.stop()
            await _drain(bot, timeline, RUN_STARTS)
            await _quiet(double)
            exit_status = await bot.stop(final)
        finally:
            await _end(bot, burst)
        now = timeline_now(timeline)
        checked = Checker(cast, plan, burst.journal, database, now).run(
            [life.log_path for life in bot.lives]
        )
    counts.add(checked)
    counts.crashes += sum(1 for life in bot.lives if not life.killed and life.exit_status != 0)
    if exit_status != 0:
        counts.problems.append(f"the last life exited with status {exit_status}")
    return RunResult(config, counts, time.monotonic() - started, exit_status, workdir)


def timeline_now(timeline: Timeline) -> datetime:
    return datetime.fromtimestamp(timeline.seconds(), UTC)


async def _live_and_die(bot: BotProcess, rng: random.Random, config: RunConfig) -> Life:
    """Start the bot and SIGKILL it: a share of the kills while it starts (migrations,
    the catch-up of what fell due while it was down), the others at a random moment
    after it connected, while it works."""
    before = bot.double.gateway.identifies
    life = await bot.start()
    ready = asyncio.create_task(bot.wait_ready(life, before))
    if rng.random() < config.startup_kills:
        await asyncio.sleep(rng.uniform(0.2, 1.5))
    elif await ready:
        await asyncio.sleep(rng.uniform(*config.kill_window))
    await bot.kill(life)
    ready.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ready
    return life


async def _live(bot: BotProcess) -> Life:
    before = bot.double.gateway.identifies
    life = await bot.start()
    if not await bot.wait_ready(life, before):
        raise AssertionError(f"the bot exited on its own: see {life.log_path}")
    return life


async def _drain(bot: BotProcess, timeline: Timeline, until: datetime) -> None:
    """Wait until simulated time has reached `until` and nothing due is left to do."""
    await asyncio.sleep(timeline.real_seconds_until(until))
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        left = await read_database(
            bot.database_path, functools.partial(_jobs_due, now=int(timeline.seconds()))
        )
        if not left:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} job(s) still due after {DRAIN_TIMEOUT:g} s")
        await asyncio.sleep(0.1)


def _jobs_due(db: sqlite3.Connection, now: int) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM jobs WHERE (state = 'pending' AND due_at <= ?)"
            " OR state = 'running'",
            (now,),
        ).fetchone()[0]
    )


async def _quiet(double: DiscordDouble, seconds: float = 0.3) -> None:
    """Wait until the bot has sent nothing for `seconds` (it tells people after it
    answers, and after a job's messages it may edit the reminder's counts)."""
    while True:
        seen = len(double.requests)
        await asyncio.sleep(seconds)
        if len(double.requests) == seen:
            return


async def _end(bot: BotProcess, burst: Burst) -> None:
    """Whatever happened, no child outlives the run."""
    life = bot.current
    if life is not None and life.process.returncode is None:
        life.process.kill()
        await life.process.wait()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(burst.stop(), 10)
