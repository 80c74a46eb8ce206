"""The leaders' attendance notes, as scheduled jobs: a member who missed two sessions in a
row, and a session with too few Attending answers 12 hours before it.

`AttendanceReconciler` runs inside every change that watches a group (after the rota,
the reminders, the cases and the reflections): every upcoming session has its answers'
check, due 12 hours before it (`ANSWERS_CHECKED_BEFORE`) and expiring when it starts,
keyed by the session's revision, so a moved session is checked again for its new time
and a cancelled one's check is dropped. A session planned (or moved) less than 12 hours
ahead gets no check: its members have had no time to answer, so the note would say
nothing. A check already made keeps its `done` row and is never made twice; one that is
due and waiting (the bot was down, or Discord failed and it waits to retry) is kept as
it is.

The missed-sessions notes are queued by the recording itself (`bot.attendance.service`),
one per session and member.

Both handlers (in `cogs.attendance`) look again when they run, so a note never says what
is no longer true: `answers_below` counts the answers at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.attendance import store as attendance_store
from bot.attendance.rules import (
    answers_checked_at,
    answers_key,
    attending_threshold,
    too_few_attending,
)
from bot.groups.rules import Group
from bot.groups.store import get_group
from bot.kernel.db import Reader, Transaction
from bot.kernel.scheduler import Job, JobScheduler, JobSpec
from bot.sessions import store as session_store
from bot.sessions.store import Session

MISSED_KIND = "attendance.missed"
ANSWERS_KIND = "attendance.answers"


class AttendanceReconciler:
    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> None:
        return None

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: None) -> None:
        group = await get_group(tx, group_id)
        if group is None:
            return
        waiting = await attendance_store.pending_job_keys(tx, group_id, ANSWERS_KIND)
        jobs = []
        for session in await session_store.upcoming_sessions(tx, group_id, now):
            key = answers_key(group_id, session.id, session.revision)
            due = answers_checked_at(session.starts_at)
            if due > now or key in waiting:
                jobs.append(
                    JobSpec(
                        ANSWERS_KIND,
                        key,
                        due,
                        session.starts_at,
                        {
                            "group_id": group_id,
                            "session_id": session.id,
                            "revision": session.revision,
                        },
                    )
                )
        await JobScheduler.write_pending(tx, group_id=group_id, kinds=[ANSWERS_KIND], jobs=jobs)


@dataclass(frozen=True)
class FewAnswers:
    """A session with too few Attending answers from the group's members."""

    group: Group
    session: Session
    attending: int
    absent: int
    members: int

    @property
    def threshold(self) -> int:
        return attending_threshold(self.members)


async def answers_below(database: Reader, job: Job) -> FewAnswers | None:
    """The answers' check, at the moment it runs: the session (still planned, at the
    revision the job was for) and its members' answers when they are too few, else None."""
    session = await session_store.get_session(database, int(job.payload["session_id"]))
    if session is None or session.cancelled or session.revision != job.payload["revision"]:
        return None
    group = await get_group(database, session.group_id)
    if group is None:
        return None
    members = len(await attendance_store.members_since(database, group.id))
    attending, absent = await attendance_store.answers_of_members(database, session.id, group.id)
    if not too_few_attending(attending, members):
        return None
    return FewAnswers(group, session, attending, absent, members)
