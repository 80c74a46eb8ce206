"""How far one bot process on one SQLite file goes.

Builds a realistic load through the bot's own commands (servers of five groups, ten
members each, half a year of weekly sessions planned, so the rota and every reminder job
exist), then measures, against the project's test double of Discord:

- the burst when every group's channel reminder falls due at the same second (all groups
  meeting on the same evening: the worst case): how long until every reminder was handed
  to Discord, with the double answering at once (no rate limits: the bot's own ceiling);
- answers under a steady stream of members' actions (RSVP presses on those reminders,
  `/rota show`, `/session list`, `/rota me`), offered at increasing rates (open loop: a
  new action starts on time whether or not the earlier ones were answered): the median
  and 99th percentile time from Discord sending the interaction to the bot's first
  answer, which Discord requires within 3 seconds.

The double runs in the same process as the bot and takes a share of the one core that
runs both; its OpenAPI validation, the most expensive part of it, is turned off here
(the tests keep it on). The figures are therefore a lower bound of what the bot serves.

Run: `.venv/bin/python -m bench.capacity` (default 200 and 1,000 groups), or
`--groups 200 1000 5000 --rates 50 100 200 400 --seconds 10`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import HANDLER_TASK_NAMES, BalintBot
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from tests.double import Channel, DiscordDouble, Guild, Interaction, Message, User
from tests.e2e.conftest import handlers_done, instant_pacer

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST_SESSION = "2026-12-01 19:00"  # a Tuesday evening in London, for every group
CHANNEL_DUE = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 24 hours before
GROUPS_PER_SERVER = 5
MEMBERS_PER_GROUP = 10
SESSIONS_PER_GROUP = 26
DISCORD_WINDOW = 3.0
SEED_CONCURRENCY = 4
KEY = bytes(range(32))


@dataclass
class Group:
    guild: Guild
    home: Channel
    leader: User
    members: list[User]
    reminder: Message | None = None


@dataclass
class Figures:
    groups: int
    members: int
    pending_jobs: int
    seed_seconds: float
    burst_seconds: float
    burst_messages: int
    """Messages posted in the burst: channel reminders, presenters' DMs, leaders' notes."""
    reminders: int
    load: list[tuple[int, int, float, float, float, int]]
    """(offered per second, answered, median, p99, worst, late over 3 s)"""


def without_validation(double: DiscordDouble) -> None:
    """The double's OpenAPI checks cost more than the bot's work; a benchmark of the bot
    does without them (every test keeps them)."""
    spec: Any = double.openapi
    spec.validate_query = lambda *args, **kwargs: []
    spec.validate_request_body = lambda *args, **kwargs: []
    spec.validate_response = lambda *args, **kwargs: []
    spec.validate_schema = lambda *args, **kwargs: []


def build_world(double: DiscordDouble, groups: int) -> list[Group]:
    made: list[Group] = []
    guild: Guild | None = None
    for index in range(groups):
        if index % GROUPS_PER_SERVER == 0:
            guild = double.add_guild(f"Society {index // GROUPS_PER_SERVER}")
        assert guild is not None
        home = double.add_channel(guild, f"balint-{index}")
        leader = double.add_user(f"lead-{index}")
        members = [double.add_user(f"m-{index}-{n}") for n in range(MEMBERS_PER_GROUP)]
        for user in (leader, *members):
            double.add_member(guild, user)
        made.append(Group(guild, home, leader, members))
    return made


async def command(
    double: DiscordDouble, group: Group, path: str, user: User, **options: Any
) -> Interaction:
    return await double.slash(
        path, user, guild=group.guild, channel=group.home, options=options, timeout=120
    )


async def seed_group(double: DiscordDouble, group: Group) -> None:
    owner = group.guild.members[group.guild.owner_id].user
    await command(
        double,
        group,
        "group create",
        owner,
        name=f"Group {group.home.name}",
        channel=group.home,
        timezone="Europe/London",
        leader=group.leader,
    )
    for member in group.members:
        await command(double, group, "group add", group.leader, member=member)
    await command(
        double,
        group,
        "session schedule",
        group.leader,
        start=FIRST_SESSION,
        duration=90,
        repeat="weekly",
        count=SESSIONS_PER_GROUP,
    )


async def gather_limited(jobs: list[Callable[[], Awaitable[None]]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


def first_answer_seconds(interaction: Interaction) -> float | None:
    if not interaction.attempts:
        return None
    return interaction.attempts[0].at - interaction.sent_at


async def offered_load(
    double: DiscordDouble, groups: list[Group], rate: int, seconds: float, rng: random.Random
) -> tuple[int, int, float, float, float, int]:
    """Members' actions at `rate` per second for `seconds`; their answer times."""

    async def one_action() -> Interaction | None:
        group = rng.choice(groups)
        member = rng.choice(group.members)
        roll = rng.random()
        with contextlib.suppress(AssertionError, TimeoutError):
            if roll < 0.5 and group.reminder is not None:
                choice = rng.choice(group.reminder.custom_ids())
                return await double.click(group.reminder, choice, member, timeout=30)
            name = "rota show" if roll < 0.75 else "session list" if roll < 0.9 else "rota me"
            return await command(double, group, name, member)
        return None

    count = int(rate * seconds)
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = []
    for index in range(count):
        delay = began + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_action()))
    results = await asyncio.gather(*tasks)
    times = sorted(t for r in results if r is not None and (t := first_answer_seconds(r)))
    if not times:
        return rate, 0, float("nan"), float("nan"), float("nan"), count
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    late = sum(1 for t in times if t > DISCORD_WINDOW) + (count - len(times))
    return rate, len(times), statistics.median(times), p99, times[-1], late


