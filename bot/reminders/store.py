"""The channel reminders posted for each session, so RSVP counts can be shown on them
and they can be retired when their session is cancelled or moved."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.groups.rules import Group
from bot.groups.store import group_columns, group_from
from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction
from bot.sessions.store import RSVP_COUNT_COLUMNS, Session, rsvp_counts_of


@dataclass(frozen=True)
class PostedReminder:
    session_id: int
    channel_id: int
    message_id: int
    posted_for: datetime  # the session's start when the reminder was posted
    starts_at: datetime  # the session's start now
    cancelled: bool


@dataclass(frozen=True)
class ReminderSubject:
    """What a reminder is about, read in one statement (a burst reads a thousand)."""

    session: Session
    group: Group
    attending: int
    absent: int


_SUBJECT = f"""
    SELECT s.*, {group_columns("g", "g_")}, {RSVP_COUNT_COLUMNS}
    FROM sessions AS s JOIN groups AS g ON g.id = s.group_id WHERE s.id = ?
"""


async def reminder_subject(database: Reader, session_id: int) -> ReminderSubject | None:
    """The session, its group and its RSVP counts; None if the session is gone."""
    found = await database.fetch_as(_subject, _SUBJECT, (session_id,))
    return found[0] if found else None


def _subject(row: sqlite3.Row) -> ReminderSubject:
    return ReminderSubject(Session.from_row(row), group_from(row, "g_"), *rsvp_counts_of(row))


async def record_reminder_message(
    tx: Transaction, session_id: int, channel_id: int, message_id: int, starts_at: datetime
) -> None:
    await tx.execute(
        "INSERT OR IGNORE INTO reminder_messages (session_id, channel_id, message_id, starts_at)"
        " VALUES (?, ?, ?, ?)",
        (session_id, channel_id, message_id, to_unix(starts_at)),
    )


async def take_outdated_reminders(tx: Transaction, group_id: int) -> list[PostedReminder]:
    """Inside the caller's transaction: the channel reminders posted for the group's
    sessions that have since been cancelled or moved, in message order, forgotten from
    now on (they are about to be retired)."""
    rows = await tx.fetchall(
        """
        SELECT m.session_id, m.channel_id, m.message_id,
               coalesce(m.starts_at, s.starts_at) AS posted_for, s.starts_at, s.status
        FROM reminder_messages AS m JOIN sessions AS s ON s.id = m.session_id
        WHERE s.group_id = ? AND (s.status = 'cancelled' OR s.starts_at IS NOT m.starts_at)
        ORDER BY m.session_id, m.message_id
        """,
        (group_id,),
    )
    for row in rows:
        await tx.execute(
            "DELETE FROM reminder_messages WHERE session_id = ? AND message_id = ?",
            (row["session_id"], row["message_id"]),
        )
    return [
        PostedReminder(
            row["session_id"],
            row["channel_id"],
            row["message_id"],
            from_unix(row["posted_for"]),
            from_unix(row["starts_at"]),
            row["status"] == "cancelled",
        )
        for row in rows
    ]
