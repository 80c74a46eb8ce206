"""Sharding: the bot runs as an AutoShardedBot, with Discord's recommended shard count
unless SHARD_COUNT says otherwise; every server is served by its own shard, DMs by shard 0,
and reminders, commands, buttons and DMs work whichever shard a server is on."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import BalintBot
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from tests.double import Channel, DiscordDouble, Guild, Interaction, User
from tests.double.gateway import shard_of
from tests.e2e.conftest import START, TEST_KEY, handlers_done, instant_pacer, reply_text

SESSION_START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
CHANNEL_DUE = SESSION_START - timedelta(hours=24)


class QuickIdentifyBot(BalintBot):
    """discord.py waits 5 s (real time) between two shards' IDENTIFYs, as Discord asks of a
    bot whose ``max_concurrency`` is 1; the double does not rate-limit IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def assert_each_shard_got_only_its_own(
    double: DiscordDouble, shards: int, *, dm_interaction: int | None = None
) -> None:
    """What the double sent each shard: a guild's events on its shard alone, DMs on 0."""
    for session in double.gateway.sessions:
        shard_id = session.shard[0]
        sent = [frame for frame in session.log if frame.get("t")]
        guild_events = [f for f in sent if f["t"].startswith("GUILD_") or "guild_id" in f["d"]]
        assert guild_events, f"shard {shard_id} was sent no server at all"
        for frame in guild_events:
            guild_id = int(frame["d"].get("guild_id") or frame["d"]["id"])
            assert shard_of(guild_id, shards) == shard_id, (shard_id, frame["t"])
        dms = [
            f
            for f in sent
            if f["t"] == "INTERACTION_CREATE" and int(f["d"]["id"]) == dm_interaction
        ]
        assert len(dms) == (1 if shard_id == 0 and dm_interaction is not None else 0)


def servers_on_every_shard(double: DiscordDouble, shards: int) -> list[Guild]:
    """Add servers until each shard has one (ids carry the time, so wait a millisecond)."""
    guilds: list[Guild] = []
    while {shard_of(g.id, shards) for g in guilds} != set(range(shards)):
        guilds.append(double.add_guild(f"Clinic {len(guilds) + 1}"))
        time.sleep(0.002)
    return guilds


@dataclasses.dataclass
class Server:
    guild: Guild
    home: Channel
    leader: User
    members: list[User]


def people_in(double: DiscordDouble, guild: Guild, index: int) -> Server:
    home = double.add_channel(guild, "balint")
    leader = double.add_user(f"lead-{index}")
    members = [double.add_user(f"member-{index}-{n}") for n in range(3)]
    for user in (leader, *members):
        double.add_member(guild, user)
    return Server(guild, home, leader, members)


async def slash(
    double: DiscordDouble, server: Server, command: str, user: User, **options: Any
) -> Interaction:
    return await double.slash(
        command, user, guild=server.guild, channel=server.home, options=options
    )


async def plan_group(double: DiscordDouble, server: Server) -> None:
    owner = server.guild.members[server.guild.owner_id].user
    created = await slash(
        double,
        server,
        "group create",
        owner,
        name="Tuesday group",
        channel=server.home,
        timezone="Europe/London",
        leader=server.leader,
    )
    assert "Created" in reply_text(created), reply_text(created)
    for member in server.members:
        await slash(double, server, "group add", server.leader, member=member)
    planned = await slash(
        double,
        server,
        "session schedule",
        server.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="once",
        count=1,
    )
    assert "planned" in reply_text(planned).lower(), reply_text(planned)


def settings_for(double: DiscordDouble, tmp_path: Path, shard_count: int | None) -> Settings:
    return Settings(
        token=double.token,
        database_path=tmp_path / "balint.db",
        encryption_key=TEST_KEY,
        shard_count=shard_count,
    )


async def test_recommended_shards_each_serve_their_servers(
    double: DiscordDouble, clock: ManualClock, tmp_path: Path
) -> None:
    double.gateway.recommended_shards = 2
    servers = [people_in(double, g, i) for i, g in enumerate(servers_on_every_shard(double, 2))]
    bot = QuickIdentifyBot(
        settings_for(double, tmp_path, None),
        clock=clock,
        dm_pacer=instant_pacer(),
        guild_ready_timeout=0.05,
    )
    async with double.run_client(bot):
        identified = sorted(tuple(s.shard) for s in double.gateway.sessions)
        assert identified == [(0, 2), (1, 2)]
        assert bot.shard_count == 2
        for server in servers:
            guild = bot.get_guild(server.guild.id)
            assert guild is not None
            assert guild.shard_id == shard_of(server.guild.id, 2)
            await plan_group(double, server)

        # A reminder in every server, whichever shard it is on.
        clock.set(CHANNEL_DUE)
        await bot.scheduler.wait_idle()
        for server in servers:
            [reminder] = [
                m
                for m in double.messages(server.home)
                if any(c.startswith("rsvp:") for c in m.custom_ids())
            ]
            yes = reminder.custom_ids()[0]
            pressed = await double.click(reminder, yes, server.members[0])
            assert (await pressed.wait_response()).type in (4, 7)

        # A DM reaches the bot through shard 0.
        dm = await double.slash("about", servers[-1].members[1])
        assert reply_text(dm)
        await handlers_done()
        assert_each_shard_got_only_its_own(double, 2, dm_interaction=dm.id)
        answers = await bot.database.scalar("SELECT COUNT(*) FROM rsvps")
        assert answers == len(servers)


async def test_shard_count_from_configuration_wins(
    double: DiscordDouble, clock: ManualClock, tmp_path: Path
) -> None:
    double.gateway.recommended_shards = 1
    guilds = servers_on_every_shard(double, 3)
    bot = QuickIdentifyBot(
        settings_for(double, tmp_path, 3), clock=ManualClock(START), guild_ready_timeout=0.05
    )
    async with double.run_client(bot):
        assert sorted(tuple(s.shard) for s in double.gateway.sessions) == [(0, 3), (1, 3), (2, 3)]
        assert {g.id for g in bot.guilds} == {g.id for g in guilds}
        server = people_in(double, guilds[-1], 0)
        shown = await slash(double, server, "about", server.members[0])
        assert reply_text(shown)
        assert_each_shard_got_only_its_own(double, 3)
