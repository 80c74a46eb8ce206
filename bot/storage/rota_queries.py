"""Rota reads across groups: a member's next slots and the requests waiting for them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_unix, to_unix
from bot.db import Database


@dataclass(frozen=True)
class MySlot:
    group_id: int
    group_name: str
    session_id: int
    starts_at: datetime
    timezone: str  # the group's, for labels that cannot be Discord timestamps


async def my_next_slots(
    database: Database, user_id: int, now: datetime, guild_id: int | None
) -> list[MySlot]:
    """The user's upcoming presenting slots in the groups of one server, or of every
    server when `guild_id` is None (a DM), soonest first."""
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, g.timezone, s.id AS session_id, s.starts_at
        FROM sessions AS s JOIN groups AS g ON g.id = s.group_id
        JOIN members AS m ON m.group_id = g.id AND m.user_id = s.presenter_id
        WHERE s.presenter_id = ? AND s.status = 'planned' AND s.starts_at > ?
          AND (? IS NULL OR g.guild_id = ?)
        ORDER BY s.starts_at
        """,
        (user_id, to_unix(now), guild_id, guild_id),
    )
    return _slots(rows)


async def pending_swaps_for(database: Database, user_id: int, now: datetime) -> list[MySlot]:
    """Swap requests the user can still answer: on planned sessions that have not
    started, still presented by the requester, while the user presents in the group."""
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, g.timezone, s.id AS session_id, s.starts_at
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
        )
        for row in rows
    ]
