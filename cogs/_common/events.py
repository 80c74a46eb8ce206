"""Mirroring sessions as Discord Scheduled Events (optional, per group).

Members then see the session in the server's Events list, with Discord's own "Interested"
and reminders. The bot's own reminders do not depend on it. Failures (the bot lacks the
Manage Events permission, Discord is down) never undo the planning: the leader is told
and the session stays as planned.

People can delete, cancel or end an event by hand in Discord; the next mirror run then
creates a new one for the session, since the session itself is still planned.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

import discord

from bot.groups.rules import Group
from bot.groups.store import get_group
from bot.sessions import store as session_store

if TYPE_CHECKING:
    from bot.app import BalintBot

log = logging.getLogger(__name__)

MISSING_PERMISSION = (
    "I could not update the server's Events: I need the **Manage Events** permission "
    "(Server Settings > Roles > the bot's role)."
)
TRY_AGAIN = "I could not update the server's Events just now; I will try again at the next change."
CANCEL_BY_HAND = "I could not cancel the server Event for it just now; please remove it by hand."
FORGET_BY_HAND = (
    "I could not cancel some of the group's server Events just now; please remove them by hand."
)

# Discord's JSON error code for editing an event that has ended or was cancelled.
CANNOT_UPDATE_FINISHED_EVENT = 180000
FINISHED = frozenset({discord.EventStatus.completed, discord.EventStatus.cancelled})

# Mirroring runs after the command's reply, so a quick second command of the same group
# can start a second run (or a cancellation) while the first is still talking to Discord.
# They take turns per group; otherwise both runs would see a session without an event and
# create one each, or a run would create an event for a session cancelled meanwhile.
# Kept per bot, since each bot (each test) has its own event loop and database.
_locks: weakref.WeakKeyDictionary[BalintBot, dict[int, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _group_lock(bot: BalintBot, group_id: int) -> asyncio.Lock:
    locks = _locks.setdefault(bot, {})
    if group_id not in locks:
        locks[group_id] = asyncio.Lock()
    return locks[group_id]


def event_name(group: Group) -> str:
    return f"Balint group: {group.name}"[:100]


async def _events_by_id(
    guild: discord.Guild, if_unreachable: str
) -> tuple[dict[int, discord.ScheduledEvent] | None, str | None]:
    """The guild's events in one request (rather than one per session), or None and the
    problem to tell the leader."""
    try:
        events = await guild.fetch_scheduled_events(with_counts=False)
    except discord.Forbidden:
        return None, MISSING_PERMISSION
    except discord.HTTPException as error:
        log.warning(
            "could not list the events of guild %s: HTTP %s",
            guild.id,
            error.status,
            extra={"guild_id": guild.id},
        )
        return None, if_unreachable
    return {event.id: event for event in events}, None


async def mirror_sessions(bot: BalintBot, group: Group) -> str | None:
    """Bring the group's Scheduled Events in line with its upcoming sessions: create the
    missing ones, move the moved ones, replace those removed or finished by hand. Returns a
    problem to tell the leader, or None."""
    async with _group_lock(bot, group.id):
        # The group as it is now: the setting may have been turned off, or the group
        # deleted, while this run waited for its turn.
        current = await get_group(bot.database, group.id)
        if current is None or not current.mirror_events:
            return None
        guild = bot.get_guild(current.guild_id)
        if guild is None:
            return None
        known, problem = await _events_by_id(guild, TRY_AGAIN)
        if known is None:
            return problem
        channel = guild.get_channel(current.channel_id)
        location = f"#{channel.name}" if channel is not None else "Discord"
        failed = False
        upcoming = await session_store.upcoming_sessions(bot.database, current.id, bot.clock.now())
        for planned in upcoming:
            try:
                await _mirror_session(bot, guild, current, planned.id, known, location)
            except discord.Forbidden:
                return MISSING_PERMISSION  # every other session would be refused too
            except discord.HTTPException as error:
                # One session's failure must not keep the others out of the Events list.
                log.warning(
                    "could not mirror session %s as an event: HTTP %s (code %s)",
                    planned.id,
                    error.status,
                    error.code,
                    extra={"session_id": planned.id},
                )
                failed = True
        return TRY_AGAIN if failed else None


async def _mirror_session(
    bot: BalintBot,
    guild: discord.Guild,
    group: Group,
    session_id: int,
    known: dict[int, discord.ScheduledEvent],
    location: str,
) -> None:
    # Read again right before acting: earlier sessions' requests take time, during which
    # this one may have been cancelled or moved.
    session = await session_store.get_session(bot.database, session_id)
    if session is None or session.cancelled or session.starts_at <= bot.clock.now():
        return
    event = None if session.event_id is None else known.get(session.event_id)
    if event is not None and event.status not in FINISHED:
        if event.start_time == session.starts_at and event.end_time == session.ends_at:
            return
        try:
            await event.edit(start_time=session.starts_at, end_time=session.ends_at)
        except discord.NotFound:
            pass  # deleted by hand since the list was read: replaced below
        except discord.HTTPException as error:
            if error.code != CANNOT_UPDATE_FINISHED_EVENT:
                raise
        else:
            return
    created = await guild.create_scheduled_event(
        name=event_name(group),
        start_time=session.starts_at,
        end_time=session.ends_at,
        entity_type=discord.EntityType.external,
        privacy_level=discord.PrivacyLevel.guild_only,
        location=location,
        description="A Balint group session. Reminders and RSVPs come from the bot.",
    )
    async with bot.database.transaction() as tx:
        await session_store.set_event_id(tx, session.id, created.id)


async def cancel_event(bot: BalintBot, group: Group, session: session_store.Session) -> str | None:
    """Mark a cancelled session's event as cancelled (members who were interested see it)."""
    async with _group_lock(bot, group.id):
        # The caller's copy may predate the event: a mirror run may have created it since.
        current = await session_store.get_session(bot.database, session.id)
        event_id = session.event_id if current is None else current.event_id
        if event_id is None:
            return None
        guild = bot.get_guild(group.guild_id)
        if guild is None:
            return None
        try:
            event = await guild.fetch_scheduled_event(event_id, with_counts=False)
            if event.status is discord.EventStatus.scheduled:
                await event.cancel()
        except discord.NotFound:
            pass  # deleted by hand: nothing left to cancel
        except discord.Forbidden:
            return MISSING_PERMISSION
        except discord.HTTPException as error:
            if error.code != CANNOT_UPDATE_FINISHED_EVENT:
                log.warning(
                    "could not cancel the event of session %s: HTTP %s (code %s)",
                    session.id,
                    error.status,
                    error.code,
                    extra={"session_id": session.id},
                )
                return CANCEL_BY_HAND
        async with bot.database.transaction() as tx:
            await session_store.set_event_id(tx, session.id, None)
        return None


