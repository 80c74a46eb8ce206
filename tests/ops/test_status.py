"""`python -m bot status`: what the operator sees at a glance (and cron in JSON), read from
the database only, with nothing created beside it."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot import __main__ as entry
from bot.kernel.clock import SystemClock, to_unix
from bot.kernel.db import Database
from bot.ops import OpsError
from bot.ops.lock import RunLock
from bot.ops.status import as_json, read_status, render
from tests.groups.test_one_transaction import NOW
from tests.ops.conftest import Written, listing

# The first session is on 2026-12-01 19:00 UTC; its presenter reminder is due 72 hours
# before, on 2026-11-28 19:00.
PRESENTER_DUE = NOW.replace(day=28, hour=19)


def test_a_glance_before_anything_is_due(written: Written) -> None:
    status = read_status(written.path, NOW)
    lines = render(status, 14)
    assert lines[0].endswith("the bot is not running")
    assert "groups: 1" in lines
    assert any(
        line.startswith("  #1 Tuesday (server 1): 4 on the roster, next session 2026-12-01 19:00")
        for line in lines
    )
    assert "sessions in the next 14 days: 1" in lines
    assert any("jobs: 25 pending; 0 overdue" in line for line in lines)
    assert "last reminder sent: none" in lines
    assert "held: 1 case note(s); 1 reflection window(s) open" in lines
    assert lines[-1] == "all well"
    assert status.problems == []


def test_an_overdue_job_needs_attention(written: Written) -> None:
    later = PRESENTER_DUE + timedelta(minutes=40)
    status = read_status(written.path, later, overdue_minutes=15)
    assert status.overdue == 1
    assert status.oldest_overdue is not None
    assert (status.oldest_overdue.kind, status.oldest_overdue.minutes_late) == (
        "reminder.presenter",
        40,
    )
    assert status.problems == [
        f"job {status.oldest_overdue.id} (reminder.presenter) is 40 minutes overdue "
        "(the bot is not running)"
    ]
    # within the grace it is only shown
    assert read_status(written.path, later, overdue_minutes=45).problems == []


def test_the_last_reminder_and_recent_failures(written: Written) -> None:
    sent, failed = to_unix(PRESENTER_DUE), to_unix(PRESENTER_DUE + timedelta(hours=1))
    with sqlite3.connect(written.path) as raw:
        raw.execute(
            "UPDATE jobs SET state = 'done', finished_at = ? WHERE kind = 'reminder.presenter'"
            " AND due_at = ?",
            (sent, sent),
        )
        raw.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?, last_error = 'HTTPException'"
            " WHERE id = (SELECT min(id) FROM jobs WHERE kind = 'cases.purge')",
            (failed,),
        )
    status = read_status(written.path, PRESENTER_DUE + timedelta(hours=2))
    lines = render(status, 14)
    assert "last reminder sent: 2026-11-28 19:00 UTC (reminder.presenter)" in lines
    assert status.problems == ["jobs failed for good in the last 24 hours: cases.purge x1"]
    assert read_status(written.path, PRESENTER_DUE + timedelta(days=2)).problems == []


async def test_while_the_bot_runs_it_reads_through_the_log_and_creates_nothing(
    written: Written, tmp_path: Path
) -> None:
    database = await Database.open(written.path)  # the bot's connection: -wal and -shm
    try:
        with RunLock(written.path):  # as `python -m bot` holds it
            before = listing(tmp_path)
            assert {"balint.db-wal", "balint.db-shm", "balint.db.lock"} <= before
            status = read_status(written.path, NOW)
            assert listing(tmp_path) == before
    finally:
        await database.close()
    assert status.bot_running
    assert render(status, 14)[0].endswith("the bot is running")


def test_stopped_it_creates_nothing_beside_the_database(written: Written, tmp_path: Path) -> None:
    before = listing(tmp_path)
    assert before == {"balint.db"}
    read_status(written.path, NOW)
    assert listing(tmp_path) == before


def test_a_newer_database_is_refused(written: Written) -> None:
    with sqlite3.connect(written.path) as raw:
        raw.execute("PRAGMA user_version = 4242")
    with pytest.raises(OpsError, match="newer version"):
        read_status(written.path, NOW)


async def test_json_for_cron_and_the_exit_status(
    written: Written, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A job due an hour ago by the real clock (the command reads the system's time).
    due = to_unix(SystemClock().now() - timedelta(hours=1))
    with sqlite3.connect(written.path) as raw:
        raw.execute("DELETE FROM jobs")
        raw.execute(
            "INSERT INTO jobs (kind, key, due_at, group_id) VALUES ('cases.purge', 'late', ?, 1)",
            (due,),
        )
    args = entry.build_parser().parse_args(["status", "--json"])
    assert await entry.dispatch(args) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["oldest_overdue"]["kind"] == "cases.purge"
    assert found["oldest_overdue"]["minutes_late"] == 60
    [problem] = found["problems"]
    assert "60 minutes overdue" in problem
    assert found["groups"][0]["name"] == "Tuesday"
    assert as_json(read_status(written.path, NOW))["jobs"] == {"pending": 1}
    args = entry.build_parser().parse_args(["status", "--overdue-minutes", "90"])
    assert await entry.dispatch(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all well"


def test_group_names_cannot_drive_the_terminal(written: Written) -> None:
    with sqlite3.connect(written.path) as raw:
        raw.execute("UPDATE groups SET name = ?", ("Tue\x1b[2Jsday",))
    lines = render(read_status(written.path, NOW), 14)
    assert not any("\x1b" in line for line in lines)
    assert any("Tue?[2Jsday" in line for line in lines)
