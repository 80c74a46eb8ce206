"""A member's own data in the cases capability: their notes and flags (the export says
that they exist and for which session; a note's text is for the leaders' preparation
and is not exported: it was written by the member, who has it)."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "cases": "case notes (encrypted) and flags you sent the leaders (deleted when the "
    "session ends, plus the group's retention, at most 7 days)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    rows = await database.fetchall(
        "SELECT s.starts_at, g.name, c.kind, c.created_at FROM cases c JOIN sessions s ON"
        " s.id = c.session_id JOIN groups g ON g.id = s.group_id WHERE c.member_id = ?"
        " ORDER BY s.starts_at",
        (user_id,),
    )
    return {
        "case_notes_and_flags": [
            {
                "group": row["name"],
                "session": from_unix(row["starts_at"]).isoformat(),
                "kind": row["kind"],
                "sent": from_unix(row["created_at"]).isoformat(),
            }
            for row in rows
        ]
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    if (await tx.execute("DELETE FROM cases WHERE member_id = ?", (user_id,))).rowcount:
        tx.erase_from_disk()
