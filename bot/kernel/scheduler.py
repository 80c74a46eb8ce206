"""One scheduler path for every "do X at time T".

The database (`jobs` table) says what is due and what was done. APScheduler's
AsyncIOScheduler holds a single in-memory timer that wakes the bot when the earliest job
falls due; nothing about the jobs themselves lives in memory, so a restart loses nothing.

Running a job:
1. claim it in one transaction (`pending` -> `running`, with a lease) — only one process
   or coroutine can win that UPDATE, so two bots on one database never both run a job;
2. run its handler (the handler sends with a nonce derived from the job, so a repeat
   after a crash between sending and recording is collapsed by Discord);
3. record the outcome in a second transaction: `done`, or back to `pending` with a
   back-off if the handler raised, so a failure is retried, not lost. A job that expires
   (a reminder: when its session starts) is retried for as long as it is useful; only a
   job without an expiry is given up, as `failed`, after `MAX_ATTEMPTS`.
A job whose lease runs out (the process died while running it) is claimed again.
A job past its `expires_at` (e.g. its session has started) is marked `skipped`.

The claim is not held across the handler on purpose: a write transaction held over a
network call would block every other write (and every user command) for its duration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.kernel.clock import Clock, from_unix, to_unix
from bot.kernel.db import Database, Transaction
from bot.kernel.logs import log_context, log_failure

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
STOP_GRACE = timedelta(seconds=10)
WAKE_RETRY = timedelta(seconds=30)
MAX_RUNNING = 1_000
"""Jobs run side by side at most. A burst's jobs wait in discord.py for Discord's limits
once handed over; at about 50 requests a second the last of a thousand goes out some
20 seconds later, well within its claim's lease."""
CLAIM_BATCH = 100  # jobs claimed in one transaction, at most
_WAKE_JOB_ID = "wake"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    due_at: datetime
    expires_at: datetime | None
    payload: Mapping[str, Any]
    attempts: int
    group_id: int | None = None


JobHandler = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """A job to queue: what to run (`kind`), under which unique `key`, and when. A job
    about a group names it (`group_id`): deleting the group deletes its jobs."""

    kind: str
    key: str
    due_at: datetime
    expires_at: datetime | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    group_id: int | None = None


async def _upsert(tx: Transaction, job: JobSpec) -> None:
    """Queue `job`, or update the pending job with its key. A pending job that is waiting
    out a back-off after a failure keeps its retry time while it is otherwise unchanged."""
    await tx.execute(
        """
        INSERT INTO jobs (kind, key, due_at, expires_at, payload, group_id)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET
            kind = excluded.kind, due_at = excluded.due_at,
            expires_at = excluded.expires_at, payload = excluded.payload,
            group_id = excluded.group_id, attempts = 0, last_error = NULL
        WHERE jobs.state = 'pending' AND (
            jobs.kind IS NOT excluded.kind OR jobs.expires_at IS NOT excluded.expires_at
            OR jobs.payload IS NOT excluded.payload OR jobs.group_id IS NOT excluded.group_id
            OR (jobs.attempts = 0 AND jobs.due_at IS NOT excluded.due_at))
        """,
        (
            job.kind,
            job.key,
            to_unix(job.due_at),
            None if job.expires_at is None else to_unix(job.expires_at),
            _payload_json(job.payload),
            job.group_id,
        ),
    )
    tx.jobs_changed = True


_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True)


def _payload_json(payload: Mapping[str, Any]) -> str:
    """A job's payload as stored: `json.dumps(payload, sort_keys=True)`, with one encoder
    for all (making one per call was most of the cost of comparing jobs)."""
    return _PAYLOAD_ENCODER.encode(dict(payload))


def _upsert_would_write(row: sqlite3.Row | None, job: JobSpec, group_id: int | None) -> bool:
    """Whether `_upsert` of `job` for `group_id` would insert or change anything, given
    the job's row now (None: there is none): the same test as its ON CONFLICT ... WHERE."""
    if row is None:
        return True
    if row["state"] != "pending":
        return False
    expires_at = None if job.expires_at is None else to_unix(job.expires_at)
    return bool(
        row["kind"] != job.kind
        or row["expires_at"] != expires_at
        or row["payload"] != _payload_json(job.payload)
        or row["group_id"] != group_id
        or (row["attempts"] == 0 and row["due_at"] != to_unix(job.due_at))
    )


