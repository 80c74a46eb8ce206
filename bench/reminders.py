"""Reminder scheduling at scale: 1,000 groups with 50,000 pending reminders.

Prints, each next to a baseline measured in the same run (so the figures compare
across machines as ratios):
- time from start (database opened, migrations checked, scheduler started) until the
  schedule is rebuilt and nothing is due, with 50,000 pending jobs vs. with none;
- memory (peak resident set) after the rebuild;
- lateness of reminders fired in a burst (BURST jobs due at the same second) — median
  and worst — vs. a single job due alone.

Run: `make bench` or `.venv/bin/python -m bench.reminders`.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.kernel.clock import SystemClock, to_unix
from bot.kernel.db import Database
from bot.kernel.scheduler import Job, JobScheduler

GROUPS = 1_000
REMINDERS = 50_000
BURST = 2_000


async def seed(
    path: Path,
    groups: int,
    reminders: int,
    *,
    homes: Sequence[tuple[int, int]] | None = None,
    now: datetime | None = None,
) -> None:
    """Groups and three reminders per weekly session, all in the future (from `now`,
    default the real time). `homes` gives each group's (server id, channel id); by
    default they all share server 1."""
    database = await Database.open(path)
    await database.migrate()
    await database.close()
    now = now or datetime.now(UTC)
    homes = list(homes) if homes is not None else [(1, 10_000 + g) for g in range(groups)]
    sessions_per_group = -(-reminders // (3 * groups)) if groups else 0  # rounded up
    jobs = []
    for group in range(1, groups + 1):
        for week in range(sessions_per_group):
            start = now + timedelta(days=7 * (week + 1), minutes=group)
            for kind, hours in (("channel", 24), ("presenter", 72), ("leaders", 24)):
                if len(jobs) >= reminders:
                    break
                jobs.append(
                    (
                        f"reminder.{kind}",
                        f"group:{group}:session:{week}:at:{to_unix(start)}:{kind}",
                        to_unix(start - timedelta(hours=hours)),
                        to_unix(start),
                        group,
                    )
                )
    # A bulk load, not a user action: plain sqlite3 is the quickest way in.
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.executemany(
            "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'Europe/London', 0)",
            [
                (g, guild_id, f"group {g}", f"group {g}", channel_id)
                for g, (guild_id, channel_id) in enumerate(homes[:groups], start=1)
            ],
        )
        raw.executemany(
            "INSERT INTO jobs (kind, key, due_at, expires_at, group_id) VALUES (?, ?, ?, ?, ?)",
            jobs,
        )


async def time_rebuild(path: Path) -> float:
    """Seconds from opening the database to an armed, idle scheduler."""
    started = time.perf_counter()
    database = await Database.open(path)
    await database.migrate()
    scheduler = JobScheduler(database, SystemClock())
    for kind in ("reminder.channel", "reminder.presenter", "reminder.leaders"):
        scheduler.register(kind, _never)
    await scheduler.start()
    await scheduler.wait_idle()
    elapsed = time.perf_counter() - started
    await scheduler.stop()
    await database.close()
    return elapsed


async def _never(job: Job) -> None:
    raise AssertionError(f"nothing should be due in the rebuild benchmark: {job.key}")


async def burst_lateness(path: Path, burst: int) -> list[float]:
    """Seconds between each job's due moment and its handler starting, for `burst` jobs
    due at the same second, on top of the pending reminders already in `path`."""
    database = await Database.open(path)
    await database.migrate()
    scheduler = JobScheduler(database, SystemClock())
    lateness: list[float] = []
    done = asyncio.Event()

    async def record(job: Job) -> None:
        lateness.append(time.time() - job.due_at.timestamp())
        if len(lateness) == burst:
            done.set()

    scheduler.register("bench.burst", record)
    due = datetime.fromtimestamp(int(time.time()) + 2, UTC)  # a whole second, soon
    async with database.transaction() as tx:
        await tx.executemany(
            "INSERT INTO jobs (kind, key, due_at) VALUES ('bench.burst', ?, ?)",
            [(f"burst:{due.timestamp():.0f}:{index}", to_unix(due)) for index in range(burst)],
        )
    await scheduler.start()
    await asyncio.wait_for(done.wait(), 600)
    await scheduler.stop()
    await database.close()
    return lateness


async def count_pending(path: Path) -> int:
    database = await Database.open(path)
    count = int(await database.scalar("SELECT count(*) FROM jobs WHERE state = 'pending'"))
    await database.close()
    return count


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        empty, loaded = Path(folder) / "empty.db", Path(folder) / "loaded.db"
        await seed(empty, 0, 0)
        await seed(loaded, GROUPS, REMINDERS)
        rss_before = peak_rss_mib()
        baseline = min([await time_rebuild(empty) for _ in range(3)])
        rebuild = min([await time_rebuild(loaded) for _ in range(3)])
        rss_after = peak_rss_mib()
        single = await burst_lateness(empty, 1)
        burst_alone = await burst_lateness(empty, BURST)
        burst = await burst_lateness(loaded, BURST)
        pending = await count_pending(loaded)

    print(f"reminders benchmark: {GROUPS} groups, {pending} pending reminders")
    print(
        f"  start to schedule rebuilt: {rebuild * 1000:.1f} ms "
        f"(empty database: {baseline * 1000:.1f} ms; ratio {rebuild / baseline:.2f}x)"
    )
    print(f"  peak memory: {rss_after:.1f} MiB (before the rebuilds: {rss_before:.1f} MiB)")
    median, worst = statistics.median(burst), max(burst)
    alone_median, alone_worst = statistics.median(burst_alone), max(burst_alone)
    print(
        f"  burst of {BURST} due at once among them: lateness median {median * 1000:.1f} ms, "
        f"worst {worst * 1000:.1f} ms"
    )
    print(
        f"    same burst on an empty database: median {alone_median * 1000:.1f} ms, worst "
        f"{alone_worst * 1000:.1f} ms (ratio of worsts {worst / max(alone_worst, 1e-6):.2f}x); "
        f"one job alone: {single[0] * 1000:.1f} ms"
    )
    print(f"  burst throughput: {BURST / max(worst, 1e-6):.0f} jobs/s claimed and run")


if __name__ == "__main__":
    asyncio.run(main())
