"""Autocomplete for the `group`, `session` and `timezone` options. Every choice is named
by `choice_name`, which keeps names within Discord's 100 characters (Discord refuses the
whole answer, and the user sees no choices at all, if one name is longer)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.groups.rules import Group
from bot.groups.store import groups_in_guild, groups_of_user
from bot.kernel import zones
from bot.kernel.errors import Refusal, shorten
from bot.rota.store import my_next_slots
from bot.sessions.recurrence import format_local_start, suggest_zones
from bot.sessions.store import upcoming_sessions
from cogs._common.access import access_to, resolve_group

if TYPE_CHECKING:
    from bot.app import BalintBot

MAX_CHOICES = 25  # Discord's limit
CHOICE_NAME_LIMIT = 100  # also Discord's


def choice_name(before: str, cut: str, after: str = "") -> str:
    """A choice's name: `before` + `cut` + `after`, at most 100 characters. Only `cut`
    (the part that may lose its end: a server's name, a group's beside its date) is
    shortened, an ellipsis marking it, so what tells the choices apart stays whole.
    Should `before` and `after` alone leave no room, the whole name is shortened."""
    room = CHOICE_NAME_LIMIT - len(before) - len(after)
    if room < 1:
        return shorten(before + cut + after, CHOICE_NAME_LIMIT)
    return before + shorten(cut, room) + after


async def group_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[str]]:
    """The user's groups (every group of the server for someone with Manage Server)."""
    database = interaction.client.database
    if interaction.guild_id is not None and interaction.permissions.manage_guild:
        groups = await groups_in_guild(database, interaction.guild_id)
    else:
        groups = await groups_of_user(database, interaction.guild_id, interaction.user.id)
    wanted = current.casefold().strip()
    return [
        app_commands.Choice(name=group_label(interaction, group), value=str(group.id))
        for group in groups
        if wanted in group.name.casefold()
    ][:MAX_CHOICES]


def group_label(interaction: discord.Interaction[BalintBot], group: Group) -> str:
    """A group's name; in a DM, with its server's, since groups of several servers can
    be offered there and two may share a name."""
    in_dm = interaction.guild_id is None
    server = interaction.client.get_guild(group.guild_id) if in_dm else None
    if server is None:
        return choice_name("", group.name)
    return choice_name(f"{group.name} (", server.name, ")")


async def group_being_chosen_for(interaction: discord.Interaction[BalintBot]) -> Group | None:
    """The group a command's other options are about while the user types (its `group`
    option if filled in, else as `resolve_group` finds it); None when that is unclear."""
    try:
        return await resolve_group(interaction, getattr(interaction.namespace, "group", None))
    except Refusal:
        return None


def session_choice_list(
    group: Group, sessions: Iterable[tuple[int, datetime, str]], current: str
) -> list[app_commands.Choice[int]]:
    """Sessions (id, start, a note after the zone) as choices labelled with their local
    date and time in the group's zone, those matching what the user typed, at most 25."""
    zone = zones.zone(group.timezone)
    choices = []
    for session_id, starts_at, note in sessions:
        label = choice_name(f"{format_local_start(starts_at, zone)} (", group.timezone, f"){note}")
        if current.strip() in label:
            choices.append(app_commands.Choice(name=label, value=session_id))
    return choices[:MAX_CHOICES]


async def session_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[int]]:
    """Upcoming sessions of the group the command is about, as local date and time."""
    group = await group_being_chosen_for(interaction)
    if group is None or not (await access_to(interaction, group)).can_read:
        return []
    now = interaction.client.clock.now()
    upcoming = await upcoming_sessions(interaction.client.database, group.id, now)
    return session_choice_list(group, ((s.id, s.starts_at, "") for s in upcoming), current)


async def my_slot_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[int]]:
    """The user's own upcoming presenting slots in all their groups (of this server, or
    of every server in a DM), labelled with the group, since the command has no `group`
    option to narrow it down."""
    slots = await my_next_slots(
        interaction.client.database,
        interaction.user.id,
        interaction.client.clock.now(),
        interaction.guild_id,
    )
    wanted = current.casefold().strip()
    choices = []
    for slot in slots:
        when = format_local_start(slot.starts_at, zones.zone(slot.timezone))
        # a long group name is shortened rather than the date: the date is the choice
        label = choice_name("", slot.group_name, f" — {when} ({slot.timezone})")
        if wanted in label.casefold():
            choices.append(app_commands.Choice(name=label, value=slot.session_id))
    return choices[:MAX_CHOICES]


async def timezone_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=choice_name("", name), value=name)
        for name in suggest_zones(current)
    ]
