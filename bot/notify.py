"""Telling people things: by DM, with a content-free mention in the home channel when
Discord refuses the DM (the member closed DMs from server members)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.recurrence import format_when
from bot.domain.rota import SlotChange
from bot.storage.groups import Group, roster
from bot.storage.sessions import get_session
from bot.text import plain

if TYPE_CHECKING:
    from bot.client import BalintBot

log = logging.getLogger(__name__)

CANNOT_SEND_TO_USER = 50007


def fallback_text(user_id: int, hint: str) -> str:
    return (
        f"<@{user_id}>, I have a message for you but could not send it as a direct message. "
        f"Please allow direct messages from this server's members, then {hint}"
    )


async def tell(
    bot: BalintBot,
    group: Group,
    user_id: int,
    text: str,
    *,
    view: discord.ui.View | None = None,
    hint: str = "use `/rota me` to see your slots.",
    fallback_view: discord.ui.View | None = None,
    nonce: str | None = None,
) -> bool:
    """DM `text` to the user; on refusal, mention them in the home channel with nothing
    private. Returns True if the DM went through.

    DMs wait their turn in the bot's pacer, so a burst (a whole term's rota, a reminder
    to every leader) stays under Discord's anti-spam limits. With a `nonce`, a repeat of
    the same message (a job re-run after a crash) is collapsed by Discord.
    """
    try:
        channel = await bot.create_dm(discord.Object(user_id))
        extra = _optional(view=view, nonce=nonce)
        await bot.dm_pacer.run(
            lambda: channel.send(text, allowed_mentions=discord.AllowedMentions.none(), **extra)
        )
        return True
    except discord.Forbidden as error:
        if error.code != CANNOT_SEND_TO_USER:
            raise
    home = bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
    mention_only = discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(user_id)]
    )
    content = fallback_text(user_id, hint)
    await home.send(
        content, allowed_mentions=mention_only, **_optional(view=fallback_view, nonce=nonce)
    )
    return False


def _optional(**values: Any) -> dict[str, Any]:
    """discord.py wants optional send() arguments left out rather than passed as None."""
    return {name: value for name, value in values.items() if value is not None}


async def tell_leaders(
    bot: BalintBot, group: Group, text: str, *, nonce_for: Callable[[int], str] | None = None
) -> None:
    """Leaders' notices: to every leader and co-leader of the group by DM; a leader whose
    DMs are closed gets a content-free mention in the leaders' channel if set, else in
    the home channel."""
    target = group
    if group.leaders_channel_id is not None:
        target = replace(group, channel_id=group.leaders_channel_id)
    for entry in await roster(bot.database, group.id):
        if entry.role.leads:
            nonce = None if nonce_for is None else nonce_for(entry.user_id)
            await tell(
                bot, target, entry.user_id, text, hint="check your DMs with me.", nonce=nonce
            )


async def tell_slot_changes(
    bot: BalintBot, group: Group, changes: Mapping[int, SlotChange], reason: str
) -> None:
    """Tell each member whose presenting slots moved what they gained and lost."""
    for member_id, change in changes.items():
        lines = [f"Your presenting slots in **{plain(group.name)}** changed ({reason}):"]
        for label, session_ids in (
            ("You now present", change.gained),
            ("You no longer present", change.lost),
        ):
            for session_id in sorted(session_ids):
                session = await get_session(bot.database, session_id)
                if session is not None:
                    lines.append(f"- {label} on {format_when(session.starts_at)}")
        lines.append("See `/rota me` for all your slots.")
        await tell(bot, group, member_id, "\n".join(lines))
