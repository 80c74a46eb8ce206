"""Rota reads across groups: a member's next slots and the requests waiting for them."""

from __future__ import annotations

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


async def my_next_slots(database: Database, user_id: int, now: datetime) -> list[MySlot]:
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, s.id AS session_id, s.starts_at
        FROM sessions AS s JOIN groups AS g ON g.id = s.group_id
        JOIN members AS m ON m.group_id = g.id AND m.user_id = s.presenter_id
        WHERE s.presenter_id = ? AND s.status = 'planned' AND s.starts_at > ?
        ORDER BY s.starts_at
        """,
        (user_id, to_unix(now)),
    )
    return [
        MySlot(row["group_id"], row["name"], row["session_id"], from_unix(row["starts_at"]))
        for row in rows
    ]


async def pending_swaps_for(database: Database, user_id: int, now: datetime) -> list[MySlot]:
    """Swap requests the user can still answer: on planned sessions that have not
    started, still presented by the requester, while the user presents in the group."""
    rows = await database.fetchall(
        """
        SELECT g.id AS group_id, g.name, s.id AS session_id, s.starts_at
        FROM swaps AS w JOIN sessions AS s ON s.id = w.session_id
        JOIN groups AS g ON g.id = s.group_id
        JOIN members AS m ON m.group_id = g.id AND m.user_id = w.target_id
        WHERE w.target_id = ? AND w.state = 'pending' AND s.starts_at > ?
          AND s.status = 'planned' AND s.presenter_id = w.requester_id AND m.role = 'member'
        ORDER BY s.starts_at
        """,
        (user_id, to_unix(now)),
    )
    return [
        MySlot(row["group_id"], row["name"], row["session_id"], from_unix(row["starts_at"]))
        for row in rows
    ]
