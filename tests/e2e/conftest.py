"""End-to-end fixtures: the real BalintBot, unmodified discord.py, against the double.

A `Scene` is one Discord server ("Clinic") with a home channel and people in it; the bot
runs with a `ManualClock` and its own database file, and can be stopped and started
again on the same database (restarts, outages).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import HANDLER_TASK_NAMES, BalintBot
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from tests.double import Channel, DiscordDouble, Guild, Interaction, Message, User

# A Monday morning, well before the sessions the tests plan.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST_KEY = bytes(range(32))


@dataclass
class Scene:
    double: DiscordDouble
    clock: ManualClock
    settings: Settings
    guild: Guild
    home: Channel
    other_channel: Channel
    admin: User  # the server owner: Manage Server
    leader: User
    members: list[User]
    outsider: User
    robot: User
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    bot: BalintBot | None = None

    async def start(self, **options: Any) -> BalintBot:
        assert self.bot is None, "the bot is already running"
        bot = BalintBot(self.settings, clock=self.clock, guild_ready_timeout=0.05, **options)
        await self._stack.enter_async_context(self.double.run_client(bot))
        self.bot = bot
        return bot

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None

    async def restart(self, **options: Any) -> BalintBot:
        await self.stop()
        return await self.start(**options)

    @property
    def running(self) -> BalintBot:
        assert self.bot is not None, "the bot is not running"
        return self.bot

    async def slash(self, command: str, user: User, **values: Any) -> Interaction:
        """Run a slash command in the home channel (unless `channel=` says otherwise)."""
        channel = values.pop("in_channel", self.home)
        if "channel" in values:
            options = dict(values.pop("options", {}))
            options["channel"] = values.pop("channel")
            values["options"] = options
        return await self.double.slash(command, user, guild=self.guild, channel=channel, **values)

    async def settle(self) -> None:
        """Let scheduled work due at the clock's time finish."""
        await asyncio.wait_for(self.running.scheduler.wait_idle(), 5)

    async def create_group(
        self,
        name: str = "Tuesday group",
        *,
        timezone: str = "Europe/London",
        members: list[User] | None = None,
    ) -> int:
        """A group in the home channel, led by `leader`, with `members` (default: all four)
        on its roster, set up through the commands a server manager and a leader would run."""
        created = await self.slash(
            "group create",
            self.admin,
            name=name,
            channel=self.home,
            timezone=timezone,
            leader=self.leader,
        )
        assert "Created" in reply_text(created), reply_text(created)
        for member in self.members if members is None else members:
            await self.slash("group add", self.leader, member=member)
        group_id = await self.running.database.scalar(
            "SELECT id FROM groups WHERE guild_id = ? AND name = ?", (self.guild.id, name)
        )
        assert group_id is not None
        return int(group_id)

    def home_messages(self) -> list[Message]:
        return [m for m in self.double.messages(self.home) if not m.ephemeral]


async def handlers_done() -> None:
    """Wait (bounded) until the bot has finished every command, button and form handler.

    The bot tells people by DM inside those handlers after replying, so a test waits for
    them before asserting that something was, or was not, sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while busy := {
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name().startswith(HANDLER_TASK_NAMES)
    }:
        remaining = deadline - loop.time()
        assert remaining > 0, f"the bot is still handling {busy}"
        await asyncio.wait(busy, timeout=remaining)


def reply_text(interaction: Interaction) -> str:
    message = interaction.reply
    assert message is not None, "the bot did not reply"
    return message.content or ""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def double(clock: ManualClock) -> AsyncIterator[DiscordDouble]:
    # Discord's own "now" (scheduled events must start in the future) follows the test
    # clock, so the tests do not depend on the real date.
    async with DiscordDouble(now=clock.now) as double:
        yield double
        double.assert_no_errors()


@pytest.fixture
async def scene(double: DiscordDouble, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Scene]:
    guild = double.add_guild("Clinic")
    home = double.add_channel(guild, "balint-tuesday")
    other = double.add_channel(guild, "general")
    leader = double.add_user("dr-lead")
    members = [double.add_user(name) for name in ("alice", "bob", "carol", "dave")]
    outsider = double.add_user("olga")
    robot = double.add_user("some-bot", bot=True)
    for user in (leader, *members, outsider, robot):
        double.add_member(guild, user)
    admin = next(m.user for m in guild.members.values() if m.user.id == guild.owner_id)
    settings = Settings(
        token=double.token,
        database_path=tmp_path / "balint.db",
        encryption_key=TEST_KEY,
    )
    scene = Scene(
        double=double,
        clock=clock,
        settings=settings,
        guild=guild,
        home=home,
        other_channel=other,
        admin=admin,
        leader=leader,
        members=members,
        outsider=outsider,
        robot=robot,
    )
    await scene.start()
    try:
        yield scene
    finally:
        await scene.stop()
