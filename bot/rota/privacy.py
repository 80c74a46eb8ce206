"""A member's own data in the rota: absences and swap requests."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "absences": "the dates you said you are away (kept while the group exists)",
    "swaps": "swap requests you made or were asked (kept while the group exists)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    away = await database.fetchall(
        "SELECT g.name, a.starts_at, a.ends_at FROM absences a JOIN groups g ON g.id ="
        " a.group_id WHERE a.user_id = ? ORDER BY a.starts_at",
        (user_id,),
    )
    swaps = await database.fetchall(
        "SELECT s.starts_at, w.state, w.requester_id = ? AS asked_by_you FROM swaps w"
        " JOIN sessions s ON s.id = w.session_id WHERE ? IN (w.requester_id, w.target_id)"
        " ORDER BY w.created_at",
        (user_id, user_id),
    )
    return {
        "absences": [
            {
                "group": row["name"],
                "from": from_unix(row["starts_at"]).isoformat(),
                "until": from_unix(row["ends_at"]).isoformat(),
            }
            for row in away
        ],
        "swap_requests": [
            {
                "session": from_unix(row["starts_at"]).isoformat(),
                "state": row["state"],
                "asked_by_you": bool(row["asked_by_you"]),
            }
            for row in swaps
        ],
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    await tx.execute("DELETE FROM absences WHERE user_id = ?", (user_id,))
    await tx.execute(
        "DELETE FROM swaps WHERE requester_id = ? OR target_id = ?", (user_id, user_id)
    )