async def _skip(tx: Transaction, row: sqlite3.Row, now: int) -> None:
    await tx.execute(
        "UPDATE jobs SET state = 'skipped', finished_at = ?, lease_until = NULL WHERE id = ?",
        (now, row["id"]),
    )
    log.info(
        "skipped job %s: no longer useful",
        row["key"],
        extra={"job": row["id"], "job_kind": row["kind"]},
    )


def _job(row: sqlite3.Row) -> Job:
    """A claimed job (its attempt counted)."""
    return Job(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        due_at=from_unix(row["due_at"]),
        expires_at=None if row["expires_at"] is None else from_unix(row["expires_at"]),
        payload=json.loads(row["payload"]),
        attempts=row["attempts"] + 1,
        group_id=row["group_id"],
    )


def retry_delay(attempts: int) -> timedelta:
    """Back-off after a failed attempt: 30 s, 1 min, 2 min, ... capped at 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


class JobScheduler:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._handlers: dict[str, JobHandler] = {}
        self._apscheduler: AsyncIOScheduler | None = None
        self._run_lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self._wakes: set[asyncio.Task[Any]] = set()
        self._stopping = False
        clock.on_change(self.rearm)
        # Whatever transaction writes jobs, the timer is re-armed once it commits.
        database.on_jobs_committed(self.rearm)

    # -- registration and queueing -------------------------------------------------

    def register(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        self._handlers[kind] = handler

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        *,
        expires_at: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a job, or replace the pending one with the same key. A job already done
        keeps its record and is not re-run."""
        job = JobSpec(kind, key, due_at, expires_at, dict(payload or {}))
        async with self._database.transaction() as tx:
            await _upsert(tx, job)

    async def cancel(self, key_prefix: str) -> int:
        """Drop the pending jobs whose key starts with `key_prefix`; returns how many."""
        async with self._database.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM jobs WHERE state = 'pending' AND substr(key, 1, ?) = ?",
                (len(key_prefix), key_prefix),
            )
            tx.jobs_changed = True
            return cursor.rowcount

    @staticmethod
    async def queue(tx: Transaction, job: JobSpec) -> None:
        """Inside the caller's transaction, queue one job (or update the pending one with
        its key): it runs only if the transaction commits."""
        await _upsert(tx, job)

    @staticmethod
    async def write_pending(
        tx: Transaction, *, group_id: int, kinds: Collection[str], jobs: Sequence[JobSpec]
    ) -> None:
        """Inside the caller's transaction, make the group's pending jobs of `kinds`
        exactly `jobs`: stale ones dropped, new ones queued, changed ones updated. Jobs
        already done keep their record and are not re-run. The scheduler re-arms itself
        when the transaction commits, so the jobs change together with what they are
        about."""
        wanted = {job.key: job for job in jobs}
        kind_marks = ",".join("?" for _ in kinds)
        key_marks = ",".join("?" for _ in wanted)
        # One read of what is there, so that only what changes is written: every change
        # to a group reconciles all of its jobs, and most of them stay as they are.
        rows = await tx.fetchall(
            "SELECT key, state, kind, due_at, expires_at, payload, group_id, attempts FROM jobs"
            f" WHERE (state = 'pending' AND group_id = ? AND kind IN ({kind_marks}))"
            + (f" OR key IN ({key_marks})" if wanted else ""),
            (group_id, *kinds, *wanted),
        )
        stored = {row["key"]: row for row in rows}
        for key, row in stored.items():
            stale = row["state"] == "pending" and row["group_id"] == group_id
            if stale and row["kind"] in kinds and key not in wanted:
                await tx.execute("DELETE FROM jobs WHERE key = ? AND state = 'pending'", (key,))
        for key, job in wanted.items():
            if _upsert_would_write(stored.get(key), job, group_id):
                await _upsert(tx, replace(job, group_id=group_id))

    # -- what a job has done so far ------------------------------------------------

    @staticmethod
    async def recipients_reached(database: Database, job: Job) -> set[int]:
        """Who a job that sends to several people has reached in its earlier attempts."""
        rows = await database.fetchall(
            "SELECT recipient_id FROM job_recipients WHERE job_id = ?", (job.id,)
        )
        return {row["recipient_id"] for row in rows}

    @staticmethod
    async def record_reached(database: Database, job: Job, recipient_id: int) -> None:
        """The job has reached `recipient_id`: a retry of the job skips them."""
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO job_recipients (job_id, recipient_id) VALUES (?, ?)",
                (job.id, recipient_id),
            )

    @staticmethod
    async def forget_recipients(tx: Transaction, key: str) -> None:
        """Drop the record of whom the job `key` reached (once it no longer matters)."""
        await tx.execute(
            "DELETE FROM job_recipients WHERE job_id IN (SELECT id FROM jobs WHERE key = ?)",
            (key,),
        )

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start the timer and arm it from the database; overdue jobs run at once."""
        self._apscheduler = AsyncIOScheduler(timezone="UTC")
        self._apscheduler.start()
        self.rearm()

    async def stop(self) -> None:
        """Stop claiming jobs, let the job in hand finish, then stop the timer.

        (Shutting APScheduler down first would cancel a handler halfway through a send;
        its lease would make it retried, but finishing it is cleaner.)"""
        self._stopping = True
        if self._wakes:
            await asyncio.wait(set(self._wakes), timeout=STOP_GRACE.total_seconds())
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=False)
            self._apscheduler = None

    # -- waking --------------------------------------------------------------------

    def rearm(self) -> None:
        """Wake up soon to look at the database (cheap; the lookup happens in the wake)."""
        if self._apscheduler is None or self._stopping:
            return
        self._idle.clear()
        self._wake_in(timedelta(0))

    def _wake_in(self, delay: timedelta) -> None:
        assert self._apscheduler is not None
        run_at = datetime.now(self._apscheduler.timezone) + max(delay, timedelta(0))
        self._apscheduler.add_job(
            self._wake,
            "date",
            run_date=run_at,
            id=_WAKE_JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            # A wake may be re-armed while one is running; run_due serialises them, and
            # APScheduler would otherwise drop the new run ("max instances reached").
            max_instances=4,
        )

    async def _wake(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._wakes.add(task)
        try:
            await self.run_due()
            await self._arm_next()
        except Exception as error:
            # The database failed (locked past the busy timeout, disk error...). The timer
            # must not die with it: nothing else would wake the bot again.
            log_failure(log, "the scheduler's wake", error)
            self._idle.set()
            if self._apscheduler is not None and not self._stopping:
                self._wake_in(WAKE_RETRY)
        finally:
            if task is not None:
                self._wakes.discard(task)

    async def _arm_next(self) -> None:
        next_at = await self._next_due()
        if next_at is None:
            self._idle.set()
            return
        delay = next_at - self._clock.now()
        if delay <= timedelta(0) and not self._stopping:
            self._wake_in(timedelta(0))
            return
        # Nothing is due now: the bot is idle until real time catches up with next_at.
        self._idle.set()
        if self._apscheduler is not None and not self._stopping:
            self._wake_in(delay)

    async def _next_due(self) -> datetime | None:
        value = await self._database.scalar(
            """
            SELECT min(at) FROM (
                SELECT min(due_at) AS at FROM jobs WHERE state = 'pending'
                UNION ALL
                SELECT min(lease_until) FROM jobs WHERE state = 'running'
            )
            """
        )
        return None if value is None else from_unix(int(value))

    async def wait_idle(self) -> None:
        """Wait until nothing is due at the clock's current time (tests bound it)."""
        await self._idle.wait()

    # -- running -------------------------------------------------------------------

    async def run_due(self) -> int:
        """Run every job due now; returns how many handlers ran.

        Jobs of different groups run side by side (up to `MAX_RUNNING`), so that a
        burst (every group's reminder at the same second) is handed to discord.py at once
        and paced there by Discord's limits, and a job held up (a DM waiting its turn, a
        send that discord.py retries) holds up nobody else's. A group's jobs, and the
        jobs of no group, still run one at a time, in the order they fall due: the next
        is claimed only once the one before has finished, so it sees what that one did."""
        ran = 0
        async with self._run_lock:
            lanes: dict[int | None, asyncio.Task[None]] = {}  # running, by group
            done: list[asyncio.Task[None]] = []
            try:
                while not self._stopping:
                    for group_id, lane in list(lanes.items()):
                        if lane.done():
                            done.append(lanes.pop(group_id))
                    room = MAX_RUNNING - len(lanes)
                    jobs = (
                        await self._claim_next(min(room, CLAIM_BATCH), busy=lanes) if room else []
                    )
                    for job in jobs:
                        lanes[job.group_id] = asyncio.create_task(self._run_logged(job))
                    ran += len(jobs)
                    if jobs:
                        await asyncio.sleep(0)  # let them start before claiming more
                    elif lanes:
                        # once one finishes, its group may have its next job due
                        await asyncio.wait(lanes.values(), return_when=asyncio.FIRST_COMPLETED)
                    else:
                        break
            finally:
                if lanes:  # the claimed jobs finish even if claiming failed
                    await asyncio.wait(lanes.values())
                    done += lanes.values()
        for lane in done:
            lane.result()  # what a job's run raised (or a crash it simulated) goes on up
        return ran

    async def _run_logged(self, job: Job) -> None:
        # What the job logs (and discord.py while running it) names its job, group and
        # session in JSON logs.
        with log_context(
            job=job.id,
            job_kind=job.kind,
            group_id=job.payload.get("group_id"),
            session_id=job.payload.get("session_id"),
        ):
            await self._run(job)

    async def _claim_next(self, limit: int = 1, *, busy: Collection[int | None] = ()) -> list[Job]:
        """Claim the next jobs due, oldest first: at most `limit`, one per group, none of
        a group in `busy` (None: the jobs of no group). Those past their expiry are
        marked skipped instead."""
        while True:
            now = to_unix(self._clock.now())
            claimed: list[Job] = []
            skipped = False
            async with self._database.transaction() as tx:
                rows = await tx.fetchall(
                    """
                    SELECT id, kind, key, due_at, expires_at, payload, attempts, group_id
                    FROM jobs
                    WHERE (state = 'pending' AND due_at <= ?)
                       OR (state = 'running' AND lease_until <= ?)
                    ORDER BY due_at, id LIMIT ?
                    """,
                    (now, now, max(limit, CLAIM_BATCH)),
                )
                taken = set(busy)
                for row in rows:
                    if row["group_id"] in taken or len(claimed) >= limit:
                        continue
                    if row["expires_at"] is not None and row["expires_at"] <= now:
                        await _skip(tx, row, now)
                        skipped = True
                        continue
                    claimed.append(_job(row))
                    taken.add(row["group_id"])
                if claimed:  # one statement for the batch, not one per job
                    marks = ",".join("?" for _ in claimed)
                    await tx.execute(
                        "UPDATE jobs SET state = 'running', lease_until = ?,"
                        f" attempts = attempts + 1 WHERE id IN ({marks})",
                        (now + int(LEASE.total_seconds()), *(job.id for job in claimed)),
                    )
            if claimed or not skipped:
                return claimed
            # everything free was past its expiry: look again, for jobs still useful

    async def _run(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        now = to_unix(self._clock.now())
        if handler is None:
            log.error("no handler for job kind %r (job %s); marking it failed", job.kind, job.key)
            await self._finish(job, "failed", now, error="NoHandler")
            return
        try:
            await handler(job)
        except Exception as error:
            # Only the class name is kept: a message could quote confidential text.
            name = type(error).__name__
            # A job that expires (a reminder: when its session starts) is worth retrying
            # for as long as it is useful; the claim records it as skipped once it is not.
            if job.expires_at is None and job.attempts >= MAX_ATTEMPTS:
                log.error("job %s failed %d times (%s); giving up", job.key, job.attempts, name)
                await self._finish(job, "failed", now, error=name)
            else:
                retry_at = self._clock.now() + retry_delay(job.attempts)
                log.warning("job %s failed (%s); retrying at %s", job.key, name, retry_at)
                async with self._database.transaction() as tx:
                    await tx.execute(
                        "UPDATE jobs SET state = 'pending', due_at = ?, lease_until = NULL,"
                        " last_error = ? WHERE id = ? AND state = 'running'",
                        (to_unix(retry_at), name, job.id),
                    )
            return
        await self._finish(job, "done", to_unix(self._clock.now()))

    async def _finish(self, job: Job, state: str, at: int, *, error: str | None = None) -> None:
        async with self._database.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET state = ?, finished_at = ?, lease_until = NULL, last_error = ?"
                " WHERE id = ? AND state = 'running'",
                (state, at, error, job.id),
            )
