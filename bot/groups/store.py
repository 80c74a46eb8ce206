"""The SQL of groups, their rosters and settings."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

from bot.groups.rules import SETTING_COLUMNS, Group, PresenterMode, Role, RosterEntry, name_key
from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction

# What `group_from` reads: a column for each of the dataclass's fields, by its name.
GROUP_COLUMNS = tuple(field.name for field in dataclasses.fields(Group))


def group_columns(table: str, prefix: str) -> str:
    """The columns `group_from` reads, of `table`, named `prefix` + column: a group read
    in the same statement as the rows it joins (`group_from(row, prefix)`)."""
    return ", ".join(f"{table}.{column} AS {prefix}{column}" for column in GROUP_COLUMNS)


def group_from(row: sqlite3.Row, prefix: str = "") -> Group:
    term_start = row[prefix + "term_start"]
    return Group(
        id=row[prefix + "id"],
        guild_id=row[prefix + "guild_id"],
        name=row[prefix + "name"],
        channel_id=row[prefix + "channel_id"],
        timezone=row[prefix + "timezone"],
        presenter_mode=PresenterMode(row[prefix + "presenter_mode"]),
        remind_channel_min=row[prefix + "remind_channel_min"],
        remind_presenter_min=row[prefix + "remind_presenter_min"],
        remind_leaders_min=row[prefix + "remind_leaders_min"],
        reflection_threshold=row[prefix + "reflection_threshold"],
        reflection_window_h=row[prefix + "reflection_window_h"],
        reflection_release=row[prefix + "reflection_release"],
        case_retention_h=row[prefix + "case_retention_h"],
        leaders_channel_id=row[prefix + "leaders_channel_id"],
        term_start=None if term_start is None else from_unix(term_start),
        mirror_events=bool(row[prefix + "mirror_events"]),
    )


async def create_group(
    tx: Transaction,
    *,
    guild_id: int,
    name: str,
    channel_id: int,
    timezone: str,
    leader_id: int,
    now: datetime,
) -> int:
    cursor = await tx.execute(
        "INSERT INTO groups (guild_id, name, name_key, channel_id, timezone, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, name, name_key(name), channel_id, timezone, to_unix(now)),
    )
    group_id = cursor.lastrowid
    assert group_id is not None
    await tx.execute(
        "INSERT INTO members (group_id, user_id, role, added_at) VALUES (?, ?, 'leader', ?)",
        (group_id, leader_id, to_unix(now)),
    )
    return group_id


async def get_group(database: Reader, group_id: int) -> Group | None:
    found = await database.fetch_as(group_from, "SELECT * FROM groups WHERE id = ?", (group_id,))
    return found[0] if found else None


async def group_by_name(database: Reader, guild_id: int, name: str) -> Group | None:
    found = await database.fetch_as(
        group_from,
        "SELECT * FROM groups WHERE guild_id = ? AND name_key = ?",
        (guild_id, name_key(name)),
    )
    return found[0] if found else None


async def groups_by_channel(database: Reader, channel_id: int) -> list[Group]:
    return await database.fetch_as(
        group_from, "SELECT * FROM groups WHERE channel_id = ? ORDER BY name_key", (channel_id,)
    )


async def groups_in_guild(database: Reader, guild_id: int) -> list[Group]:
    return await database.fetch_as(
        group_from, "SELECT * FROM groups WHERE guild_id = ? ORDER BY name_key", (guild_id,)
    )


async def groups_of_user(database: Reader, guild_id: int | None, user_id: int) -> list[Group]:
    """The groups whose roster has the user, in one server or (guild_id None) anywhere."""
    return await database.fetch_as(
        group_from,
        """
        SELECT g.* FROM groups AS g JOIN members AS m ON m.group_id = g.id
        WHERE m.user_id = ? AND (? IS NULL OR g.guild_id = ?)
        ORDER BY g.name_key
        """,
        (user_id, guild_id, guild_id),
    )


async def roster(database: Reader, group_id: int) -> list[RosterEntry]:
    rows = await database.fetchall(
        "SELECT user_id, role FROM members WHERE group_id = ? ORDER BY added_at, user_id",
        (group_id,),
    )
    return [RosterEntry(row["user_id"], Role(row["role"])) for row in rows]


async def role_of(database: Reader, group_id: int, user_id: int) -> Role | None:
    value = await database.scalar(
        "SELECT role FROM members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
    )
    return None if value is None else Role(value)


async def put_member(
    tx: Transaction, group_id: int, user_id: int, role: Role, now: datetime
) -> Role | None:
    """Add the user to the roster or change their role; returns the previous role."""
    row = await tx.fetchone(
        "SELECT role FROM members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
    )
    await tx.execute(
        "INSERT INTO members (group_id, user_id, role, added_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role",
        (group_id, user_id, role.value, to_unix(now)),
    )
    return None if row is None else Role(row["role"])


async def remove_member(tx: Transaction, group_id: int, user_id: int) -> bool:
    cursor = await tx.execute(
        "DELETE FROM members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
    )
    return cursor.rowcount > 0


async def update_settings(tx: Transaction, group_id: int, changes: dict[str, Any]) -> None:
    unknown = set(changes) - SETTING_COLUMNS
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")
    if not changes:
        return
    # Column names come from SETTING_COLUMNS only, never from input.
    assignments = ", ".join(f"{column} = ?" for column in sorted(changes))
    values = [changes[column] for column in sorted(changes)]
    await tx.execute(f"UPDATE groups SET {assignments} WHERE id = ?", (*values, group_id))


async def delete_group(tx: Transaction, group_id: int) -> None:
    """Deletes the group and all its data: roster, sessions, RSVPs, absences, swaps and
    case rows and scheduled jobs (by cascade), and its audit entries."""
    await tx.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    await tx.execute("DELETE FROM audit WHERE group_id = ?", (group_id,))


async def delete_guild_data(tx: Transaction, guild_id: int) -> int:
    """Everything the bot holds about a server (it left, or was removed): every group
    with all its data, and the server's audit trail. Returns how many groups went."""
    rows = await tx.fetchall("SELECT id FROM groups WHERE guild_id = ?", (guild_id,))
    group_ids = [row["id"] for row in rows]
    for group_id in group_ids:
        await delete_group(tx, group_id)
    await tx.execute("DELETE FROM audit WHERE guild_id = ?", (guild_id,))
    return len(group_ids)


async def roster_standing(
    database: Reader, guild_id: int | None, user_id: int
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


async def guilds_with_data(database: Reader) -> set[int]:
    """Every server the database holds something about (groups or audit entries)."""
    rows = await database.fetchall("SELECT guild_id FROM groups UNION SELECT guild_id FROM audit")
    return {row["guild_id"] for row in rows}
