"""The audit trail of leaders' configuration changes: who, what, when."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction

if TYPE_CHECKING:
    from bot.groups.rules import Group


@dataclass(frozen=True)
class AuditEntry:
    actor_id: int
    group_id: int | None
    action: str
    detail: str
    at: datetime


async def record(
    tx: Transaction,
    *,
    guild_id: int,
    group_id: int | None,
    actor_id: int,
    action: str,
    detail: str,
    at: datetime,
    subject_id: int | None = None,
) -> None:
    """Written in the same transaction as the change it describes. `subject_id` is the
    member the change is about (added, removed, assigned), so that everything about a
    member can be found by column."""
    await tx.execute(
        "INSERT INTO audit (guild_id, group_id, actor_id, action, detail, at, subject_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (guild_id, group_id, actor_id, action, detail, to_unix(at), subject_id),
    )


async def record_change(
    tx: Transaction,
    group: Group,
    actor_id: int,
    action: str,
    detail: str,
    at: datetime,
    subject_id: int | None = None,
) -> None:
    """A leader's change to a group, in the same transaction as the change."""
    await record(
        tx,
        guild_id=group.guild_id,
        group_id=group.id,
        actor_id=actor_id,
        action=action,
        detail=detail,
        at=at,
        subject_id=subject_id,
    )


async def recent(database: Reader, group_id: int, limit: int = 25) -> list[AuditEntry]:
    """A group's entries, newest first."""
    rows = await database.fetchall(
        "SELECT actor_id, group_id, action, detail, at FROM audit WHERE group_id = ?"
        " ORDER BY at DESC, id DESC LIMIT ?",
        (group_id, limit),
    )
    return _entries(rows)


async def server_wide(database: Reader, guild_id: int, limit: int = 10) -> list[AuditEntry]:
    """Entries about the server rather than one group (a deleted group's entry outlives
    the group), newest first."""
    rows = await database.fetchall(
        "SELECT actor_id, group_id, action, detail, at FROM audit"
        " WHERE guild_id = ? AND group_id IS NULL ORDER BY at DESC, id DESC LIMIT ?",
        (guild_id, limit),
    )
    return _entries(rows)


def _entries(rows: Iterable[sqlite3.Row]) -> list[AuditEntry]:
    return [
        AuditEntry(
            row["actor_id"], row["group_id"], row["action"], row["detail"], from_unix(row["at"])
        )
        for row in rows
    ]
