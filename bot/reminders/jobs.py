"""Keeping a group's reminder jobs, and the reminders it has posted, in step with its
sessions and settings.

`ReminderReconciler` runs inside the transaction of every change that watches a group
(sessions planned, moved or cancelled, reminder offsets changed, roster changes), so the
jobs change together with what they are about: a crash can never leave a session without
its reminders. Every upcoming session gets its jobs (re)queued and the jobs of sessions
that are gone are dropped. A reminder already sent keeps its `done` row, so re-planning
never sends it twice; a moved session has new keys and so new reminders, and so has a
new presenter: one who takes over a slot after its presenter reminder went out gets it
at once (it is due already). The channel
reminders already posted for a session that was cancelled or moved are taken off the
record and handed back as a `RemindersToRetire` notice, so they stop offering RSVP buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.groups.store import get_group
from bot.kernel.db import Transaction
from bot.kernel.scheduler import JobScheduler, JobSpec
from bot.reminders import store as reminder_store
from bot.reminders.rules import ReminderKind, offsets_from_minutes, plan_reminders
from bot.sessions import store as session_store

JOB_KIND = {kind: f"reminder.{kind.value}" for kind in ReminderKind}


@dataclass(frozen=True)
class RemindersToRetire:
    """Notice: channel reminders posted for a session that was cancelled (`new_start`
    None) or moved from `old_start` to `new_start`; each is (channel id, message id)."""

    group_id: int
    session_id: int
    posted: list[tuple[int, int]]
    old_start: datetime
    new_start: datetime | None


class ReminderReconciler:
    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> None:
        return None

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: None) -> None:
        group = await get_group(tx, group_id)
        if group is None:
            return
        offsets = offsets_from_minutes(
            group.remind_channel_min, group.remind_presenter_min, group.remind_leaders_min
        )
        jobs = [
            JobSpec(
                JOB_KIND[reminder.kind],
                reminder.key,
                reminder.due_at,
                reminder.expires_at,
                {
                    "group_id": group.id,
                    "session_id": session.id,
                    "presenter_id": session.presenter_id,
                },
            )
            for session in await session_store.upcoming_sessions(tx, group.id, now)
            for reminder in plan_reminders(
                session.id,
                group.id,
                session.starts_at,
                offsets,
                now,
                revision=session.revision,
                presenter_id=session.presenter_id,
            )
        ]
        await JobScheduler.write_pending(
            tx, group_id=group.id, kinds=list(JOB_KIND.values()), jobs=jobs
        )
        await _take_outdated_messages(tx, group_id)


async def _take_outdated_messages(tx: Transaction, group_id: int) -> None:
    by_session: dict[int, RemindersToRetire] = {}
    for posted in await reminder_store.take_outdated_reminders(tx, group_id):
        notice = by_session.setdefault(
            posted.session_id,
            RemindersToRetire(
                group_id,
                posted.session_id,
                [],
                posted.posted_for,
                None if posted.cancelled else posted.starts_at,
            ),
        )
        notice.posted.append((posted.channel_id, posted.message_id))
    for notice in by_session.values():
        tx.notify(notice)
