"""The channel reminders posted for each session, so RSVP counts can be shown on them
and they can be retired when their session is cancelled or moved."""

from __future__ import annotations

import aiosqlite

from bot.kernel.db import Database


async def record_reminder_message(
    connection: aiosqlite.Connection, session_id: int, channel_id: int, message_id: int
) -> None:
    await connection.execute(
        "INSERT OR IGNORE INTO reminder_messages (session_id, channel_id, message_id)"
        " VALUES (?, ?, ?)",
        (session_id, channel_id, message_id),
    )


async def take_reminder_messages(
    connection: aiosqlite.Connection, database: Database, session_id: int
) -> list[tuple[int, int]]:
    """Inside the caller's transaction: the (channel, message) of the session's channel
    reminders, forgotten from now on (they are about to be retired)."""
    rows = await database.fetchall(
        "SELECT channel_id, message_id FROM reminder_messages WHERE session_id = ?"
        " ORDER BY message_id",
        (session_id,),
    )
    await connection.execute("DELETE FROM reminder_messages WHERE session_id = ?", (session_id,))
    return [(row["channel_id"], row["message_id"]) for row in rows]
