"""When each session's reflection window opens: at the session's end.

`ReflectionReconciler` runs inside every change that watches a group (after the rota,
the reminders and the cases): every planned session that has not had its window opened,
and whose window would still be open, has its "open" job, due at the session's end; a
moved session's job moves with it, a cancelled session's is dropped. The window's close
and the release are queued by the opening and the close themselves
(`bot.reflections.service`), so nothing a member writes ever touches the jobs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.groups.store import get_group
from bot.kernel.db import Transaction
from bot.kernel.scheduler import JobScheduler, JobSpec
from bot.reflections import store as reflection_store
from bot.reflections.rules import closes_at
from bot.sessions import store as session_store

OPEN_KIND = "reflections.open"


def open_key(group_id: int, session_id: int) -> str:
    return f"reflections:group:{group_id}:session:{session_id}:open"


class ReflectionReconciler:
    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> None:
        return None

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: None) -> None:
        group = await get_group(tx, group_id)
        if group is None:
            return
        window = timedelta(hours=group.reflection_window_h)
        opened = await reflection_store.sessions_with_windows(tx, group_id)
        jobs = [
            JobSpec(
                OPEN_KIND,
                open_key(group_id, session.id),
                session.ends_at,
                payload={"group_id": group_id, "session_id": session.id},
            )
            for session in await session_store.all_sessions(tx, group_id)
            if not session.cancelled
            and session.id not in opened
            and closes_at(session.ends_at, window) > now
        ]
        await JobScheduler.write_pending(tx, group_id=group_id, kinds=[OPEN_KIND], jobs=jobs)
