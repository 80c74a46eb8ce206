"""Presenters' case notes and flags. The notes themselves are ciphertext (see
`bot.kernel.crypto`, bound by `bot.cases.rules.note_context`); this module never sees
plaintext."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction


@dataclass(frozen=True)
class StoredCase:
    session_id: int
    member_id: int
    is_flag: bool
    ciphertext: bytes | None
    created_at: datetime


def _case(row: sqlite3.Row) -> StoredCase:
    return StoredCase(
        session_id=row["session_id"],
        member_id=row["member_id"],
        is_flag=row["kind"] == "flag",
        ciphertext=row["ciphertext"],
        created_at=from_unix(row["created_at"]),
    )


async def has_submitted_or_flagged(database: Reader, session_id: int, member_id: int) -> bool:
    """Whether the member sent a note or flagged a case for the session."""
    found = await database.scalar(
        "SELECT 1 FROM cases WHERE session_id = ? AND member_id = ?", (session_id, member_id)
    )
    return found is not None


async def case_of(database: Reader, session_id: int, member_id: int) -> StoredCase | None:
    row = await database.fetchone(
        "SELECT * FROM cases WHERE session_id = ? AND member_id = ?", (session_id, member_id)
    )
    return None if row is None else _case(row)


async def put_case(
    tx: Transaction, session_id: int, member_id: int, ciphertext: bytes | None, now: datetime
) -> None:
    """The member's note (or, without ciphertext, flag) for the session, replacing the one
    they sent before. The old row's bytes are zeroed by secure deletion; the caller
    erases them from the log too (`Transaction.erase_from_disk`)."""
    await tx.execute(
        "INSERT INTO cases (session_id, member_id, kind, ciphertext, created_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (session_id, member_id) DO UPDATE SET"
        " kind = excluded.kind, ciphertext = excluded.ciphertext,"
        " created_at = excluded.created_at",
        (session_id, member_id, "flag" if ciphertext is None else "note", ciphertext, to_unix(now)),
    )


async def delete_case(tx: Transaction, session_id: int, member_id: int) -> bool:
    cursor = await tx.execute(
        "DELETE FROM cases WHERE session_id = ? AND member_id = ?", (session_id, member_id)
    )
    return cursor.rowcount > 0


async def delete_session_cases(tx: Transaction, session_id: int) -> int:
    cursor = await tx.execute("DELETE FROM cases WHERE session_id = ?", (session_id,))
    return cursor.rowcount


async def delete_cases_of_non_members(tx: Transaction, group_id: int) -> int:
    """A member taken off the roster loses what they sent at once."""
    cursor = await tx.execute(
        """
        DELETE FROM cases WHERE session_id IN (SELECT id FROM sessions WHERE group_id = ?)
          AND member_id NOT IN (SELECT user_id FROM members WHERE group_id = ?)
        """,
        (group_id, group_id),
    )
    return cursor.rowcount


async def sessions_holding_cases(database: Reader, group_id: int) -> list[int]:
    """The group's sessions that still hold notes or flags, in order."""
    rows = await database.fetchall(
        "SELECT DISTINCT s.id, s.starts_at FROM sessions s JOIN cases c ON c.session_id = s.id"
        " WHERE s.group_id = ? ORDER BY s.starts_at, s.id",
        (group_id,),
    )
    return [row["id"] for row in rows]


async def cases_of_session(database: Reader, session_id: int) -> list[StoredCase]:
    rows = await database.fetchall(
        "SELECT * FROM cases WHERE session_id = ? ORDER BY created_at, member_id", (session_id,)
    )
    return [_case(row) for row in rows]


async def cases_of_member(database: Reader, group_id: int, member_id: int) -> list[StoredCase]:
    """What the member holds in the group, soonest session first."""
    rows = await database.fetchall(
        "SELECT c.* FROM cases c JOIN sessions s ON s.id = c.session_id"
        " WHERE s.group_id = ? AND c.member_id = ? ORDER BY s.starts_at, s.id",
        (group_id, member_id),
    )
    return [_case(row) for row in rows]
