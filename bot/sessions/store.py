"""Planned sessions and the RSVPs given for them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction


@dataclass(frozen=True)
class Session:
    id: int
    group_id: int
    starts_at: datetime
    duration: timedelta
    cancelled: bool
    presenter_id: int | None
    presenter_locked: bool
    event_id: int | None = None
    revision: int = 0  # raised by every move: its reminders are new ones
    presenter_reminded: int | None = None  # who received the presenter reminder
    by_former_member: bool = False  # presented by someone who has since erased their data

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.duration

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(
            id=row["id"],
            group_id=row["group_id"],
            starts_at=from_unix(row["starts_at"]),
            duration=timedelta(minutes=row["duration_min"]),
            cancelled=row["status"] == "cancelled",
            presenter_id=row["presenter_id"],
            presenter_locked=bool(row["presenter_locked"]),
            event_id=row["event_id"],
            revision=row["revision"],
            presenter_reminded=row["presenter_reminded"],
            by_former_member=bool(row["presented_by_former"]),
        )


async def add_sessions(
    tx: Transaction,
    group_id: int,
    starts: Iterable[datetime],
    duration: timedelta,
    now: datetime,
    meeting_format: str | None = None,
) -> list[int]:
    """Add the sessions; `meeting_format` (online, in person) overrides the group's for
    them, None leaves it to the group's setting."""
    ids: list[int] = []
    for start in starts:
        cursor = await tx.execute(
            "INSERT INTO sessions (group_id, starts_at, duration_min, created_at, meeting_format)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                group_id,
                to_unix(start),
                int(duration.total_seconds() // 60),
                to_unix(now),
                meeting_format,
            ),
        )
        assert cursor.lastrowid is not None
        ids.append(cursor.lastrowid)
    return ids


async def get_session(database: Reader, session_id: int) -> Session | None:
    found = await database.fetch_as(
        Session.from_row, "SELECT * FROM sessions WHERE id = ?", (session_id,)
    )
    return found[0] if found else None


UPCOMING_FROM_SECONDS = 3600
"""`upcoming_sessions` asks the database for the sessions from the start of the current
hour and drops those that have started itself: the same question for an hour, so its
answer is remembered that long (see `bot.kernel.db`), where the exact second would ask a
new one every second."""


async def upcoming_sessions(
    database: Reader, group_id: int, now: datetime, limit: int | None = None
) -> list[Session]:
    """Planned (not cancelled) sessions that have not started, soonest first."""
    unix = to_unix(now)
    hour = unix - unix % UPCOMING_FROM_SECONDS
    planned = await database.fetch_as(
        Session.from_row,
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned' AND starts_at > ?"
        " ORDER BY starts_at, id",
        (group_id, hour),
    )
    upcoming = [session for session in planned if session.starts_at > now]
    return upcoming if limit is None else upcoming[:limit]


async def past_sessions(database: Reader, group_id: int, now: datetime) -> list[Session]:
    """Planned sessions that have started, oldest first: the presentation history."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND status = 'planned' AND starts_at <= ?"
        " ORDER BY starts_at, id",
        (group_id, to_unix(now)),
    )
    return [Session.from_row(row) for row in rows]


async def cancel_session(tx: Transaction, session_id: int) -> None:
    await tx.execute(
        "UPDATE sessions SET status = 'cancelled', presenter_id = NULL, presenter_locked = 0"
        " WHERE id = ?",
        (session_id,),
    )
    await tx.execute(
        "UPDATE swaps SET state = 'void' WHERE session_id = ? AND state = 'pending'", (session_id,)
    )


async def move_session(tx: Transaction, session_id: int, start: datetime) -> None:
    """Move a session; a new revision, so its reminders are new ones. Its RSVPs are
    cleared: an answer given for the old time says nothing about the new one (an old
    "Can't make it" would otherwise keep the member out of the rota for a date they may
    well be free on)."""
    await tx.execute(
        "UPDATE sessions SET starts_at = ?, revision = revision + 1 WHERE id = ?",
        (to_unix(start), session_id),
    )
    await tx.execute("DELETE FROM rsvps WHERE session_id = ?", (session_id,))


# -- RSVPs --------------------------------------------------------------------------


async def declines(database: Reader, group_id: int) -> dict[int, set[int]]:
    """Session id to the members who answered "Can't make it"."""
    rows = await database.fetchall(
        "SELECT r.session_id, r.user_id FROM rsvps AS r JOIN sessions AS s ON s.id = r.session_id"
        " WHERE s.group_id = ? AND r.attending = 0",
        (group_id,),
    )
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(row["session_id"], set()).add(row["user_id"])
    return found


async def rsvp_counts(database: Reader, session_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Session id to (attending, can't make it)."""
    ids = list(session_ids)
    if not ids:
        return {}
    marks = ",".join("?" for _ in ids)
    rows = await database.fetchall(
        f"SELECT session_id, sum(attending) AS yes, sum(1 - attending) AS no FROM rsvps"
        f" WHERE session_id IN ({marks}) GROUP BY session_id",
        ids,
    )
    counts = dict.fromkeys(ids, (0, 0))
    for row in rows:
        counts[row["session_id"]] = (int(row["yes"]), int(row["no"]))
    return counts


