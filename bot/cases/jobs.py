"""Keeping every held case note on its way to deletion, and deleting it on time.

`CaseReconciler` runs inside the transaction of every change that watches a group, after
the rota and the reminders: a member taken off the roster loses what they sent at once,
and every session that holds notes has its purge job, due when the session ends plus the
group's retention (at once for a cancelled session). A moved session, or a new retention,
re-times the job in the same transaction.

The purge job deletes the session's notes and flags, erases them from the disk
(`Transaction.erase_from_disk`) and, in the same transaction, queues the leaders' "the
notes are gone" notice as a job of its own: a crash after the purge can neither lose the
notice nor send it twice, and a retry of a purge that already happened finds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.cases import store as case_store
from bot.cases.rules import purge_time
from bot.groups.store import get_group
from bot.kernel.db import Database, Transaction
from bot.kernel.scheduler import Job, JobScheduler, JobSpec
from bot.sessions import store as session_store

PURGE_KIND = "cases.purge"
PURGED_NOTICE_KIND = "cases.purged"


def purge_key(group_id: int, session_id: int) -> str:
    return f"cases:group:{group_id}:session:{session_id}:purge"


def purged_notice_key(group_id: int, session_id: int) -> str:
    return f"cases:group:{group_id}:session:{session_id}:purged-notice"


class CaseReconciler:
    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> None:
        return None

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: None) -> None:
        group = await get_group(tx, group_id)
        if group is None:
            return
        if await case_store.delete_cases_of_non_members(tx, group_id):
            tx.erase_from_disk()
        retention = timedelta(hours=group.case_retention_h)
        jobs = []
        for session_id in await case_store.sessions_holding_cases(tx, group_id):
            session = await session_store.get_session(tx, session_id)
            assert session is not None  # a case row's session exists (foreign key)
            due = now if session.cancelled else purge_time(session.ends_at, retention)
            jobs.append(
                JobSpec(
                    PURGE_KIND,
                    purge_key(group_id, session_id),
                    due,
                    payload={"group_id": group_id, "session_id": session_id},
                )
            )
        await JobScheduler.write_pending(tx, group_id=group_id, kinds=[PURGE_KIND], jobs=jobs)


async def purge_session(database: Database, job: Job, now: datetime) -> int:
    """The purge job: delete the session's notes and flags; returns how many went."""
    group_id, session_id = int(job.payload["group_id"]), int(job.payload["session_id"])
    async with database.transaction() as tx:
        gone = await case_store.delete_session_cases(tx, session_id)
        if gone:
            tx.erase_from_disk()
            await JobScheduler.queue(
                tx,
                JobSpec(
                    PURGED_NOTICE_KIND,
                    purged_notice_key(group_id, session_id),
                    now,
                    payload={"group_id": group_id, "session_id": session_id, "count": gone},
                    group_id=group_id,
                ),
            )
    return gone
