"""A member's own data in the sessions capability: RSVPs and the sessions they presented."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "rsvps": "your Attending / Can't make it answers (kept while the group exists)",
    "sessions": "the sessions you present or presented (kept while the group exists; after "
    "`/mydata delete` past ones count as presented by a former member)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    answers = await database.fetchall(
        "SELECT s.starts_at, g.name, r.attending FROM rsvps r JOIN sessions s ON s.id ="
        " r.session_id JOIN groups g ON g.id = s.group_id WHERE r.user_id = ? ORDER BY 1",
        (user_id,),
    )
    presented = await database.fetchall(
        "SELECT s.starts_at, g.name FROM sessions s JOIN groups g ON g.id = s.group_id"
        " WHERE s.presenter_id = ? OR s.presenter_reminded = ? ORDER BY 1",
        (user_id, user_id),
    )
    return {
        "rsvps": [
            {
                "group": row["name"],
                "session": from_unix(row["starts_at"]).isoformat(),
                "attending": bool(row["attending"]),
            }
            for row in answers
        ],
        "presenting": [
            {"group": row["name"], "session": from_unix(row["starts_at"]).isoformat()}
            for row in presented
        ],
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    await tx.execute("DELETE FROM rsvps WHERE user_id = ?", (user_id,))
    # Past presentations stay as sessions without a presenter (a count, not a person);
    # upcoming slots are handed on by the rota when the roster no longer has them.
    await tx.execute(
        "UPDATE sessions SET presenter_id = NULL, presenter_locked = 0, presented_by_former = 1"
        " WHERE presenter_id = ? AND starts_at <= ?",
        (user_id, to_unix(now)),
    )
    await tx.execute(
        "UPDATE sessions SET presenter_reminded = NULL WHERE presenter_reminded = ?", (user_id,)
    )
