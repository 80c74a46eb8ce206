"""Planned sessions, their presenters, and what the rota reads: absences, RSVPs, swaps."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import from_unix, to_unix
from bot.db import Database


@dataclass(frozen=True)
class Session:
    id: int
    group_id: int
    starts_at: datetime
    duration: timedelta
    cancelled: bool
    presenter_id: int | None
    presenter_locked: bool
    event_id: int | None = None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.duration

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(
            id=row["id"],
            group_id=row["group_id"],
            starts_at=from_unix(row["starts_at"]),
            duration=timedelta(minutes=row["duration_min"]),
            cancelled=row["status"] == "cancelled",
            presenter_id=row["presenter_id"],
            presenter_locked=bool(row["presenter_locked"]),
            event_id=row["event_id"],
        )


async def add_sessions(
    connection: aiosqlite.Connection,
    group_id: int,
    starts: Iterable[datetime],
    duration: timedelta,
    now: datetime,
) -> list[int]:
    ids: list[int] = []
    for start in starts:
        cursor = await connection.execute(
            "INSERT INTO sessions (group_id, starts_at, duration_min, created_at)"
            " VALUES (?, ?, ?, ?)",
            (group_id, to_unix(start), int(duration.total_seconds() // 60), to_unix(now)),
        )
        assert cursor.lastrowid is not None
        ids.append(cursor.lastrowid)
    return ids


async def get_session(database: Database, session_id: int) -> Session | None:
    row = await database.fetchone("SELECT * FROM sessions WHERE id = ?", (session_id,))
    return None if row is None else Session.from_row(row)


async def upcoming_sessions(
    database: Database, group_id: int, now: datetime, limit: int | None = None
) -> list[Session]:
    """Planned (not cancelled) sessions that have not started, soonest first."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned' AND starts_at > ?"
        " ORDER BY starts_at, id LIMIT ?",
        (group_id, to_unix(now), -1 if limit is None else limit),
    )
    return [Session.from_row(row) for row in rows]


async def past_sessions(database: Database, group_id: int, now: datetime) -> list[Session]:
    """Planned sessions that have started, oldest first: the presentation history."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned' AND starts_at <= ?"
        " ORDER BY starts_at, id",
        (group_id, to_unix(now)),
    )
    return [Session.from_row(row) for row in rows]


async def set_presenter(
    connection: aiosqlite.Connection, session_id: int, presenter_id: int | None, *, locked: bool
) -> None:
    await connection.execute(
        "UPDATE sessions SET presenter_id = ?, presenter_locked = ? WHERE id = ?",
        (presenter_id, int(locked), session_id),
    )


async def cancel_session(connection: aiosqlite.Connection, session_id: int) -> None:
    await connection.execute(
        "UPDATE sessions SET status = 'cancelled', presenter_id = NULL, presenter_locked = 0"
        " WHERE id = ?",
        (session_id,),
    )
    await connection.execute(
        "UPDATE swaps SET state = 'void' WHERE session_id = ? AND state = 'pending'", (session_id,)
    )


async def move_session(connection: aiosqlite.Connection, session_id: int, start: datetime) -> None:
    """Move a session. Its RSVPs are cleared: an answer given for the old time says
    nothing about the new one (an old "Can't make it" would otherwise keep the member
    out of the rota for a date they may well be free on)."""
    await connection.execute(
        "UPDATE sessions SET starts_at = ? WHERE id = ?", (to_unix(start), session_id)
    )
    await connection.execute("DELETE FROM rsvps WHERE session_id = ?", (session_id,))


# -- absences ---------------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceRecord:
    user_id: int
    starts_at: datetime
    ends_at: datetime  # exclusive: the first instant back


async def add_absence(
    connection: aiosqlite.Connection,
    group_id: int,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    await connection.execute(
        "INSERT INTO absences (group_id, user_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
        (group_id, user_id, to_unix(starts_at), to_unix(ends_at)),
    )


async def absences(database: Database, group_id: int) -> list[AbsenceRecord]:
    rows = await database.fetchall(
        "SELECT user_id, starts_at, ends_at FROM absences WHERE group_id = ? ORDER BY starts_at",
        (group_id,),
    )
    return [
        AbsenceRecord(row["user_id"], from_unix(row["starts_at"]), from_unix(row["ends_at"]))
        for row in rows
    ]


# -- RSVPs --------------------------------------------------------------------------


async def declines(database: Database, group_id: int) -> dict[int, set[int]]:
    """Session id to the members who answered "Can't make it"."""
    rows = await database.fetchall(
        "SELECT r.session_id, r.user_id FROM rsvps AS r JOIN sessions AS s ON s.id = r.session_id"
        " WHERE s.group_id = ? AND r.attending = 0",
        (group_id,),
    )
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(row["session_id"], set()).add(row["user_id"])
    return found


async def rsvp_counts(database: Database, session_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Session id to (attending, can't make it)."""
    ids = list(session_ids)
    if not ids:
        return {}
    marks = ",".join("?" for _ in ids)
    rows = await database.fetchall(
        f"SELECT session_id, sum(attending) AS yes, sum(1 - attending) AS no FROM rsvps"
        f" WHERE session_id IN ({marks}) GROUP BY session_id",
        ids,
    )
    counts = dict.fromkeys(ids, (0, 0))
    for row in rows:
        counts[row["session_id"]] = (int(row["yes"]), int(row["no"]))
    return counts


