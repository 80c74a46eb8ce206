"""A member's own data in the attendance capability: the sessions a leader recorded them
as present at."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "attendance": "the sessions a leader recorded you as present at (kept with the "
    "session, for the group's records)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    rows = await database.fetchall(
        "SELECT s.starts_at, g.name FROM attendance a JOIN sessions s ON s.id = a.session_id"
        " JOIN groups g ON g.id = s.group_id WHERE a.user_id = ? ORDER BY s.starts_at, s.id",
        (user_id,),
    )
    return {
        "attendance": [
            {"group": row["name"], "session": from_unix(row["starts_at"]).isoformat()}
            for row in rows
        ]
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime | None = None) -> None:
    """Delete the member's attendance rows (their sessions' records then count them
    absent). `now` is accepted for the registry's shape and not needed."""
    await tx.execute("DELETE FROM attendance WHERE user_id = ?", (user_id,))
