"""The rota's SQL: presenters of sessions, absences, swap requests, and reads across
groups (a member's next slots and the requests waiting for them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction


@dataclass(frozen=True)
class MySlot:
    group_id: int
    group_name: str
    session_id: int
    starts_at: datetime
    timezone: str  # the group's, for labels that cannot be Discord timestamps
    guild_id: int = 0  # the group's server


async def my_next_slots(
    database: Reader, user_id: int, now: datetime, guild_id: int | None
) -> list[MySlot]:
    """The user's upcoming presenting slots in the groups of one server, or of every
    server when `guild_id` is None (a DM), soonest first."""
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, g.timezone, g.guild_id, s.id AS session_id, s.starts_at
        FROM sessions AS s JOIN groups AS g ON g.id = s.group_id
        JOIN members AS m ON m.group_id = g.id AND m.user_id = s.presenter_id
        WHERE s.presenter_id = ? AND s.status = 'planned' AND s.starts_at > ?
          AND (? IS NULL OR g.guild_id = ?)
        ORDER BY s.starts_at
        """,
        (user_id, to_unix(now), guild_id, guild_id),
    )
    return _slots(rows)


async def pending_swaps_for(database: Reader, user_id: int, now: datetime) -> list[MySlot]:
    """Swap requests the user can still answer: on planned sessions that have not
    started, still presented by the requester, while the user presents in the group."""
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, g.timezone, g.guild_id, s.id AS session_id, s.starts_at
        FROM swaps AS w JOIN sessions AS s ON s.id = w.session_id
        JOIN groups AS g ON g.id = s.group_id
        JOIN members AS m ON m.group_id = g.id AND m.user_id = w.target_id
        WHERE w.target_id = ? AND w.state = 'pending' AND s.starts_at > ?
          AND s.status = 'planned' AND s.presenter_id = w.requester_id AND m.role = 'member'
        ORDER BY s.starts_at
        """,
        (user_id, to_unix(now)),
    )
    return _slots(rows)


def _slots(rows: Iterable[sqlite3.Row]) -> list[MySlot]:
    return [
        MySlot(
            row["group_id"],
            row["name"],
            row["session_id"],
            from_unix(row["starts_at"]),
            row["timezone"],
            row["guild_id"],
        )
        for row in rows
    ]


async def set_presenter(
    tx: Transaction, session_id: int, presenter_id: int | None, *, locked: bool
) -> None:
    await tx.execute(
        "UPDATE sessions SET presenter_id = ?, presenter_locked = ? WHERE id = ?",
        (presenter_id, int(locked), session_id),
    )


# -- absences ---------------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceRecord:
    user_id: int
    starts_at: datetime
    ends_at: datetime  # exclusive: the first instant back


async def add_absence(
    tx: Transaction,
    group_id: int,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    await tx.execute(
        "INSERT INTO absences (group_id, user_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
        (group_id, user_id, to_unix(starts_at), to_unix(ends_at)),
    )


async def absences(database: Reader, group_id: int) -> list[AbsenceRecord]:
    rows = await database.fetchall(
        "SELECT user_id, starts_at, ends_at FROM absences WHERE group_id = ? ORDER BY starts_at",
        (group_id,),
    )
    return [
        AbsenceRecord(row["user_id"], from_unix(row["starts_at"]), from_unix(row["ends_at"]))
        for row in rows
    ]


# -- swaps --------------------------------------------------------------------------


@dataclass(frozen=True)
class Swap:
    id: int
    session_id: int
    requester_id: int
    target_id: int
    state: str
    exchange_session_id: int | None = None  # offered in exchange; None: a hand-over


async def create_swap(
    tx: Transaction,
    session_id: int,
    requester_id: int,
    target_id: int,
    now: datetime,
    exchange_session_id: int | None = None,
) -> int:
    await tx.execute(
        "UPDATE swaps SET state = 'void' WHERE session_id = ? AND state = 'pending'", (session_id,)
    )
    cursor = await tx.execute(
        "INSERT INTO swaps (session_id, requester_id, target_id, created_at, exchange_session_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (session_id, requester_id, target_id, to_unix(now), exchange_session_id),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_swap(database: Reader, swap_id: int) -> Swap | None:
    row = await database.fetchone(
        "SELECT id, session_id, requester_id, target_id, state, exchange_session_id"
        " FROM swaps WHERE id = ?",
        (swap_id,),
    )
    if row is None:
        return None
    return Swap(
        row["id"],
        row["session_id"],
        row["requester_id"],
        row["target_id"],
        row["state"],
        row["exchange_session_id"],
    )


async def decide_swap(tx: Transaction, swap_id: int, state: str, now: datetime) -> bool:
    """Move a pending swap to `state`; False if it was no longer pending (decided twice)."""
    cursor = await tx.execute(
        "UPDATE swaps SET state = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
        (state, to_unix(now), swap_id),
    )
    return cursor.rowcount == 1


async def void_swaps_of_cancelled(tx: Transaction, group_id: int) -> None:
    """Swap requests for sessions that were cancelled no longer apply."""
    await tx.execute(
        "UPDATE swaps SET state = 'void' WHERE state = 'pending' AND session_id IN"
        " (SELECT id FROM sessions WHERE group_id = ? AND status = 'cancelled')",
        (group_id,),
    )


async def unlock_slots_between(
    tx: Transaction, group_id: int, user_id: int, start: datetime, end: datetime
) -> None:
    """Release the member's fixed slots starting in [start, end) to the rota (they will
    be away then), so regeneration can hand them on."""
    await tx.execute(
        "UPDATE sessions SET presenter_locked = 0 WHERE group_id = ? AND presenter_id = ?"
        " AND starts_at >= ? AND starts_at < ?",
        (group_id, user_id, to_unix(start), to_unix(end)),
    )
