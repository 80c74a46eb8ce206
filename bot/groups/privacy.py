"""A member's own data in the groups capability: rosters and audit mentions."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import from_unix
from bot.kernel.db import Reader, Transaction

DATA = {
    "members": "which groups you are in, with your role (kept while you are on the roster)",
    "audit": "leaders' changes you made, or that name you (adding you to a group), in the "
    "group's record of changes (kept while the group exists; after `/mydata delete` they "
    "stay, made by or about a former member)",
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
    # The group's record of changes stays whole; only who made or underwent them goes:
    # actor 0 is "a former member", and the detail no longer spells the id.
    await tx.execute("UPDATE audit SET actor_id = 0 WHERE actor_id = ?", (user_id,))
    await tx.execute("UPDATE audit SET subject_id = NULL WHERE subject_id = ?", (user_id,))
    await tx.execute(
        "UPDATE audit SET detail = replace(detail, ?, 'a former member')"
        " WHERE instr(detail, ?) > 0",
        (str(user_id), str(user_id)),
    )
