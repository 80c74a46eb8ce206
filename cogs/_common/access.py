"""Which group a command is about, and what the user may do there.

Group resolution (PRODUCT.md, "Groups"): the `group` option if given; else the group whose
home channel is the current channel; else the user's only group; else ask which.
Permissions: a group's leaders and co-leaders (from its roster) lead it; anyone with
Manage Server has leader powers over every group of that server; roster members read and
act on their own slots; everyone else is an outsider and sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.groups.rules import Group, Role, name_key
from bot.groups.store import (
    get_group,
    group_by_name,
    groups_by_channel,
    groups_in_guild,
    groups_of_user,
    role_of,
)
from bot.kernel.errors import Refusal

if TYPE_CHECKING:
    from bot.app import BalintBot

LISTED_GROUPS = 10  # names a "say which group" refusal lists, at most
MAX_ID_DIGITS = 18  # every id the database hands out fits (SQLite stops at 2**63 - 1)
STORED_ID = rf"[0-9]{{1,{MAX_ID_DIGITS}}}"
"""A database id in a custom id template: a longer "id" (forged: the database could not
even look it up) matches no template, so discord.py and the form listeners ignore it."""


@dataclass(frozen=True)
class Access:
    group: Group
    role: Role | None
    is_manager: bool

    @property
    def can_lead(self) -> bool:
        return self.is_manager or (self.role is not None and self.role.leads)

    @property
    def can_read(self) -> bool:
        return self.is_manager or self.role is not None


def is_manager(interaction: discord.Interaction[BalintBot], group: Group) -> bool:
    return (
        interaction.guild_id is not None
        and interaction.guild_id == group.guild_id
        and interaction.permissions.manage_guild
    )


async def resolve_group(interaction: discord.Interaction[BalintBot], option: str | None) -> Group:
    """The group a command is about (see the module's docstring for the order)."""
    if option is not None and option.strip():
        return await _named_group(interaction, option.strip())
    return await _implied_group(interaction)


def as_group_id(text: str) -> int | None:
    """`text` as a group's id, if it can be one: ASCII digits ("²" is a digit to Python
    but no number), few enough to fit the database; anything else is a name."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None


async def _named_group(interaction: discord.Interaction[BalintBot], text: str) -> Group:
    """The group the `group` option names: an id (from autocomplete) or a name."""
    database = interaction.client.database
    guild_id = interaction.guild_id
    group: Group | None = None
    group_id = as_group_id(text)
    if guild_id is not None:
        if group_id is not None:
            group = await get_group(database, group_id)
            if group is not None and group.guild_id != guild_id:
                group = None
        if group is None:
            group = await group_by_name(database, guild_id, text)
    else:
        # In a DM only the user's own groups are candidates, from any server.
        mine = await groups_of_user(database, None, interaction.user.id)
        named = [g for g in mine if name_key(g.name) == name_key(text)]
        if len(named) > 1:
            raise Refusal(
                "Several of your groups are called **{name}**: pick one "
                "from the list the `group` option offers.",
                name=text,
            )
        group = named[0] if named else None
        if group is None and group_id is not None:
            group = next((g for g in mine if g.id == group_id), None)
    if group is None:
        raise Refusal("I don't know a group called **{name}** here.", name=text)
    return group


async def _implied_group(interaction: discord.Interaction[BalintBot]) -> Group:
    """Without the option: the group of this channel, else the user's only group."""
    database = interaction.client.database
    guild_id = interaction.guild_id
    if guild_id is not None and interaction.channel_id is not None:
        here = await groups_by_channel(database, interaction.channel_id)
        if len(here) == 1:
            return here[0]
    mine = await groups_of_user(database, guild_id, interaction.user.id)
    managing = False
    if not mine and guild_id is not None and interaction.permissions.manage_guild:
        # Manage Server leads every group of the server without being on its roster.
        mine, managing = await groups_in_guild(database, guild_id), True
    if len(mine) == 1:
        return mine[0]
    if not mine:
        where = "in this server" if guild_id is not None else "yet"
        raise Refusal(
            f"You are not in any Balint group {where}. A group's leader can add you "
            "with `/group add`."
        )
    # each name is quoted (escaped and shortened) on its own: {g0}, {g1}, ...; a server
    # of many groups gets the first few, so the refusal stays one readable message
    listed = mine[:LISTED_GROUPS]
    names = ", ".join(f"**{{g{index}}}**" for index in range(len(listed)))
    if len(mine) > len(listed):
        names += f" and {len(mine) - len(listed)} more"
    quoted = {f"g{index}": g.name for index, g in enumerate(listed)}
    whose = "This server has" if managing else "You are in"
    raise Refusal(f"{whose} several groups ({names}): say which with the `group` option.", **quoted)


async def access_to(interaction: discord.Interaction[BalintBot], group: Group) -> Access:
    role = await role_of(interaction.client.database, group.id, interaction.user.id)
    return Access(group, role, is_manager(interaction, group))


async def require_leader(interaction: discord.Interaction[BalintBot], option: str | None) -> Access:
    group = await resolve_group(interaction, option)
    access = await access_to(interaction, group)
    if not access.can_lead:
        raise Refusal(
            "Only the leaders of **{group}** (or someone with Manage Server) can do that.",
            group=group.name,
        )
    return access


async def require_member(interaction: discord.Interaction[BalintBot], option: str | None) -> Access:
    group = await resolve_group(interaction, option)
    access = await access_to(interaction, group)
    if not access.can_read:
        raise Refusal("Only members of **{group}** can see or do that.", group=group.name)
    return access