async def drained() -> None:
    """Wait until the bot has finished every interaction handed to it (an overloaded run
    leaves a queue behind that would spill into the next measurement)."""
    busy = {
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name().startswith(HANDLER_TASK_NAMES)
    }
    if busy:
        await asyncio.wait(busy)


@contextlib.asynccontextmanager
async def running_bot(
    double: DiscordDouble, clock: ManualClock, path: Path
) -> AsyncIterator[BalintBot]:
    settings = Settings(token=double.token, database_path=path, encryption_key=KEY)
    bot = BalintBot(settings, clock=clock, dm_pacer=instant_pacer(), guild_ready_timeout=0.05)
    async with double.run_client(bot, timeout=120):
        yield bot


async def measure(groups: int, rates: list[int], seconds: float, folder: Path) -> Figures:
    clock = ManualClock(START)
    async with DiscordDouble(now=clock.now) as double:
        without_validation(double)
        world = build_world(double, groups)
        async with running_bot(double, clock, folder / f"capacity-{groups}.db") as bot:
            began = time.perf_counter()
            await gather_limited(
                [lambda g=g: seed_group(double, g) for g in world], SEED_CONCURRENCY
            )
            await bot.scheduler.wait_idle()
            await handlers_done()  # the DMs telling members of their slots
            seed_seconds = time.perf_counter() - began
            pending = int(
                await bot.database.scalar("SELECT count(*) FROM jobs WHERE state = 'pending'")
            )

            sent_before = len(double.requests)
            began = time.perf_counter()
            clock.set(CHANNEL_DUE)
            await asyncio.wait_for(bot.scheduler.wait_idle(), 600)
            burst_seconds = time.perf_counter() - began
            burst_messages = sum(
                1
                for r in double.requests[sent_before:]
                if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
            )
            for group in world:
                group.reminder = next(
                    (
                        m
                        for m in double.messages(group.home)
                        if any(c.startswith("rsvp:") for c in m.custom_ids())
                    ),
                    None,
                )

            reminders = sum(1 for group in world if group.reminder is not None)
            rng = random.Random(groups)
            load = []
            for rate in rates:
                load.append(await offered_load(double, world, rate, seconds, rng))
                await drained()
                if load[-1][-1] > 0.01 * rate * seconds:
                    break  # over capacity: higher rates only queue up more
    return Figures(
        groups=groups,
        members=groups * MEMBERS_PER_GROUP,
        pending_jobs=pending,
        seed_seconds=seed_seconds,
        burst_seconds=burst_seconds,
        burst_messages=burst_messages,
        reminders=reminders,
        load=load,
    )


def report(figures: Figures) -> None:
    print(
        f"\n{figures.groups:,} groups, {figures.members:,} members, "
        f"{figures.pending_jobs:,} pending jobs (seeded through the commands in "
        f"{figures.seed_seconds:.0f} s)"
    )
    print(
        f"  every group's reminder due at the same second: {figures.reminders:,} channel "
        f"reminders, with the presenters' DMs and leaders' notes due by then "
        f"{figures.burst_messages:,} messages, handed to Discord in "
        f"{figures.burst_seconds:.1f} s"
    )
    print("  offered/s  answered  median ms  p99 ms  worst ms  over 3 s")
    for rate, answered, median, p99, worst, late in figures.load:
        print(
            f"  {rate:9d}  {answered:8d}  {median * 1000:9.1f}  {p99 * 1000:6.0f}  "
            f"{worst * 1000:8.0f}  {late:8d}"
        )


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--groups", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rates", type=int, nargs="+", default=[25, 50, 100, 200, 400])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for groups in args.groups:
            report(await measure(groups, args.rates, args.seconds, Path(folder)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
