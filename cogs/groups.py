"""/group: create groups, keep their rosters and settings, show, audit and delete them."""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.attendance.store import group_meeting_format
from bot.groups import audit
from bot.groups import service as group_service
from bot.groups.rules import (
    MAX_GROUP_NAME,
    RECOMMENDED_MAX_MEMBERS,
    Group,
    MeetingFormat,
    PresenterMode,
    Role,
)
from bot.groups.store import get_group, guilds_with_data, roster
from bot.kernel import zones
from bot.kernel.clock import to_unix
from bot.kernel.errors import Refusal
from bot.sessions.recurrence import discord_timestamp, format_when, parse_local_date
from bot.sessions.store import upcoming_sessions
from cogs._common.access import require_leader, require_member, resolve_group
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_choices, timezone_choices
from cogs._common.events import forget_events, mirror_sessions
from cogs._common.messages import answer_error, plain, reply
from cogs._common.notify import deliver, slots_changed_text

log = logging.getLogger(__name__)

MAX_OFFSET_HOURS = 14 * 24


def member_or_refusal(user: discord.User | discord.Member) -> discord.Member:
    if user.bot:
        raise Refusal("Bots cannot be members of a Balint group.")
    if not isinstance(user, discord.Member):
        raise Refusal(f"{user.mention} is not a member of this server.")
    return user


def describe_offset(minutes: int | None) -> str:
    return "off" if minutes is None else f"{minutes // 60} h before"


def describe_group(group: Group, meeting_format: MeetingFormat) -> list[str]:
    mode = (
        "assigned (the presenter is expected to bring a case)"
        if group.presenter_mode is PresenterMode.ASSIGNED
        else "on-deck (anyone may volunteer; the on-deck member is the fallback)"
    )
    leaders_channel = f"<#{group.leaders_channel_id}>" if group.leaders_channel_id else "none"
    term = format_when(group.term_start) if group.term_start else "not set"
    return [
        f"Home channel: <#{group.channel_id}>",
        f"Time zone: `{group.timezone}`",
        f"Presenter mode: {mode}",
        f"Reminders: channel {describe_offset(group.remind_channel_min)}, presenter "
        f"{describe_offset(group.remind_presenter_min)}, leaders "
        f"{describe_offset(group.remind_leaders_min)}",
        f"Reflections: released from {group.reflection_threshold} reflections, window "
        f"{group.reflection_window_h} h, released to {group.reflection_release}",
        f"Case notes kept {group.case_retention_h} h after the session",
        f"Leaders' channel: {leaders_channel}",
        f"Sessions shown in the server's Events: {'yes' if group.mirror_events else 'no'}",
        f"Term started: {term}",
        f"Meets: {meeting_format} (a series can differ: `/session schedule format`)",
    ]


def describe_audit(entry: audit.AuditEntry) -> str:
    when = discord_timestamp(entry.at, "f")
    who = f"<@{entry.actor_id}>" if entry.actor_id else "a former member"  # see /mydata delete
    return f"- {when} {who} {entry.action}: {plain(entry.detail)}"


