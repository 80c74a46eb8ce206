"""`python -m bot status`: what the bot has planned and done, read from its database
only (read-only, no Discord): for a glance, or for cron (`--json`, and the exit status).

Nothing confidential is shown: counts of case notes and reflections, never their text;
groups by name and id, people not at all.

Something needs attention (exit status 1) when a job is overdue by more than
`overdue_minutes` (the bot is down, or stuck: due work is not being done), or a job has
failed for good within the last `failed_hours` (a reminder or a deletion that will not
happen by itself).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.kernel.clock import from_unix, to_unix
from bot.ops import OpsError, printable
from bot.ops.lock import is_locked
from bot.ops.readonly import latest_schema, open_read_only, schema_version
from bot.reminders.jobs import JOB_KIND

UPCOMING_LIMIT = 20


@dataclass(frozen=True)
class GroupLine:
    id: int
    guild_id: int
    name: str
    members: int
    next_session: datetime | None


@dataclass(frozen=True)
class SessionLine:
    id: int
    group_id: int
    group_name: str
    starts_at: datetime
    has_presenter: bool


@dataclass(frozen=True)
class JobLine:
    id: int
    kind: str
    due_at: datetime
    minutes_late: int


@dataclass(frozen=True)
class Status:
    database: str
    schema: int
    latest_schema: int
    bot_running: bool
    groups: list[GroupLine]
    upcoming: list[SessionLine]
    jobs: dict[str, int]  # by state: pending, running, done, skipped, failed
    overdue: int
    failed_recently: dict[str, int]  # by kind
    oldest_overdue: JobLine | None
    last_reminder: datetime | None
    last_reminder_kind: str | None
    case_notes: int
    open_reflection_windows: int
    problems: list[str] = field(default_factory=list)


def read_status(
    database_path: Path,
    now: datetime,
    *,
    days: int = 14,
    overdue_minutes: int = 15,
    failed_hours: int = 24,
) -> Status:
    with closing(open_read_only(database_path)) as connection:
        version, latest = schema_version(connection), latest_schema()
        if version > latest:
            raise OpsError(
                f"the database {database_path} was written by a newer version of the bot "
                f"(schema {version}; this version knows up to {latest})"
            )
        if version < latest:
            raise OpsError(
                f"the database {database_path} is at schema {version}, not {latest}: start "
                "the bot once (it migrates the database) before asking for its status"
            )
        try:
            status = _read(connection, database_path, now, days, failed_hours)
        except sqlite3.DatabaseError as error:
            raise OpsError(f"the database {database_path} is unreadable: {error}") from None
    return _judged(status, overdue_minutes, failed_hours)


def _read(
    connection: sqlite3.Connection, path: Path, now: datetime, days: int, failed_hours: int
) -> Status:
    at = to_unix(now)
    overdue_rows = _overdue(connection, at)
    oldest = None
    if overdue_rows:
        row = overdue_rows[0]
        late = (at - row["due_at"]) // 60
        oldest = JobLine(row["id"], row["kind"], from_unix(row["due_at"]), late)
    last = connection.execute(
        "SELECT kind, finished_at FROM jobs WHERE state = 'done' AND kind IN"
        f" ({', '.join('?' for _ in JOB_KIND)}) ORDER BY finished_at DESC LIMIT 1",
        tuple(JOB_KIND.values()),
    ).fetchone()
    return Status(
        database=str(path),
        schema=schema_version(connection),
        latest_schema=latest_schema(),
        bot_running=is_locked(path),
        groups=_groups(connection, at),
        upcoming=_upcoming(connection, at, at + days * 86400),
        jobs={
            row["state"]: row["n"]
            for row in connection.execute(
                "SELECT state, count(*) AS n FROM jobs GROUP BY state ORDER BY state"
            )
        },
        overdue=len(overdue_rows),
        failed_recently={
            row["kind"]: row["n"]
            for row in connection.execute(
                "SELECT kind, count(*) AS n FROM jobs WHERE state = 'failed'"
                " AND finished_at >= ? GROUP BY kind ORDER BY kind",
                (at - failed_hours * 3600,),
            )
        },
        oldest_overdue=oldest,
        last_reminder=None if last is None else from_unix(last["finished_at"]),
        last_reminder_kind=None if last is None else last["kind"],
        case_notes=connection.execute("SELECT count(*) FROM cases WHERE kind = 'note'").fetchone()[
            0
        ],
        open_reflection_windows=connection.execute(
            "SELECT count(*) FROM reflection_windows WHERE state = 'open'"
        ).fetchone()[0],
    )


def _overdue(connection: sqlite3.Connection, at: int) -> list[sqlite3.Row]:
    """Due work not done: pending jobs whose time has come, and running jobs whose lease
    ran out (their process died), oldest first."""
    return list(
        connection.execute(
            "SELECT id, kind, due_at FROM jobs"
            " WHERE (state = 'pending' AND due_at <= ?) OR (state = 'running' AND lease_until <= ?)"
            " ORDER BY due_at, id",
            (at, at),
        )
    )


def _groups(connection: sqlite3.Connection, at: int) -> list[GroupLine]:
    rows = connection.execute(
        """
        SELECT g.id, g.guild_id, g.name,
               (SELECT count(*) FROM members m WHERE m.group_id = g.id) AS members,
               (SELECT min(s.starts_at) FROM sessions s WHERE s.group_id = g.id
                  AND s.status = 'planned' AND s.starts_at >= ?) AS next_at
        FROM groups g ORDER BY g.id
        """,
        (at,),
    )
    return [
        GroupLine(
            row["id"],
            row["guild_id"],
            printable(row["name"]),
            row["members"],
            None if row["next_at"] is None else from_unix(row["next_at"]),
        )
        for row in rows
    ]


def _upcoming(connection: sqlite3.Connection, at: int, until: int) -> list[SessionLine]:
    rows = connection.execute(
        """
        SELECT s.id, s.group_id, g.name, s.starts_at, s.presenter_id IS NOT NULL AS presenter
        FROM sessions s JOIN groups g ON g.id = s.group_id
        WHERE s.status = 'planned' AND s.starts_at >= ? AND s.starts_at < ?
        ORDER BY s.starts_at, s.id LIMIT ?
        """,
        (at, until, UPCOMING_LIMIT),
    )
    return [
        SessionLine(
            row["id"],
            row["group_id"],
            printable(row["name"]),
            from_unix(row["starts_at"]),
            bool(row["presenter"]),
        )
        for row in rows
    ]


def _judged(status: Status, overdue_minutes: int, failed_hours: int) -> Status:
    problems = []
    late = status.oldest_overdue
    if late is not None and late.minutes_late > overdue_minutes:
        running = "" if status.bot_running else " (the bot is not running)"
        problems.append(
            f"job {late.id} ({late.kind}) is {late.minutes_late} minutes overdue{running}"
        )
    if status.failed_recently:
        kinds = ", ".join(f"{kind} x{count}" for kind, count in status.failed_recently.items())
        problems.append(f"jobs failed for good in the last {failed_hours} hours: {kinds}")
    return replace(status, problems=problems)


def _when(instant: datetime | None) -> str:
    return "none" if instant is None else instant.strftime("%Y-%m-%d %H:%M UTC")


def render(status: Status, days: int) -> list[str]:
    running = "running" if status.bot_running else "not running"
    lines = [f"database {status.database}, schema {status.schema}; the bot is {running}"]
    lines.append(f"groups: {len(status.groups)}")
    lines += [
        f"  #{g.id} {g.name} (server {g.guild_id}): {g.members} on the roster, "
        f"next session {_when(g.next_session)}"
        for g in status.groups
    ]
    lines.append(f"sessions in the next {days} days: {len(status.upcoming)}")
    lines += [
        f"  {_when(s.starts_at)}  #{s.group_id} {s.group_name}, session {s.id}"
        f"{'' if s.has_presenter else ', no presenter'}"
        for s in status.upcoming
    ]
    jobs = ", ".join(f"{count} {state}" for state, count in status.jobs.items()) or "none"
    lines.append(f"jobs: {jobs}; {status.overdue} overdue")
    late = status.oldest_overdue
    if late is not None:
        lines.append(
            f"oldest overdue job: {late.id} ({late.kind}), due {_when(late.due_at)}, "
            f"{late.minutes_late} minutes ago"
        )
    if status.failed_recently:
        kinds = ", ".join(f"{kind} x{count}" for kind, count in status.failed_recently.items())
        lines.append(f"failed for good recently: {kinds}")
    lines.append(
        f"last reminder sent: {_when(status.last_reminder)}"
        + (f" ({status.last_reminder_kind})" if status.last_reminder_kind else "")
    )
    lines.append(
        f"held: {status.case_notes} case note(s); "
        f"{status.open_reflection_windows} reflection window(s) open"
    )
    lines += [f"needs attention: {problem}" for problem in status.problems]
    if not status.problems:
        lines.append("all well")
    return lines


def as_json(status: Status) -> dict[str, Any]:
    """The status as JSON-ready values (instants as ISO 8601 in UTC)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    return {key: plain(value) for key, value in asdict(status).items()}
