"""Mirroring sessions as Discord Scheduled Events (optional, per group).

Members then see the session in the server's Events list, with Discord's own "Interested"
and reminders. The bot's own reminders do not depend on it. Failures (the bot lacks the
Manage Events permission, Discord is down) never undo the planning: the leader is told
and the session stays as planned.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.storage import sessions as session_store
from bot.storage.groups import Group

if TYPE_CHECKING:
    from bot.client import BalintBot

log = logging.getLogger(__name__)

MISSING_PERMISSION = (
    "I could not update the server's Events: I need the **Manage Events** permission "
    "(Server Settings > Roles > the bot's role)."
)


def event_name(group: Group) -> str:
    return f"Balint group: {group.name}"[:100]


async def mirror_sessions(bot: BalintBot, group: Group) -> str | None:
    """Bring the group's Scheduled Events in line with its upcoming sessions: create the
    missing ones, move the moved ones. Returns a problem to tell the leader, or None."""
    if not group.mirror_events:
        return None
    guild = bot.get_guild(group.guild_id)
    if guild is None:
        return None
    channel = guild.get_channel(group.channel_id)
    location = f"#{channel.name}" if channel is not None else "Discord"
    try:
        for session in await session_store.upcoming_sessions(
            bot.database, group.id, bot.clock.now()
        ):
            if session.event_id is None:
                event = await guild.create_scheduled_event(
                    name=event_name(group),
                    start_time=session.starts_at,
                    end_time=session.ends_at,
                    entity_type=discord.EntityType.external,
                    privacy_level=discord.PrivacyLevel.guild_only,
                    location=location,
                    description="A Balint group session. Reminders and RSVPs come from the bot.",
                )
                async with bot.database.transaction() as connection:
                    await session_store.set_event_id(connection, session.id, event.id)
            else:
                event = await guild.fetch_scheduled_event(session.event_id)
                if event.start_time != session.starts_at or event.end_time != session.ends_at:
                    await event.edit(start_time=session.starts_at, end_time=session.ends_at)
    except discord.Forbidden:
        return MISSING_PERMISSION
    except discord.HTTPException as error:
        log.warning(
            "could not mirror sessions of group %s as events: HTTP %s", group.id, error.status
        )
        return (
            "I could not update the server's Events just now; I will try again at the next change."
        )
    return None


async def cancel_event(bot: BalintBot, group: Group, session: session_store.Session) -> str | None:
    """Mark a cancelled session's event as cancelled (members who were interested see it)."""
    if session.event_id is None:
        return None
    guild = bot.get_guild(group.guild_id)
    if guild is None:
        return None
    try:
        event = await guild.fetch_scheduled_event(session.event_id)
        await event.cancel()
    except discord.NotFound:
        return None
    except discord.Forbidden:
        return MISSING_PERMISSION
    except discord.HTTPException as error:
        log.warning("could not cancel the event of session %s: HTTP %s", session.id, error.status)
        return "I could not cancel the server Event for it just now; please remove it by hand."
    async with bot.database.transaction() as connection:
        await session_store.set_event_id(connection, session.id, None)
    return None
