"""/session: plan sessions in the group's time zone, list, cancel and move them."""

from __future__ import annotations

import io
import re
from typing import Literal
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.groups import audit
from bot.groups.store import Group, get_group
from bot.kernel.errors import Refusal
from bot.reminders import store as reminder_store
from bot.reminders.jobs import drop_reminders, retire_reminder_messages, write_reminders
from bot.rota.service import regenerate_rota
from bot.sessions import store as session_store
from bot.sessions.calendar import session_calendar
from bot.sessions.recurrence import (
    MAX_COUNT,
    MIN_COUNT,
    Repeat,
    SchedulingError,
    ensure_start_in_future,
    format_when,
    parse_local_start,
    plan_series,
    validate_duration,
)
from cogs._common.access import require_leader, require_member, session_of_group
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_choices, session_choices
from cogs._common.events import cancel_event, mirror_sessions
from cogs._common.messages import NO_PINGS, minutes, plain, presenter_label, reply
from cogs._common.notify import best_effort, tell, tell_slot_changes


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
    )
    @app_commands.autocomplete(group=group_choices)
    async def schedule(
        self,
        interaction: discord.Interaction[BalintBot],
        start: str,
        duration: int,
        repeat: Literal["once", "weekly", "fortnightly", "monthly"],
        count: int,
        group: str | None = None,
    ) -> None:
        access = await require_leader(interaction, group)
        target = access.group
        zone = ZoneInfo(target.timezone)
        now = self.bot.clock.now()
        if not MIN_COUNT <= count <= MAX_COUNT:
            raise Refusal(f"`count` must be from {MIN_COUNT} to {MAX_COUNT}, not {count}.")
        try:
            length = validate_duration(duration)
            first = parse_local_start(start, zone)
            ensure_start_in_future(first, now)
            starts = plan_series(first, zone, Repeat(repeat), count)
        except SchedulingError as error:
            raise Refusal(str(error)) from None
        async with self.bot.database.transaction() as connection:
            await session_store.add_sessions(connection, target.id, starts, length, now)
            await audit.record_change(
                connection,
                target,
                interaction.user.id,
                "session schedule",
                f"{count} x {repeat} from {start} ({target.timezone}), {duration} min",
                now,
            )
            await write_reminders(connection, self.bot.database, target, now)
        self.bot.scheduler.rearm()
        # Everything the reply describes is stored before replying; telling people by DM
        # (slow, paced) comes after.
        changes = await regenerate_rota(self.bot.database, target, now)
        plural = "s" if count > 1 else ""
        lines = [f"- {format_when(when)}" for when in starts]
        await reply(
            interaction,
            f"Planned {count} session{plural} of {duration} minutes for "
            f"**{plain(target.name)}** ({repeat}, `{target.timezone}`):",
            "\n".join(lines),
            "Presenters are assigned by the rota; see `/rota show`.",
        )
        await self._mirror(interaction, target)
        await tell_slot_changes(self.bot, target, changes, "new sessions were planned")

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
        access = await require_leader(interaction, group)
        target = access.group
        planned = await session_of_group(self.bot, session, target)
        now = self.bot.clock.now()
        async with self.bot.database.transaction() as connection:
            await session_store.cancel_session(connection, planned.id)
            await audit.record_change(
                connection,
                target,
                interaction.user.id,
                "session cancel",
                f"session {planned.id} at {planned.starts_at.isoformat()}",
                now,
            )
            await drop_reminders(connection, target.id, planned.id)
            posted = await reminder_store.take_reminder_messages(
                connection, self.bot.database, planned.id
            )
        self.bot.scheduler.rearm()
        lost = {planned.id: planned.presenter_id} if planned.presenter_id else {}
        changes = await regenerate_rota(self.bot.database, target, now, extra_old=lost)
        when = format_when(planned.starts_at)
        await reply(interaction, f"Cancelled the session of {when}.")
        notice = self._announce(target, f"The session of {when} is cancelled.")
        await best_effort("a cancellation notice", notice)
        retired = retire_reminder_messages(
            self.bot, posted, f"**{plain(target.name)}**: the session of {when} was cancelled."
        )
        await best_effort("retiring reminders", retired)
        problem = await cancel_event(self.bot, target, planned)
        if problem:
            await interaction.followup.send(problem, ephemeral=True)
        await tell_slot_changes(self.bot, target, changes, "a session was cancelled")

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
        access = await require_leader(interaction, group)
        target = access.group
        planned = await session_of_group(self.bot, session, target)
        now = self.bot.clock.now()
        try:
            new_start = parse_local_start(start, ZoneInfo(target.timezone))
            ensure_start_in_future(new_start, now)
        except SchedulingError as error:
            raise Refusal(str(error)) from None
        async with self.bot.database.transaction() as connection:
            await session_store.move_session(connection, planned.id, new_start)
            await audit.record_change(
                connection,
                target,
                interaction.user.id,
                "session move",
                f"session {planned.id} to {new_start.isoformat()}",
                now,
            )
            # The reminders posted for the old time are retired below; the new time's
            # replace the pending ones (sent at once if already due).
            posted = await reminder_store.take_reminder_messages(
                connection, self.bot.database, planned.id
            )
            await write_reminders(connection, self.bot.database, target, now)
        self.bot.scheduler.rearm()
        changes = await regenerate_rota(self.bot.database, target, now)
        moved = f"from {format_when(planned.starts_at)} to {format_when(new_start)}"
        await reply(interaction, f"Moved the session {moved}.")
        notice = self._announce(target, f"A session moved {moved}.")
        await best_effort("a move notice", notice)
        retired = retire_reminder_messages(
            self.bot,
            posted,
            f"**{plain(target.name)}**: this session moved {moved}. A new reminder will ask again.",
        )
        await best_effort("retiring reminders", retired)
        await self._mirror(interaction, target)
        if planned.presenter_id is not None and planned.presenter_id not in changes:
            told = tell(
                self.bot,
                target,
                planned.presenter_id,
                f"The session of **{plain(target.name)}** where you present moved {moved}.",
            )
            await best_effort("a move notice to the presenter", told)
        await tell_slot_changes(self.bot, target, changes, "a session moved")

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
        data = session_calendar(target.name, target.timezone, sessions, now=self.bot.clock.now())
        await interaction.response.send_message(
            f"The sessions of **{plain(target.name)}** ({len(sessions)}), in `{target.timezone}`. "
            "Open the file to add them to your calendar; cancelled sessions are marked so.",
            file=discord.File(io.BytesIO(data), filename=calendar_filename(target.name)),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def _mirror(self, interaction: discord.Interaction[BalintBot], group: Group) -> None:
        """Mirror the sessions as server Events when the group asked for it; a problem goes
        privately to the leader (the planning itself stands)."""
        problem = await mirror_sessions(self.bot, group)
        if problem:
            await interaction.followup.send(problem, ephemeral=True)

    async def _announce(self, group: Group, text: str) -> None:
        """A notice in the home channel (no pings: it is for whoever reads the channel)."""
        fresh = await get_group(self.bot.database, group.id)
        if fresh is None:
            return
        channel = self.bot.get_partial_messageable(fresh.channel_id, guild_id=fresh.guild_id)
        await channel.send(f"**{plain(fresh.name)}**: {text}", allowed_mentions=NO_PINGS)


async def setup(bot: BalintBot) -> None:
    await bot.add_cog(SessionCommands(bot))
