"""/help and /about: what the bot does, and what state it is in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.app import BalintBot
from bot.groups.store import roster_standing
from cogs._common.audience import Audience, may_run
from cogs._common.messages import reply

INTRO = (
    "**Balint bot** helps Balint groups keep their rhythm: it plans the term's sessions in "
    "the group's time zone, keeps a fair case-presentation rota (with swaps and absences), "
    "and reminds people before each session, with buttons to say whether they can come."
)


def audience_of(command: app_commands.Command[Any, Any, Any] | app_commands.Group) -> Audience:
    value = command.extras.get("audience")
    if value is None and command.parent is not None:
        return audience_of(command.parent)
    return Audience(value or Audience.ANYONE)


def usable_in_dms(command: app_commands.Command[Any, Any, Any]) -> bool:
    """Whether the command (through its top-level group) may be used in a DM with the bot."""
    contexts = (command.root_parent or command).allowed_contexts
    return contexts is not None and contexts.dm_channel


def walk_leaf_commands(
    tree: app_commands.CommandTree[Any],
) -> list[app_commands.Command[Any, Any, Any]]:
    leaves: list[app_commands.Command[Any, Any, Any]] = []
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command):
            leaves.append(command)
    return sorted(leaves, key=lambda command: command.qualified_name)


def format_uptime(elapsed: timedelta) -> str:
    seconds = max(int(elapsed.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    parts = [f"{days} d"] if days else []
    parts.append(f"{hours} h {minutes} min")
    return " ".join(parts)


class Meta(commands.Cog):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot

    async def _standing(self, interaction: discord.Interaction[BalintBot]) -> tuple[bool, bool]:
        """(is a member of some group here, leads some group here) for the user."""
        return await roster_standing(self.bot.database, interaction.guild_id, interaction.user.id)

    @app_commands.command(
        name="help", description="What this bot does and the commands you can use"
    )
    @app_commands.allowed_contexts(guilds=True, dms=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def help_command(self, interaction: discord.Interaction[BalintBot]) -> None:
        is_member, is_leader = await self._standing(interaction)
        can_manage = interaction.guild is not None and interaction.permissions.manage_guild
        sections: dict[Audience, list[str]] = {}
        in_dm = interaction.guild is None
        for command in walk_leaf_commands(self.bot.tree):
            if in_dm and not usable_in_dms(command):
                continue
            audience = audience_of(command)
            if may_run(audience, is_member=is_member, is_leader=is_leader, can_manage=can_manage):
                line = f"`/{command.qualified_name}`: {command.description}"
                sections.setdefault(audience, []).append(line)
        headings = {
            Audience.ANYONE: "For everyone",
            Audience.MEMBER: "For group members",
            Audience.LEADER: "For leaders",
            Audience.MANAGE_SERVER: "For server managers",
        }
        parts = [INTRO]
        for audience in Audience:
            if sections.get(audience):
                parts.append(f"**{headings[audience]}**\n" + "\n".join(sections[audience]))
        if not is_member and not is_leader:
            parts.append("You are not in a group here yet: a group's leader can add you.")
        if in_dm:
            parts.append("Commands for a group's sessions and roster are used in its server.")
        await reply(interaction, *parts)

    @app_commands.command(
        name="about", description="Version, uptime and database schema of this bot"
    )
    @app_commands.allowed_contexts(guilds=True, dms=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def about(self, interaction: discord.Interaction[BalintBot]) -> None:
        schema = await self.bot.database.schema_version()
        uptime = format_uptime(self.bot.clock.now() - self.bot.started_at)
        text = (
            f"**Balint bot** {__version__}\n"
            f"Up for {uptime}\n"
            f"Database schema version {schema}\n"
            f"discord.py {discord.__version__}"
        )
        await reply(interaction, text)


async def setup(bot: BalintBot) -> None:
    await bot.add_cog(Meta(bot))
