"""A member's own data in the groups capability: rosters and audit mentions."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "members": "which groups you are in, with your role (kept while you are on the roster)",
    "audit": "leaders' changes that name you, such as adding you to a group (kept with the "
    "group's audit trail)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    memberships = await database.fetchall(
        "SELECT g.name, g.guild_id, m.role, m.added_at FROM members m"
        " JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name",
        (user_id,),
    )
    mentions = await database.fetchall(
        "SELECT action, at, actor_id = ? AS by_you FROM audit"
        " WHERE actor_id = ? OR subject_id = ? ORDER BY at",
        (user_id, user_id, user_id),
    )
    return {
        "memberships": [
            {
                "group": row["name"],
                "server_id": row["guild_id"],
                "role": row["role"],
                "added": from_unix(row["added_at"]).isoformat(),
            }
            for row in memberships
        ],
        "audit_entries": [
            {
                "action": row["action"],
                "at": from_unix(row["at"]).isoformat(),
                "by_you": bool(row["by_you"]),
            }
            for row in mentions
        ],
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    await tx.execute("DELETE FROM members WHERE user_id = ?", (user_id,))
    # an entry that names the member goes entirely: its detail may spell the id too
    await tx.execute(
        "DELETE FROM audit WHERE actor_id = ? OR subject_id = ? OR instr(detail, ?) > 0",
        (user_id, user_id, str(user_id)),
    )