@dataclass(frozen=True)
class RsvpState:
    """What an RSVP is decided on, read in one statement: the session, the member's role
    in its group (None: not on the roster), their answer so far, the counts so far."""

    session: Session
    role: str | None
    previous: bool | None
    attending: int
    absent: int


RSVP_COUNT_COLUMNS = """
    (SELECT count(*) FROM rsvps WHERE session_id = s.id AND attending = 1) AS yes_,
    (SELECT count(*) FROM rsvps WHERE session_id = s.id AND attending = 0) AS no_
"""
"""The RSVP counts of the session `s` of a statement, as columns; `rsvp_counts_of` reads
them from its rows."""


def rsvp_counts_of(row: sqlite3.Row) -> tuple[int, int]:
    """(attending, can't make it) from a row selecting `RSVP_COUNT_COLUMNS`."""
    return row["yes_"], row["no_"]


async def rsvp_state(database: Reader, session_id: int, user_id: int) -> RsvpState | None:
    row = await database.fetchone(
        f"""
        SELECT s.*,
            (SELECT role FROM members WHERE group_id = s.group_id AND user_id = ?) AS role_,
            (SELECT attending FROM rsvps WHERE session_id = s.id AND user_id = ?) AS previous_,
            {RSVP_COUNT_COLUMNS}
        FROM sessions AS s WHERE s.id = ?
        """,
        (user_id, user_id, session_id),
    )
    if row is None:
        return None
    previous = None if row["previous_"] is None else bool(row["previous_"])
    return RsvpState(Session.from_row(row), row["role_"], previous, *rsvp_counts_of(row))


async def write_rsvp(tx: Transaction, session_id: int, user_id: int, *, attending: bool) -> None:
    await tx.execute(
        "INSERT INTO rsvps (session_id, user_id, attending) VALUES (?, ?, ?)"
        " ON CONFLICT (session_id, user_id) DO UPDATE SET attending = excluded.attending",
        (session_id, user_id, int(attending)),
    )


async def all_sessions(database: Reader, group_id: int) -> list[Session]:
    """Every session of the group, cancelled ones included, oldest first."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? ORDER BY starts_at, id", (group_id,)
    )
    return [Session.from_row(row) for row in rows]


async def set_event_id(tx: Transaction, session_id: int, event_id: int | None) -> None:
    await tx.execute("UPDATE sessions SET event_id = ? WHERE id = ?", (event_id, session_id))


async def mirrored_sessions(database: Reader, group_id: int) -> list[Session]:
    """Every session of the group that has a Scheduled Event on record, oldest first."""
    rows = await database.fetchall(
        "SELECT * FROM sessions WHERE group_id = ? AND event_id IS NOT NULL ORDER BY starts_at, id",
        (group_id,),
    )
    return [Session.from_row(row) for row in rows]


async def mark_presenter_reminded(tx: Transaction, session_id: int, presenter_id: int) -> None:
    """The presenter reminder of the session reached `presenter_id` (their slot then stays
    theirs when the rota is re-planned, unless they can no longer present)."""
    await tx.execute(
        # only while they still hold the slot: a presenter who erased their data (or lost
        # the slot) while the reminder was on its way is not written back
        "UPDATE sessions SET presenter_reminded = ? WHERE id = ? AND presenter_id = ?",
        (presenter_id, session_id, presenter_id),
    )
