"""The SQL of attendance records, of the answers they start from, and of the leaders'
log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.attendance.log import LedSession
from bot.attendance.rules import RecordedSession
from bot.groups.rules import MeetingFormat, Role
from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction
from bot.sessions.store import Session


async def put_record(
    tx: Transaction, session_id: int, present: Iterable[int], now: datetime
) -> bool:
    """Record exactly `present` for the session, replacing its earlier record; returns
    whether there was one."""
    earlier = await tx.scalar("SELECT attendance_at FROM sessions WHERE id = ?", (session_id,))
    await tx.execute("DELETE FROM attendance WHERE session_id = ?", (session_id,))
    for user_id in present:
        await tx.execute(
            "INSERT INTO attendance (session_id, user_id) VALUES (?, ?)", (session_id, user_id)
        )
    await tx.execute(
        "UPDATE sessions SET attendance_at = ? WHERE id = ?", (to_unix(now), session_id)
    )
    return earlier is not None


async def present_at(database: Reader, session_id: int) -> list[int] | None:
    """Who was recorded present at the session, in id order; None when not recorded."""
    recorded = await database.scalar(
        "SELECT attendance_at FROM sessions WHERE id = ?", (session_id,)
    )
    if recorded is None:
        return None
    rows = await database.fetchall(
        "SELECT user_id FROM attendance WHERE session_id = ? ORDER BY user_id", (session_id,)
    )
    return [row["user_id"] for row in rows]


async def latest_records(
    database: Reader, group_id: int, up_to: datetime, limit: int
) -> list[RecordedSession]:
    """The group's most recent sessions with attendance recorded that started at or
    before `up_to`, newest first."""
    rows = await database.fetchall(
        "SELECT id, starts_at FROM sessions WHERE group_id = ? AND status = 'planned'"
        " AND attendance_at IS NOT NULL AND starts_at <= ? ORDER BY starts_at DESC, id DESC"
        " LIMIT ?",
        (group_id, to_unix(up_to), limit),
    )
    found = []
    for row in rows:
        people = await database.fetchall(
            "SELECT user_id FROM attendance WHERE session_id = ?", (row["id"],)
        )
        found.append(
            RecordedSession(
                row["id"], from_unix(row["starts_at"]), frozenset(p["user_id"] for p in people)
            )
        )
    return found


async def members_since(database: Reader, group_id: int) -> dict[int, datetime]:
    """The group's members (not its leaders) and when each joined the roster."""
    rows = await database.fetchall(
        "SELECT user_id, added_at FROM members WHERE group_id = ? AND role = 'member'",
        (group_id,),
    )
    return {row["user_id"]: from_unix(row["added_at"]) for row in rows}


async def next_session_after(database: Reader, session: Session) -> Session | None:
    """The group's next planned session after `session`."""
    row = await database.fetchone(
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned'"
        " AND (starts_at > ? OR (starts_at = ? AND id > ?)) ORDER BY starts_at, id LIMIT 1",
        (session.group_id, to_unix(session.starts_at), to_unix(session.starts_at), session.id),
    )
    return None if row is None else Session.from_row(row)


async def started_sessions(
    database: Reader, group_id: int, now: datetime, limit: int
) -> list[tuple[Session, bool]]:
    """The group's planned sessions that have started, most recent first, each with
    whether its attendance is recorded."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned' AND starts_at <= ?"
        " ORDER BY starts_at DESC, id DESC LIMIT ?",
        (group_id, to_unix(now), limit),
    )
    return [(Session.from_row(row), row["attendance_at"] is not None) for row in rows]


async def attending_members(database: Reader, session_id: int, group_id: int) -> list[int]:
    """Who answered Attending for the session and is on the group's roster, in id order."""
    rows = await database.fetchall(
        "SELECT r.user_id FROM rsvps r JOIN members m ON m.user_id = r.user_id"
        " AND m.group_id = ? WHERE r.session_id = ? AND r.attending = 1 ORDER BY r.user_id",
        (group_id, session_id),
    )
    return [row["user_id"] for row in rows]


async def answers_of_members(database: Reader, session_id: int, group_id: int) -> tuple[int, int]:
    """(Attending, Can't make it) answers for the session from the group's members (not
    its leaders)."""
    row = await database.fetchone(
        "SELECT coalesce(sum(r.attending), 0) AS yes, coalesce(sum(1 - r.attending), 0) AS no"
        " FROM rsvps r JOIN members m ON m.user_id = r.user_id AND m.group_id = ?"
        " WHERE r.session_id = ? AND m.role = 'member'",
        (group_id, session_id),
    )
    assert row is not None
    return int(row["yes"]), int(row["no"])


async def group_meeting_format(database: Reader, group_id: int) -> MeetingFormat:
    value = await database.scalar("SELECT meeting_format FROM groups WHERE id = ?", (group_id,))
    return MeetingFormat(value or MeetingFormat.IN_PERSON)


async def pending_job_keys(database: Reader, group_id: int, kind: str) -> set[str]:
    rows = await database.fetchall(
        "SELECT key FROM jobs WHERE group_id = ? AND kind = ? AND state = 'pending'",
        (group_id, kind),
    )
    return {row["key"] for row in rows}


async def sessions_led(
    database: Reader, user_id: int, group_id: int | None, now: datetime
) -> list[LedSession]:
    """The sessions `user_id` led: every started, not cancelled session since they joined
    the roster of each group they lead or co-lead (in every server; only `group_id`'s
    when given), oldest first. The members present are counted without the group's
    leaders and co-leaders."""
    rows = await database.fetchall(
        """
        SELECT s.starts_at, s.duration_min, s.attendance_at, g.name, g.timezone, m.role,
               coalesce(s.meeting_format, g.meeting_format) AS meeting_format,
               (SELECT count(*) FROM attendance a WHERE a.session_id = s.id
                  AND a.user_id NOT IN (SELECT l.user_id FROM members l
                                        WHERE l.group_id = g.id AND l.role != 'member'))
                 AS present
        FROM members m
        JOIN groups g ON g.id = m.group_id
        JOIN sessions s ON s.group_id = g.id
        WHERE m.user_id = ? AND m.role IN ('leader', 'co-leader') AND (? IS NULL OR g.id = ?)
          AND s.status = 'planned' AND s.starts_at <= ? AND s.starts_at >= m.added_at
        ORDER BY s.starts_at, g.name_key, s.id
        """,
        (user_id, group_id, group_id, to_unix(now)),
    )
    return [
        LedSession(
            starts_at=from_unix(row["starts_at"]),
            timezone=row["timezone"],
            group=row["name"],
            role=Role(row["role"]),
            minutes=row["duration_min"],
            meeting_format=MeetingFormat(row["meeting_format"]),
            present=None if row["attendance_at"] is None else int(row["present"]),
        )
        for row in rows
    ]


async def leads_any_group(database: Reader, user_id: int) -> bool:
    found = await database.scalar(
        "SELECT 1 FROM members WHERE user_id = ? AND role IN ('leader', 'co-leader') LIMIT 1",
        (user_id,),
    )
    return found is not None