class ConfirmDelete(discord.ui.View):
    """The confirmation step of /group delete: only the person who asked can press."""

    def __init__(self, bot: BalintBot, group: Group, requester_id: int) -> None:
        super().__init__(timeout=120)
        self.bot, self.group, self.requester_id = bot, group, requester_id

    async def on_error(
        self,
        interaction: discord.Interaction[Any],
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        await answer_error(interaction, error, "the delete confirmation")

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.requester_id:
            await reply(interaction, "Only the person who asked can confirm this.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Delete the group and all its data", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[BalintBot], button: discord.ui.Button[ConfirmDelete]
    ) -> None:
        self.stop()
        group = await get_group(self.bot.database, self.group.id)
        if group is None:
            await interaction.response.edit_message(
                content="That group is already gone.", view=None
            )
            return
        # Cancelling the server Events takes a few requests: acknowledge within 3 s.
        await interaction.response.defer()
        # Stop mirroring first, so a mirror run waiting its turn adds nothing back.
        await group_service.stop_showing_events(self.bot.database, group.id)
        # Always: events left over from an earlier failed cancellation are on record too.
        problem = await forget_events(self.bot, group)
        await group_service.delete_group(
            self.bot.database, group, interaction.user.id, self.bot.clock.now()
        )
        await interaction.edit_original_response(
            content=f"Deleted **{plain(group.name)}** and all its data.", view=None
        )
        if problem:
            await reply(interaction, problem)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[BalintBot], button: discord.ui.Button[ConfirmDelete]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


@app_commands.guild_only()
class GroupCommands(commands.GroupCog, group_name="group", group_description="Balint groups"):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot
        super().__init__()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot left the server or was removed: that server's data is deleted."""
        await self._forget_server(guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Servers that removed the bot while it was offline: their data is deleted too.
        (READY lists every server the bot is in, unavailable ones included.)"""
        present = {guild.id for guild in self.bot.guilds}
        for guild_id in await guilds_with_data(self.bot.database) - present:
            await self._forget_server(guild_id)

    async def _format_of(self, group: Group) -> MeetingFormat:
        return await group_meeting_format(self.bot.database, group.id)

    async def _forget_server(self, guild_id: int) -> None:
        removed = await group_service.forget_server(self.bot.database, guild_id)
        log.info(
            "not in server %s any more: deleted %d group(s) and its data",
            guild_id,
            removed,
            extra={"guild_id": guild_id},
        )

    @app_commands.command(
        name="create",
        description="Create a Balint group (Manage Server)",
        extras={"audience": Audience.MANAGE_SERVER},
    )
    @app_commands.describe(
        name="The group's name, unique in this server",
        channel="Its home channel: reminders and announcements go there",
        timezone="Where the group meets, e.g. Europe/London",
        leader="Its first leader (default: you)",
    )
    @app_commands.autocomplete(timezone=timezone_choices)
    @app_commands.rename(timezone="timezone")
    async def create(
        self,
        interaction: discord.Interaction[BalintBot],
        name: app_commands.Range[str, 1, MAX_GROUP_NAME],
        channel: discord.TextChannel,
        timezone: str,
        # Member | User, not Member: a user outside the server then reaches
        # member_or_refusal and gets its clear refusal instead of "Failed to convert".
        leader: discord.Member | discord.User | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if not interaction.permissions.manage_guild:
            raise Refusal("Creating a group needs the Manage Server permission.")
        first_leader = member_or_refusal(leader or interaction.user)
        created = await group_service.create_group(
            self.bot.database,
            guild_id=interaction.guild_id,
            name=name,
            channel_id=channel.id,
            timezone=timezone,
            leader_id=first_leader.id,
            actor_id=interaction.user.id,
            now=self.bot.clock.now(),
        )
        await reply(
            interaction,
            f"Created **{plain(created.name)}**: home channel {channel.mention}, time zone "
            f"`{created.timezone}`, leader {first_leader.mention}.\n"
            "Next: add members with `/group add`, then plan sessions with `/session schedule`.",
            ephemeral=False,
        )

    @app_commands.command(
        name="add",
        description="Add someone to a group, or change their role (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(
        member="Who to add", role="member (default), co-leader or leader", group="Which group"
    )
    @app_commands.autocomplete(group=group_choices)
    async def add(
        self,
        interaction: discord.Interaction[BalintBot],
        member: discord.Member | discord.User,
        role: Literal["member", "co-leader", "leader"] = "member",
        group: str | None = None,
    ) -> None:
        access = await require_leader(interaction, group)
        target = member_or_refusal(member)
        change = await group_service.put_on_roster(
            self.bot.database,
            access.group,
            target.id,
            Role(role),
            interaction.user.id,
            self.bot.clock.now(),
        )
        name = plain(access.group.name)
        text = (
            f"Added {target.mention} to **{name}** as {change.role}."
            if change.previous is None
            else f"{target.mention} is now a {change.role} of **{name}** (was {change.previous})."
        )
        if change.size > RECOMMENDED_MAX_MEMBERS:
            text += (
                f"\nNote: the group now has {change.size} people; Balint groups work best "
                f"with 6 to {RECOMMENDED_MAX_MEMBERS}."
            )
        slots = await slots_changed_text(self.bot, access.group, change.notices)
        await reply(interaction, text, slots)
        await deliver(self.bot, access.group, change.notices, "the group's roster changed")

    @app_commands.command(
        name="remove",
        description="Remove someone from a group (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(member="Who to remove", group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def remove(
        self,
        interaction: discord.Interaction[BalintBot],
        member: discord.User,
        group: str | None = None,
    ) -> None:
        access = await require_leader(interaction, group)
        change = await group_service.remove_from_roster(
            self.bot.database, access.group, member.id, interaction.user.id, self.bot.clock.now()
        )
        slots = await slots_changed_text(self.bot, access.group, change.notices)
        await reply(
            interaction, f"Removed {member.mention} from **{plain(access.group.name)}**.", slots
        )
        await deliver(self.bot, access.group, change.notices, "a member left the group")

    @app_commands.command(
        name="show",
        description="A group's roster, settings and next session",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def show(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        access = await require_member(interaction, group)
        target = access.group
        entries = await roster(self.bot.database, target.id)
        order = {Role.LEADER: 0, Role.CO_LEADER: 1, Role.MEMBER: 2}
        people = [
            f"- <@{e.user_id}> ({e.role})"
            for e in sorted(entries, key=lambda e: (order[e.role], e.user_id))
        ]
        upcoming = await upcoming_sessions(
            self.bot.database, target.id, self.bot.clock.now(), limit=1
        )
        next_line = (
            f"Next session: {format_when(upcoming[0].starts_at)}"
            if upcoming
            else "No session planned yet."
        )
        sections = [
            f"**{plain(target.name)}**: {len(entries)} people",
            "\n".join(people),
            "\n".join(describe_group(target, await self._format_of(target))),
            next_line,
        ]
        await reply(interaction, *sections)

    @app_commands.command(
        name="settings",
        description="See or change a group's settings (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(
        group="Which group",
        presenter_mode="assigned: the presenter brings a case; on-deck: anyone may volunteer",
        channel_reminder_hours="Hours before a session to remind the home channel (0 = off)",
        presenter_reminder_hours="Hours before to remind the presenter by DM (0 = off)",
        leaders_reminder_hours="Hours before to tell leaders if no case came in (0 = off)",
        reflection_threshold="Fewest reflections to release them (at least 3)",
        reflection_window_hours="How long the reflection window stays open",
        reflection_release="Where released reflections go",
        case_retention_hours="Keep case notes this long after the session (0 to 168)",
        leaders_channel="A private channel for leaders' notices when a leader's DMs are closed",
        term_start="First day of the current term, YYYY-MM-DD (the rota counts from it)",
        scheduled_events="Also show each session in the server's Events (needs Manage Events)",
        meeting_format="Whether the group meets online or in person (for the leaders' log)",
    )
    @app_commands.autocomplete(group=group_choices)
    async def settings(
        self,
        interaction: discord.Interaction[BalintBot],
        group: str | None = None,
        presenter_mode: Literal["assigned", "on-deck"] | None = None,
        channel_reminder_hours: app_commands.Range[int, 0, MAX_OFFSET_HOURS] | None = None,
        presenter_reminder_hours: app_commands.Range[int, 0, MAX_OFFSET_HOURS] | None = None,
        leaders_reminder_hours: app_commands.Range[int, 0, MAX_OFFSET_HOURS] | None = None,
        reflection_threshold: app_commands.Range[int, 3, 12] | None = None,
        reflection_window_hours: app_commands.Range[int, 1, 336] | None = None,
        reflection_release: Literal["leaders", "channel"] | None = None,
        case_retention_hours: app_commands.Range[int, 0, 168] | None = None,
        leaders_channel: discord.TextChannel | None = None,
        term_start: str | None = None,
        scheduled_events: bool | None = None,
        meeting_format: Literal["in person", "online"] | None = None,
    ) -> None:
        access = await require_leader(interaction, group)
        changes: dict[str, object] = {}
        if presenter_mode is not None:
            changes["presenter_mode"] = presenter_mode
        for column, hours in (
            ("remind_channel_min", channel_reminder_hours),
            ("remind_presenter_min", presenter_reminder_hours),
            ("remind_leaders_min", leaders_reminder_hours),
        ):
            if hours is not None:
                changes[column] = None if hours == 0 else hours * 60
        for column, value in (
            ("reflection_threshold", reflection_threshold),
            ("reflection_window_h", reflection_window_hours),
            ("reflection_release", reflection_release),
            ("case_retention_h", case_retention_hours),
            ("meeting_format", meeting_format),
        ):
            if value is not None:
                changes[column] = value
        if leaders_channel is not None:
            changes["leaders_channel_id"] = leaders_channel.id
        if scheduled_events is not None:
            changes["mirror_events"] = int(scheduled_events)
        if term_start is not None:
            first_day = parse_local_date(
                term_start, zones.zone(access.group.timezone), "`term_start`"
            )
            changes["term_start"] = to_unix(first_day)
        if not changes:
            await reply(
                interaction,
                f"**{plain(access.group.name)}** settings:\n"
                + "\n".join(describe_group(access.group, await self._format_of(access.group))),
            )
            return
        outcome = await group_service.change_settings(
            self.bot.database, access.group, changes, interaction.user.id, self.bot.clock.now()
        )
        updated = outcome.group
        await reply(
            interaction,
            f"Updated **{plain(updated.name)}**:\n"
            + "\n".join(describe_group(updated, await self._format_of(updated))),
        )
        if scheduled_events is not None:
            # On: show every upcoming session as an Event; off: cancel the ones shown.
            sync = mirror_sessions if scheduled_events else forget_events
            problem = await sync(self.bot, updated)
            if problem:
                await reply(interaction, problem)
        await deliver(self.bot, updated, outcome.notices, "the term start changed")

    @app_commands.command(
        name="delete",
        description="Delete a group and all its data (Manage Server)",
        extras={"audience": Audience.MANAGE_SERVER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def delete(self, interaction: discord.Interaction[BalintBot], group: str) -> None:
        if not interaction.permissions.manage_guild:
            raise Refusal("Deleting a group needs the Manage Server permission.")
        target = await resolve_group(interaction, group)
        await reply(
            interaction,
            f"Delete **{plain(target.name)}**, its roster, sessions, rota and all its data? "
            "This cannot be undone.",
            view=ConfirmDelete(self.bot, target, interaction.user.id),
        )

    @app_commands.command(
        name="audit",
        description="Recent configuration changes in a group (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def audit_log(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        access = await require_leader(interaction, group)
        entries = await audit.recent(self.bot.database, access.group.id)
        lines = [describe_audit(e) for e in entries] or ["No changes recorded yet."]
        sections = [f"**{plain(access.group.name)}**: recent changes", "\n".join(lines)]
        if access.is_manager:
            # Deleted groups have no group left to ask about: their entries are shown
            # to those who may create and delete groups.
            server = await audit.server_wide(self.bot.database, access.group.guild_id)
            if server:
                sections += ["Server-wide changes:", "\n".join(map(describe_audit, server))]
        await reply(interaction, *sections)


async def setup(bot: BalintBot) -> None:
    await bot.add_cog(GroupCommands(bot))
