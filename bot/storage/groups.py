"""Groups and their rosters."""

from __future__ import annotations

from bot.db import Database


async def roster_standing(
    database: Database, guild_id: int | None, user_id: int
) -> tuple[bool, bool]:
    """(is on some group's roster, leads or co-leads some group) in this server, or in any
    server when `guild_id` is None (a DM)."""
    row = await database.fetchone(
        """
        SELECT count(*) AS groups,
               coalesce(sum(m.role IN ('leader', 'co-leader')), 0) AS led
        FROM members AS m JOIN groups AS g ON g.id = m.group_id
        WHERE m.user_id = ? AND (? IS NULL OR g.guild_id = ?)
        """,
        (user_id, guild_id, guild_id),
    )
    assert row is not None
    return row["groups"] > 0, row["led"] > 0
