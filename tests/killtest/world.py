"""The kill test's world: one server, five groups, the people in them, and their plans.

Each group has one job in the test, so that what one group's burst changes cannot blur
what another's checks expect:

- two *reminder* groups ("Reminders one", "Reminders two"): sessions one (simulated)
  minute apart whose three reminders (home channel, presenter, leaders) all fall due
  while the bot is being killed; their members only answer Attending, which moves nobody's
  slot, so who must get which reminder is fixed before the run starts;
- a *rota* group: sessions weeks ahead (no reminder falls due), changed by absences,
  swaps, assignments and regenerations;
- a *cases* group: one session days ahead, for case notes by DM and by form;
- a *reflections* group: three sessions that ended before the run (their windows open,
  for reflections to be written) and a few that end during it (their windows open while
  the bot is being killed: an invitation in the channel and one DM per member, once).

The world is set up through the bot's own commands, in this process, on a `ManualClock`
(`set_up`); the bot that is then killed runs in a child process on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.app import BalintBot
from bot.kernel.clock import ManualClock, from_unix
from bot.kernel.config import Settings
from tests.double import Channel, DiscordDouble, Guild, User
from tests.e2e.conftest import handlers_done, instant_pacer, reply_text

SETUP_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; London is on UTC in winter
RUN_STARTS = SETUP_AT + timedelta(hours=5)
"""Simulated time when the child process first starts (the run's timeline begins)."""
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
"""A token of the real shape, so the child reads its configuration the normal way."""
KEY = bytes(range(32))

REMINDER_GROUPS = ("Reminders one", "Reminders two")
ROTA_GROUP = "Rota group"
CASES_GROUP = "Cases group"
REFLECTIONS_GROUP = "Reflections group"
EARLY_REFLECTION_SESSIONS = 3
LOCAL = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Shape:
    """How big a run is: reminder sessions per reminder group, reflection sessions that
    end during the run, and how far apart (simulated minutes) they fall due."""

    reminder_sessions: int = 20
    late_reflection_sessions: int = 4
    minutes_apart: int = 1

    @property
    def span(self) -> timedelta:
        """From the start of the run until the last planned job is due."""
        last = max(self.reminder_sessions, self.late_reflection_sessions)
        return timedelta(minutes=last * self.minutes_apart)


@dataclass
class Cast:
    double: DiscordDouble
    guild: Guild
    admin: User
    leader: User
    homes: dict[str, Channel]
    members: dict[str, list[User]]


MEMBER_NAMES = {
    "reminders": ("ann", "abe", "amy", "art"),
    ROTA_GROUP: ("bea", "ben", "bo", "bri", "bud"),
    CASES_GROUP: ("cal", "cat", "cy", "col"),
    REFLECTIONS_GROUP: ("rae", "ray", "rex", "rio", "roz", "rue"),
}


def build_cast(double: DiscordDouble) -> Cast:
    guild = double.add_guild("Clinic")
    homes = {
        name: double.add_channel(guild, name.lower().replace(" ", "-"))
        for name in (*REMINDER_GROUPS, ROTA_GROUP, CASES_GROUP, REFLECTIONS_GROUP)
    }
    leader = double.add_user("dr-lead")
    people = {key: [double.add_user(name) for name in names] for key, names in MEMBER_NAMES.items()}
    for user in (leader, *(user for group in people.values() for user in group)):
        double.add_member(guild, user)
    admin = next(m.user for m in guild.members.values() if m.user.id == guild.owner_id)
    members = dict.fromkeys(REMINDER_GROUPS, people["reminders"])
    members.update({name: people[name] for name in (ROTA_GROUP, CASES_GROUP, REFLECTIONS_GROUP)})
    return Cast(double, guild, admin, leader, homes, members)


@dataclass(frozen=True)
class PlannedSession:
    id: int
    group_id: int
    group: str
    starts_at: datetime
    ends_at: datetime
    presenter_id: int | None


@dataclass
class Plan:
    """What the setup made, read back from the database."""

    group_ids: dict[str, int]
    sessions: dict[str, list[PlannedSession]] = field(default_factory=dict)

    def reminder_sessions(self) -> list[PlannedSession]:
        return [s for name in REMINDER_GROUPS for s in self.sessions[name]]

    def early_reflection_sessions(self) -> list[PlannedSession]:
        return [s for s in self.sessions[REFLECTIONS_GROUP] if s.ends_at <= RUN_STARTS]


def settings_for(database_path: Path) -> Settings:
    return Settings(token=TOKEN, database_path=database_path, encryption_key=KEY)


class _Setup:
    def __init__(self, cast: Cast, bot: BalintBot, clock: ManualClock) -> None:
        self.cast, self.bot, self.clock = cast, bot, clock

    async def run(self, command: str, user: User, group: str, **values: Any) -> str:
        home = self.cast.homes[group]
        if "channel" in values:
            values["options"] = {"channel": values.pop("channel")}
        done = await self.cast.double.slash(
            command, user, guild=self.cast.guild, channel=home, **values
        )
        await handlers_done()
        return reply_text(done)

    async def group(self, name: str) -> None:
        cast = self.cast
        created = await self.run(
            "group create",
            cast.admin,
            name,
            name=name,
            channel=cast.homes[name],
            timezone="Europe/London",
            leader=cast.leader,
        )
        assert "Created" in created, created
        for member in cast.members[name]:
            added = await self.run("group add", cast.leader, name, member=member)
            assert "Added" in added, added

    async def once(self, group: str, start: datetime, minutes: int = 60) -> None:
        planned = await self.run(
            "session schedule",
            self.cast.leader,
            group,
            start=start.strftime(LOCAL),
            duration=minutes,
            repeat="once",
            count=1,
        )
        assert "Planned 1 session" in planned, planned


async def set_up(cast: Cast, settings: Settings, shape: Shape) -> Plan:
    """Create the groups and plan their sessions through the bot's commands."""
    clock = ManualClock(SETUP_AT)
    bot = BalintBot(settings, clock=clock, guild_ready_timeout=0.05, dm_pacer=instant_pacer())
    with _scheduler_notes_muted():
        return await _set_up_with(cast, bot, clock, settings, shape)


async def _set_up_with(
    cast: Cast, bot: BalintBot, clock: ManualClock, settings: Settings, shape: Shape
) -> Plan:
    async with cast.double.run_client(bot):
        setup = _Setup(cast, bot, clock)
        for name in (*REMINDER_GROUPS, ROTA_GROUP, CASES_GROUP, REFLECTIONS_GROUP):
            await setup.group(name)
        await _plan_sessions(setup, shape)
        # The early reflection sessions end: their windows open (before the run).
        clock.set(RUN_STARTS - timedelta(minutes=30))
        await _settled(bot)
        return await read_plan(settings.database_path)


@contextlib.contextmanager
def _scheduler_notes_muted() -> Iterator[None]:
    """Moving the clock re-arms the scheduler after every planning command, and
    APScheduler notes each wake it folds into a running one (a WARNING): noise here.
    Its errors still show."""
    logger = logging.getLogger("apscheduler")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _plan_sessions(setup: _Setup, shape: Shape) -> None:
    step = timedelta(minutes=shape.minutes_apart)
    for name in REMINDER_GROUPS:
        # All three reminders 24 hours before, so that all of them fall due in the run.
        changed = await setup.run(
            "group settings", setup.cast.leader, name, presenter_reminder_hours=24
        )
        assert "24" in changed, changed
        for index in range(1, shape.reminder_sessions + 1):
            await setup.once(name, RUN_STARTS + timedelta(hours=24) + index * step)
    await setup.run(
        "session schedule",
        setup.cast.leader,
        ROTA_GROUP,
        start="2026-12-08 19:00",
        duration=90,
        repeat="weekly",
        count=8,
    )
    await setup.once(CASES_GROUP, datetime(2026, 12, 10, 19, 0, tzinfo=UTC))
    await setup.run(
        "group settings", setup.cast.leader, REFLECTIONS_GROUP, reflection_window_hours=336
    )
    for hour in range(1, EARLY_REFLECTION_SESSIONS + 1):
        await setup.once(REFLECTIONS_GROUP, SETUP_AT + timedelta(hours=hour), minutes=15)
    for index in range(1, shape.late_reflection_sessions + 1):
        ends = RUN_STARTS + index * step
        await setup.once(REFLECTIONS_GROUP, ends - timedelta(minutes=15), minutes=15)


async def _settled(bot: BalintBot) -> None:
    await asyncio.wait_for(bot.scheduler.wait_idle(), 10)
    await handlers_done()


async def read_plan(database_path: Path) -> Plan:
    with closing_reader(database_path) as db:
        groups = {row["name"]: row["id"] for row in db.execute("SELECT id, name FROM groups")}
        plan = Plan(groups)
        for name, group_id in groups.items():
            rows = db.execute(
                "SELECT id, starts_at, duration_min, presenter_id FROM sessions"
                " WHERE group_id = ? ORDER BY starts_at, id",
                (group_id,),
            ).fetchall()
            plan.sessions[name] = [
                PlannedSession(
                    row["id"],
                    group_id,
                    name,
                    from_unix(row["starts_at"]),
                    from_unix(row["starts_at"] + 60 * row["duration_min"]),
                    row["presenter_id"],
                )
                for row in rows
            ]
    return plan


class closing_reader:  # noqa: N801 - used like contextlib.closing
    """A read-only connection to the bot's database (it never checkpoints or writes, so
    it leaves the files exactly as a killed bot left them)."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=timeout
        )
        self.connection.row_factory = sqlite3.Row

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


T = TypeVar("T")


async def read_database(path: Path, read: Callable[[sqlite3.Connection], T]) -> T:
    """`read` on a connection of its own, on a worker thread, while the bot runs: a read
    that has to wait for the bot's writer (a checkpoint) must not stall the double,
    which answers the bot from this process's event loop."""

    def reading() -> T:
        with closing_reader(path) as db:
            return read(db)

    return await asyncio.to_thread(reading)
