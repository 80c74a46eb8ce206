"""The audit trail of leaders' configuration changes: who, what, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import from_unix, to_unix
from bot.db import Database


@dataclass(frozen=True)
class AuditEntry:
    actor_id: int
    group_id: int | None
    action: str
    detail: str
    at: datetime


async def record(
    connection: aiosqlite.Connection,
    *,
    guild_id: int,
    group_id: int | None,
    actor_id: int,
    action: str,
    detail: str,
    at: datetime,
) -> None:
    """Written in the same transaction as the change it describes."""
    await connection.execute(
        "INSERT INTO audit (guild_id, group_id, actor_id, action, detail, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, group_id, actor_id, action, detail, to_unix(at)),
    )


async def recent(database: Database, group_id: int, limit: int = 25) -> list[AuditEntry]:
    rows = await database.fetchall(
        "SELECT actor_id, group_id, action, detail, at FROM audit WHERE group_id = ?"
        " ORDER BY at DESC, id DESC LIMIT ?",
        (group_id, limit),
    )
    return [
        AuditEntry(
            row["actor_id"], row["group_id"], row["action"], row["detail"], from_unix(row["at"])
        )
        for row in rows
    ]