async def forget_events(bot: BalintBot, group: Group) -> str | None:
    """Cancel the group's mirrored events that are still scheduled and forget them all (an
    event already under way or finished is left as it is): for when the group stops
    showing its sessions as events, or is deleted. It finds the events through the
    sessions, so call it before deleting them. Returns a problem to tell, or None."""
    async with _group_lock(bot, group.id):
        mirrored = await session_store.mirrored_sessions(bot.database, group.id)
        if not mirrored:
            return None
        guild = bot.get_guild(group.guild_id)
        if guild is None:
            return None
        known, problem = await _events_by_id(guild, FORGET_BY_HAND)
        if known is None:
            return problem
        forgotten: list[int] = []
        for session in mirrored:
            assert session.event_id is not None
            event = known.get(session.event_id)
            try:
                if event is not None and event.status is discord.EventStatus.scheduled:
                    await event.cancel()
            except discord.NotFound:
                pass  # deleted by hand since the list was read
            except discord.Forbidden:
                problem = MISSING_PERMISSION
                break
            except discord.HTTPException as error:
                if error.code != CANNOT_UPDATE_FINISHED_EVENT:
                    # Kept on record, so a later call can still cancel it.
                    log.warning(
                        "could not cancel the event of session %s: HTTP %s (code %s)",
                        session.id,
                        error.status,
                        error.code,
                        extra={"session_id": session.id},
                    )
                    problem = FORGET_BY_HAND
                    continue
            forgotten.append(session.id)
        async with bot.database.transaction() as tx:
            for session_id in forgotten:
                await session_store.set_event_id(tx, session_id, None)
        return problem
