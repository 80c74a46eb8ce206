"""/session: plan sessions in the group's time zone, list, cancel and move them."""

from __future__ import annotations

import io
import re
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.groups.rules import Group, MeetingFormat
from bot.groups.store import get_group
from bot.rota.service import slot_changes_in
from bot.sessions import service as session_service
from bot.sessions import store as session_store
from bot.sessions.recurrence import format_when
from cogs._common.access import require_leader, require_member
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_choices, session_choices
from cogs._common.events import cancel_event, mirror_sessions
from cogs._common.messages import NO_PINGS, minutes, plain, post, presenter_label, reply
from cogs._common.notify import best_effort, deliver, slots_changed_text, tell


def calendar_filename(group_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", group_name.casefold()).strip("-")[:40]
    return f"{slug or 'balint-group'}.ics"


@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
class SessionCommands(commands.GroupCog, group_name="session", group_description="Sessions"):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="schedule",
        description="Plan sessions in the group's time zone (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(
        start="Local date and time of the first session, e.g. 2026-12-01 19:00",
        duration="Length in whole minutes (15 to 480)",
        repeat="once, weekly, fortnightly or monthly",
        count="How many sessions (1 to 52)",
        group="Which group",
        meeting_format="Online or in person, for this series (default: the group's setting)",
    )
    @app_commands.rename(meeting_format="format")
    @app_commands.autocomplete(group=group_choices)
    async def schedule(
        self,
        interaction: discord.Interaction[BalintBot],
        start: str,
        duration: int,
        repeat: Literal["once", "weekly", "fortnightly", "monthly"],
        count: int,
        group: str | None = None,
        meeting_format: Literal["in person", "online"] | None = None,
    ) -> None:
        target = (await require_leader(interaction, group)).group
        planned = await session_service.plan_sessions(
            self.bot.database,
            target,
            start=start,
            duration=duration,
            repeat=repeat,
            count=count,
            actor_id=interaction.user.id,
            now=self.bot.clock.now(),
            meeting_format=None if meeting_format is None else MeetingFormat(meeting_format),
        )
        starts = planned.starts
        plural = "s" if count > 1 else ""
        lines = [f"- {format_when(when)}" for when in starts]
        how = f"{repeat}, `{target.timezone}`" + (f", {meeting_format}" if meeting_format else "")
        await reply(
            interaction,
            f"Planned {count} session{plural} of {duration} minutes for "
            f"**{plain(target.name)}** ({how}):",
            "\n".join(lines),
            "Presenters are assigned by the rota; see `/rota show`.",
            await slots_changed_text(self.bot, target, planned.notices),
        )
        await self._mirror(interaction, target)
        await deliver(self.bot, target, planned.notices, "new sessions were planned")

    @app_commands.command(
        name="list",
        description="Upcoming sessions with presenter and RSVPs",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def list_sessions(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        access = await require_member(interaction, group)
        target = access.group
        upcoming = await session_store.upcoming_sessions(
            self.bot.database, target.id, self.bot.clock.now(), limit=25
        )
        if not upcoming:
            await reply(interaction, f"No sessions are planned for **{plain(target.name)}**.")
            return
        counts = await session_store.rsvp_counts(self.bot.database, [s.id for s in upcoming])
        lines = []
        for session in upcoming:
            yes, no = counts[session.id]
            lines.append(
                f"- {format_when(session.starts_at)}, {minutes(session.duration)} min, "
                f"{presenter_label(target, session.presenter_id)}; "
                f"{yes} attending, {no} can't make it"
            )
        await reply(interaction, f"**{plain(target.name)}**: upcoming sessions", "\n".join(lines))

    @app_commands.command(
        name="cancel",
        description="Cancel one session (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(session="Which session", group="Which group")
    @app_commands.autocomplete(session=session_choices)
    @app_commands.autocomplete(group=group_choices)
    async def cancel(
        self, interaction: discord.Interaction[BalintBot], session: int, group: str | None = None
    ) -> None:
        target = (await require_leader(interaction, group)).group
        cancelled = await session_service.cancel_session(
            self.bot.database, target, session, interaction.user.id, self.bot.clock.now()
        )
        when = format_when(cancelled.session.starts_at)
        slots = await slots_changed_text(self.bot, target, cancelled.notices)
        await reply(interaction, f"Cancelled the session of {when}.", slots)
        notice = self._announce(target, f"The session of {when} is cancelled.")
        await best_effort("a cancellation notice", notice)
        await deliver(self.bot, target, cancelled.notices, "a session was cancelled")
        problem = await cancel_event(self.bot, target, cancelled.session)
        if problem:
            await reply(interaction, problem)

    @app_commands.command(
        name="move", description="Move one session (leaders)", extras={"audience": Audience.LEADER}
    )
    @app_commands.describe(
        session="Which session",
        start="New local date and time, e.g. 2026-12-08 19:00",
        group="Which group",
    )
    @app_commands.autocomplete(session=session_choices)
    @app_commands.autocomplete(group=group_choices)
    async def move(
        self,
        interaction: discord.Interaction[BalintBot],
        session: int,
        start: str,
        group: str | None = None,
    ) -> None:
        target = (await require_leader(interaction, group)).group
        moved = await session_service.move_session(
            self.bot.database, target, session, start, interaction.user.id, self.bot.clock.now()
        )
        old = moved.session
        span = f"from {format_when(old.starts_at)} to {format_when(moved.new_start)}"
        slots = await slots_changed_text(self.bot, target, moved.notices)
        await reply(interaction, f"Moved the session {span}.", slots)
        notice = self._announce(target, f"A session moved {span}.")
        await best_effort("a move notice", notice)
        await self._mirror(interaction, target)
        changed = slot_changes_in(moved.notices, target.id)
        if old.presenter_id is not None and old.presenter_id not in changed:
            told = tell(
                self.bot,
                target,
                old.presenter_id,
                f"The session of **{plain(target.name)}** where you present moved {span}.",
            )
            await best_effort("a move notice to the presenter", told)
        await deliver(self.bot, target, moved.notices, "a session moved")

    @app_commands.command(
        name="calendar",
        description="The group's sessions as a calendar file (.ics)",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def calendar(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = (await require_member(interaction, group)).group
        sessions = await session_store.all_sessions(self.bot.database, target.id)
        if not sessions:
            await reply(interaction, f"No sessions are planned for **{plain(target.name)}**.")
            return
        # imported here, not at start: icalendar is a tenth of the bot's start-up
        from bot.sessions.calendar import session_calendar

        data = session_calendar(target.name, target.timezone, sessions, now=self.bot.clock.now())
        await reply(
            interaction,
            f"The sessions of **{plain(target.name)}** ({len(sessions)}), in `{target.timezone}`. "
            "Open the file to add them to your calendar; cancelled sessions are marked so.",
            file=discord.File(io.BytesIO(data), filename=calendar_filename(target.name)),
        )

    async def _mirror(self, interaction: discord.Interaction[BalintBot], group: Group) -> None:
        """Mirror the sessions as server Events when the group asked for it; a problem goes
        privately to the leader (the planning itself stands)."""
        problem = await mirror_sessions(self.bot, group)
        if problem:
            await reply(interaction, problem)

    async def _announce(self, group: Group, text: str) -> None:
        """A notice in the home channel (no pings: it is for whoever reads the channel)."""
        fresh = await get_group(self.bot.database, group.id)
        if fresh is None:
            return
        channel = self.bot.get_partial_messageable(fresh.channel_id, guild_id=fresh.guild_id)
        await post(channel, f"**{plain(fresh.name)}**: {text}", allowed_mentions=NO_PINGS)


async def setup(bot: BalintBot) -> None:
    await bot.add_cog(SessionCommands(bot))
