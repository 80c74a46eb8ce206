"""The scheduler path: the database says what is due; each job runs exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.kernel.clock import ManualClock, SystemClock, to_unix
from bot.kernel.db import Database
from bot.kernel.scheduler import LEASE, MAX_ATTEMPTS, Job, JobScheduler, JobSpec, retry_delay

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Recorder:
    """A job handler that records what ran and can be told to fail."""

    def __init__(self, failures: int = 0) -> None:
        self.ran: list[str] = []
        self.failures = failures

    async def __call__(self, job: Job) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Discord is down")
        self.ran.append(job.key)


async def open_database(path: Path) -> Database:
    database = await Database.open(path)
    await database.migrate()
    return database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "jobs.db")
    yield database
    await database.close()


async def started(
    database: Database, clock: ManualClock | SystemClock, handler: Recorder
) -> JobScheduler:
    scheduler = JobScheduler(database, clock)
    scheduler.register("test", handler)
    await scheduler.start()
    return scheduler


async def settle(scheduler: JobScheduler) -> None:
    await asyncio.wait_for(scheduler.wait_idle(), 5)


async def job_state(database: Database, key: str) -> str:
    return str(await database.scalar("SELECT state FROM jobs WHERE key = ?", (key,)))


async def test_job_runs_when_due_and_only_once(database: Database) -> None:
    clock, handler = ManualClock(START), Recorder()
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "a", START + timedelta(hours=1))
    await settle(scheduler)
    assert handler.ran == []

    clock.advance(timedelta(minutes=59))
    await settle(scheduler)
    assert handler.ran == []

    clock.advance(timedelta(minutes=1))
    await settle(scheduler)
    assert handler.ran == ["a"]

    clock.advance(timedelta(days=1))
    await settle(scheduler)
    assert handler.ran == ["a"]
    assert await job_state(database, "a") == "done"
    await scheduler.stop()


async def test_job_due_while_stopped_runs_once_after_restart(tmp_path: Path) -> None:
    clock, handler = ManualClock(START), Recorder()
    database = await open_database(tmp_path / "jobs.db")
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "due-while-down", START + timedelta(hours=1))
    await scheduler.schedule("test", "later", START + timedelta(hours=5))
    await scheduler.stop()
    await database.close()

    clock.advance(timedelta(hours=2))  # the bot is down while the job falls due
    database = await open_database(tmp_path / "jobs.db")
    scheduler = await started(database, clock, handler)
    await settle(scheduler)
    assert handler.ran == ["due-while-down"]
    await scheduler.stop()
    await database.close()

    database = await open_database(tmp_path / "jobs.db")  # and a second restart
    scheduler = await started(database, clock, handler)
    await settle(scheduler)
    assert handler.ran == ["due-while-down"]
    await scheduler.stop()
    await database.close()


async def test_expired_job_is_skipped_not_run(database: Database) -> None:
    clock, handler = ManualClock(START), Recorder()
    scheduler = await started(database, clock, handler)
    await scheduler.schedule(
        "test", "stale", START + timedelta(hours=1), expires_at=START + timedelta(hours=2)
    )
    await scheduler.stop()
    clock.advance(timedelta(hours=3))
    scheduler = await started(database, clock, handler)
    await settle(scheduler)
    assert handler.ran == []
    assert await job_state(database, "stale") == "skipped"
    await scheduler.stop()


async def test_failed_job_is_retried_with_backoff_not_lost(database: Database) -> None:
    clock, handler = ManualClock(START), Recorder(failures=2)
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "flaky", START)
    await settle(scheduler)
    assert handler.ran == []
    row = await database.fetchone("SELECT state, attempts, last_error FROM jobs")
    assert row is not None
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 1, "ConnectionError")

    clock.advance(retry_delay(1))
    await settle(scheduler)
    assert handler.ran == []
    clock.advance(retry_delay(2))
    await settle(scheduler)
    assert handler.ran == ["flaky"]
    assert await job_state(database, "flaky") == "done"
    await scheduler.stop()


async def test_job_failing_every_time_ends_failed_without_its_message(database: Database) -> None:
    clock, handler = ManualClock(START), Recorder(failures=10**6)
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "doomed", START)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await settle(scheduler)
        clock.advance(retry_delay(attempt))
    await settle(scheduler)
    row = await database.fetchone("SELECT state, attempts, last_error FROM jobs")
    assert row is not None
    assert (row["state"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "Discord is down" not in str(row["last_error"])
    await scheduler.stop()


async def test_lease_expiry_reclaims_a_job_whose_process_died(database: Database) -> None:
    clock, handler = ManualClock(START), Recorder()
    await database.migrate()
    async with database.transaction() as tx:
        # What a process that died mid-run leaves behind: running, lease not yet out.
        await tx.execute(
            "INSERT INTO jobs (kind, key, due_at, state, attempts, lease_until)"
            " VALUES ('test', 'orphan', ?, 'running', 1, ?)",
            (int(START.timestamp()), int((START + LEASE).timestamp())),
        )
    scheduler = await started(database, clock, handler)
    await settle(scheduler)
    assert handler.ran == []
    clock.advance(LEASE)
    await settle(scheduler)
    assert handler.ran == ["orphan"]
    await scheduler.stop()


async def test_rescheduling_replaces_a_pending_job_and_cancel_removes_it(
    database: Database,
) -> None:
    clock, handler = ManualClock(START), Recorder()
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "session:1:a", START + timedelta(hours=1))
    await scheduler.schedule("test", "session:1:a", START + timedelta(hours=3))
    await scheduler.schedule("test", "session:2:a", START + timedelta(hours=2))
    assert await scheduler.cancel("session:2:") == 1
    clock.advance(timedelta(hours=2))
    await settle(scheduler)
    assert handler.ran == []
    clock.advance(timedelta(hours=1))
    await settle(scheduler)
    assert handler.ran == ["session:1:a"]
    # a done job is not re-queued by scheduling its key again
    await scheduler.schedule("test", "session:1:a", START + timedelta(hours=4))
    clock.advance(timedelta(hours=2))
    await settle(scheduler)
    assert handler.ran == ["session:1:a"]
    await scheduler.stop()


@pytest.mark.parametrize("remembering", [False, True], ids=["reads", "remembered-reads"])
async def test_two_processes_on_one_database_run_a_job_once(
    tmp_path: Path, remembering: bool
) -> None:
    clock = ManualClock(START)
    first_db = await open_database(tmp_path / "jobs.db")
    second_db = await open_database(tmp_path / "jobs.db")
    if remembering:  # as the bot's database does: claims decided on remembered reads
        await first_db.remember_reads()
        await second_db.remember_reads()
    first_handler, second_handler = Recorder(), Recorder()
    first = await started(first_db, clock, first_handler)
    second = await started(second_db, clock, second_handler)
    for index in range(20):
        await first.schedule("test", f"job-{index}", START + timedelta(minutes=index))
    clock.advance(timedelta(hours=1))
    await asyncio.gather(first.run_due(), second.run_due())
    await settle(first)
    await settle(second)
    ran = first_handler.ran + second_handler.ran
    assert sorted(ran) == sorted(f"job-{index}" for index in range(20))
    assert len(ran) == len(set(ran))
    for scheduler in (first, second):
        await scheduler.stop()
    await first_db.close()
    await second_db.close()


async def test_real_timer_wakes_the_bot_without_being_poked(database: Database) -> None:
    handler = Recorder()
    clock = SystemClock()
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "soon", clock.now() + timedelta(milliseconds=300))
    await asyncio.sleep(0)  # the immediate wake finds nothing due yet
    for _ in range(100):
        if handler.ran:
            break
        await asyncio.sleep(0.05)
    assert handler.ran == ["soon"]
    await scheduler.stop()


async def test_unknown_job_kind_is_marked_failed(database: Database) -> None:
    clock = ManualClock(START)
    scheduler = JobScheduler(database, clock)
    await scheduler.start()
    await scheduler.schedule("nobody-handles-this", "x", START)
    await settle(scheduler)
    assert await job_state(database, "x") == "failed"
    await scheduler.stop()


async def test_a_database_failure_in_a_wake_does_not_stop_the_timer(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, handler = ManualClock(START), Recorder()
    scheduler = await started(database, clock, handler)
    await scheduler.schedule("test", "after-the-outage", START + timedelta(hours=1))
    await settle(scheduler)
    real_claim = JobScheduler._claim_next
    locked = True

    async def claim_unless_locked(self: JobScheduler, *args: Any, **options: Any) -> list[Job]:
        if locked:
            raise sqlite3.OperationalError("database is locked")
        return await real_claim(self, *args, **options)

    monkeypatch.setattr(JobScheduler, "_claim_next", claim_unless_locked)
    monkeypatch.setattr("bot.kernel.scheduler.WAKE_RETRY", timedelta(milliseconds=50))
    clock.advance(timedelta(hours=1))  # due now, but every wake fails
    await asyncio.sleep(0.2)
    assert handler.ran == []
    locked = False  # the database recovers; nothing pokes the scheduler
    for _ in range(100):
        if handler.ran:
            break
        await asyncio.sleep(0.02)
    assert handler.ran == ["after-the-outage"]
    await scheduler.stop()


async def write_in_failing_action(database: Database, jobs: list[JobSpec]) -> None:
    async with database.transaction() as tx:
        await JobScheduler.write_pending(tx, group_id=1, kinds=["test"], jobs=jobs)
        raise RuntimeError("the action failed")


async def test_jobs_written_in_any_transaction_rearm_the_timer_on_commit(
    database: Database,
) -> None:
    """Nobody calls rearm(), and the clock does not move: committing a transaction that
    wrote jobs is what wakes the scheduler; one that rolls back writes nothing."""
    clock = ManualClock(START)
    handler = Recorder()
    scheduler = await started(database, clock, handler)
    await settle(scheduler)
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO groups (guild_id, name, name_key, channel_id, timezone, created_at)"
            " VALUES (1, 'G', 'g', 2, 'UTC', 0)"
        )
    due_now = [JobSpec("test", "written-in-a-transaction", START)]
    with pytest.raises(RuntimeError):
        await write_in_failing_action(database, due_now)
    assert await database.scalar("SELECT count(*) FROM jobs") == 0
    async with database.transaction() as tx:
        await JobScheduler.write_pending(tx, group_id=1, kinds=["test"], jobs=due_now)
    for _ in range(200):
        if handler.ran:
            break
        await asyncio.sleep(0.01)
    assert handler.ran == ["written-in-a-transaction"]
    await scheduler.stop()


async def test_a_groups_jobs_go_with_the_group(database: Database) -> None:
    async with database.transaction() as tx:
        for group_id in (1, 2):
            await tx.execute(
                "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (?, 1, ?, ?, 2, 'UTC', 0)",
                (group_id, f"G{group_id}", f"g{group_id}"),
            )
            await JobScheduler.write_pending(
                tx,
                group_id=group_id,
                kinds=["test"],
                jobs=[JobSpec("test", f"job-of-{group_id}", START)],
            )
    async with database.transaction() as tx:
        await tx.execute("DELETE FROM groups WHERE id = 1")
    assert [row["key"] for row in await database.fetchall("SELECT key FROM jobs")] == ["job-of-2"]


async def test_a_job_that_expires_is_retried_for_as_long_as_it_is_useful(
    database: Database,
) -> None:
    """A reminder whose sends keep failing is not given up after a few attempts while its
    session is days away: it is retried (back-off capped) until it expires, then skipped."""
    clock, handler = ManualClock(START), Recorder(failures=10**6)
    scheduler = await started(database, clock, handler)
    expires = START + timedelta(days=2)
    await scheduler.schedule("test", "reminder", START, expires_at=expires)
    attempts = 0
    while clock.now() < expires - timedelta(hours=1):
        await settle(scheduler)
        row = await database.fetchone("SELECT state, attempts, due_at FROM jobs")
        assert row is not None
        assert row["state"] == "pending", row["state"]
        attempts = row["attempts"]
        assert row["due_at"] - to_unix(clock.now()) <= 30 * 60  # back-off capped at 30 min
        clock.set(datetime.fromtimestamp(row["due_at"], UTC))
    assert attempts > MAX_ATTEMPTS
    clock.set(expires)
    await settle(scheduler)
    assert await job_state(database, "reminder") == "skipped"
    await scheduler.stop()


async def test_a_claimed_batch_is_all_marked_running(database: Database) -> None:
    # one job for each of three groups: a claim takes at most one job per group
    async with database.transaction() as tx:
        for group_id in (1, 2, 3):
            await tx.execute(
                "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (?, 1, ?, ?, 2, 'UTC', 0)",
                (group_id, f"G{group_id}", f"g{group_id}"),
            )
            await JobScheduler.write_pending(
                tx, group_id=group_id, kinds=["test"], jobs=[JobSpec("test", f"g{group_id}", START)]
            )
    scheduler = JobScheduler(database, ManualClock(START))
    claimed = await scheduler._claim_next(3)
    assert sorted(job.key for job in claimed) == ["g1", "g2", "g3"]
    rows = await database.fetchall("SELECT state, attempts, lease_until FROM jobs")
    assert [(row["state"], row["attempts"]) for row in rows] == [("running", 1)] * 3
    assert all(row["lease_until"] == to_unix(START) + int(LEASE.total_seconds()) for row in rows)
    assert await scheduler._claim_next(3) == []  # a second claimer gets nothing