# -- swaps --------------------------------------------------------------------------


@dataclass(frozen=True)
class Swap:
    id: int
    session_id: int
    requester_id: int
    target_id: int
    state: str


async def create_swap(
    connection: aiosqlite.Connection,
    session_id: int,
    requester_id: int,
    target_id: int,
    now: datetime,
) -> int:
    await connection.execute(
        "UPDATE swaps SET state = 'void' WHERE session_id = ? AND state = 'pending'", (session_id,)
    )
    cursor = await connection.execute(
        "INSERT INTO swaps (session_id, requester_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        (session_id, requester_id, target_id, to_unix(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_swap(database: Database, swap_id: int) -> Swap | None:
    row = await database.fetchone(
        "SELECT id, session_id, requester_id, target_id, state FROM swaps WHERE id = ?", (swap_id,)
    )
    if row is None:
        return None
    return Swap(row["id"], row["session_id"], row["requester_id"], row["target_id"], row["state"])


async def decide_swap(
    connection: aiosqlite.Connection, swap_id: int, state: str, now: datetime
) -> bool:
    """Move a pending swap to `state`; False if it was no longer pending (decided twice)."""
    cursor = await connection.execute(
        "UPDATE swaps SET state = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
        (state, to_unix(now), swap_id),
    )
    return cursor.rowcount == 1


async def set_rsvp(
    connection: aiosqlite.Connection, session_id: int, user_id: int, *, attending: bool
) -> bool | None:
    """Record an RSVP; returns the previous answer (None if there was none)."""
    async with connection.execute(
        "SELECT attending FROM rsvps WHERE session_id = ? AND user_id = ?", (session_id, user_id)
    ) as cursor:
        row = await cursor.fetchone()
    await connection.execute(
        "INSERT INTO rsvps (session_id, user_id, attending) VALUES (?, ?, ?)"
        " ON CONFLICT (session_id, user_id) DO UPDATE SET attending = excluded.attending",
        (session_id, user_id, int(attending)),
    )
    return None if row is None else bool(row["attending"])


async def all_sessions(database: Database, group_id: int) -> list[Session]:
    """Every session of the group, cancelled ones included, oldest first."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? ORDER BY starts_at, id", (group_id,)
    )
    return [Session.from_row(row) for row in rows]


async def set_event_id(
    connection: aiosqlite.Connection, session_id: int, event_id: int | None
) -> None:
    await connection.execute(
        "UPDATE sessions SET event_id = ? WHERE id = ?", (event_id, session_id)
    )


async def mirrored_sessions(database: Database, group_id: int) -> list[Session]:
    """Every session of the group that has a Scheduled Event on record, oldest first."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND event_id IS NOT NULL ORDER BY starts_at, id",
        (group_id,),
    )
    return [Session.from_row(row) for row in rows]


async def release_slots(
    connection: aiosqlite.Connection, database: Database, group_id: int, user_id: int, now: datetime
) -> dict[int, int | None]:
    """Inside the caller's transaction, hand the member's upcoming slots (fixed ones too)
    back to the rota: they left the group or now lead it. Returns session id to the
    member, to count as the slots they lost."""
    lost: dict[int, int | None] = {
        session.id: user_id
        for session in await upcoming_sessions(database, group_id, now)
        if session.presenter_id == user_id
    }
    for session_id in lost:
        await set_presenter(connection, session_id, None, locked=False)
    return lost


async def unlock_slots_between(
    connection: aiosqlite.Connection, group_id: int, user_id: int, start: datetime, end: datetime
) -> None:
    """Release the member's fixed slots starting in [start, end) to the rota (they will
    be away then), so regeneration can hand them on."""
    await connection.execute(
        "UPDATE sessions SET presenter_locked = 0 WHERE group_id = ? AND presenter_id = ?"
        " AND starts_at >= ? AND starts_at < ?",
        (group_id, user_id, to_unix(start), to_unix(end)),
    )


# -- reminder messages ----------------------------------------------------------------


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
