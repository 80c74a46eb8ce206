"""Keeping a group's reminder jobs in step with its sessions and settings.

Called inside the transaction of anything that changes when reminders fall due (sessions
planned, moved or cancelled, reminder offsets changed), so the jobs change together with
what they are about: a crash can never leave a session without its reminders. Jobs of
sessions that are gone are dropped; every upcoming session gets its jobs (re)queued. A
reminder already sent keeps its `done` row, so re-planning never sends it twice; a moved
session has new keys and so new reminders.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite
import discord

from bot.groups.store import Group
from bot.kernel.db import Database
from bot.kernel.scheduler import JobScheduler, JobSpec
from bot.reminders.rules import (
    ReminderKind,
    offsets_from_minutes,
    plan_reminders,
    session_key_prefix,
)
from bot.sessions import store as session_store

if TYPE_CHECKING:
    from bot.app import BalintBot

JOB_KIND = {kind: f"reminder.{kind.value}" for kind in ReminderKind}


async def write_reminders(
    connection: aiosqlite.Connection, database: Database, group: Group, now: datetime
) -> int:
    """Inside the caller's transaction (the one that planned, moved or cancelled sessions,
    or changed the offsets), make every upcoming session's reminder jobs match. Returns
    how many are queued. The caller re-arms the scheduler after committing."""
    offsets = offsets_from_minutes(
        group.remind_channel_min, group.remind_presenter_min, group.remind_leaders_min
    )
    queued = 0
    for session in await session_store.upcoming_sessions(database, group.id, now):
        planned = plan_reminders(session.id, group.id, session.starts_at, offsets, now)
        await JobScheduler.write_pending(
            connection,
            session_key_prefix(group.id, session.id),
            [
                JobSpec(
                    JOB_KIND[reminder.kind],
                    reminder.key,
                    reminder.due_at,
                    reminder.expires_at,
                    {"group_id": group.id, "session_id": session.id},
                )
                for reminder in planned
            ],
        )
        queued += len(planned)
    return queued


async def drop_reminders(connection: aiosqlite.Connection, group_id: int, session_id: int) -> None:
    """Inside the caller's transaction: a cancelled session's pending reminders go."""
    await JobScheduler.write_pending(connection, session_key_prefix(group_id, session_id), [])


async def retire_reminder_messages(
    bot: BalintBot, posted: list[tuple[int, int]], note: str
) -> None:
    """The session was cancelled or moved: the channel reminders already posted for it
    (taken from the database in the same transaction as the change, so a reminder the
    change itself causes is never among them) stop offering RSVP buttons and say why.
    One message deleted by hand does not keep the others from being retired."""
    for channel_id, message_id in posted:
        message = bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                content=note, view=None, allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.NotFound:
            continue
