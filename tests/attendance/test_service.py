"""Attendance on a real database: recording, its refusals (which change nothing), the
missed-sessions notes queued once, the answers' checks the reconciler plans, the
leaders' log, and each member's own data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.attendance import privacy as attendance_privacy
from bot.attendance import service as attendance_service
from bot.attendance import store as attendance_store
from bot.attendance.jobs import ANSWERS_KIND, MISSED_KIND, answers_below
from bot.attendance.rules import ANSWERS_CHECKED_BEFORE, answers_checked_at, answers_key, missed_key
from bot.capabilities import RECONCILERS
from bot.groups import service as group_service
from bot.groups.rules import Group, MeetingFormat, Role
from bot.groups.store import get_group
from bot.kernel.clock import from_unix
from bot.kernel.db import Database
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import Job, JobScheduler
from bot.sessions import service as session_service
from bot.sessions import store as session_store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 19:00 in London
WEEK = timedelta(weeks=1)
LEADER, CO, ALICE, BOB, CAROL, DAVE, STRANGER = 10, 11, 21, 22, 23, 24, 99
MEMBERS = (ALICE, BOB, CAROL, DAVE)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "a.db", reconcilers=RECONCILERS)
    await database.migrate()
    yield database
    await database.close()


async def make_group(database: Database, name: str = "Tuesday", guild_id: int = 1) -> Group:
    group = await group_service.create_group(
        database,
        guild_id=guild_id,
        name=name,
        channel_id=2,
        timezone="Europe/London",
        leader_id=LEADER,
        actor_id=LEADER,
        now=NOW,
    )
    await group_service.put_on_roster(database, group, CO, Role.CO_LEADER, LEADER, NOW)
    for member in MEMBERS:
        await group_service.put_on_roster(database, group, member, Role.MEMBER, LEADER, NOW)
    await session_service.plan_sessions(
        database,
        group,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=4,
        actor_id=LEADER,
        now=NOW,
    )
    fresh = await get_group(database, group.id)
    assert fresh is not None
    return fresh


async def session_ids(database: Database, group: Group) -> list[int]:
    return [s.id for s in await session_store.all_sessions(database, group.id)]


async def dump(database: Database) -> list[tuple[str, list[tuple[object, ...]]]]:
    tables = await database.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )
    return [
        (
            row["name"],
            [tuple(r) for r in await database.fetchall(f"SELECT * FROM {row['name']} ORDER BY 1")],
        )
        for row in tables
    ]


async def jobs_of(database: Database, kind: str) -> list[dict[str, Any]]:
    rows = await database.fetchall("SELECT * FROM jobs WHERE kind = ? ORDER BY key", (kind,))
    return [dict(row) for row in rows]


async def answer(database: Database, session_id: int, user: int, *, attending: bool) -> None:
    await session_service.answer_rsvp(database, session_id, user, attending=attending, now=NOW)


# -- recording ---------------------------------------------------------------------------


async def test_recording_keeps_exactly_those_named_and_a_re_mark_replaces(
    database: Database,
) -> None:
    group = await make_group(database)
    first = (await session_ids(database, group))[0]
    after = FIRST + timedelta(hours=2)
    done = await attendance_service.record_present(database, group, first, [BOB, ALICE], after)
    assert (done.present, done.replaced, done.members) == ([ALICE, BOB], False, 4)
    assert await attendance_store.present_at(database, first) == [ALICE, BOB]
    again = await attendance_service.record_present(database, group, first, [CAROL, CO], after)
    assert (again.present, again.replaced) == ([CO, CAROL], True)
    assert await attendance_store.present_at(database, first) == [CO, CAROL]
    # editable until the next session starts
    just_before = FIRST + WEEK - timedelta(seconds=1)
    await attendance_service.record_present(database, group, first, [DAVE], just_before)
    with pytest.raises(Refusal, match="next session has started"):
        await attendance_service.record_present(database, group, first, [DAVE], FIRST + WEEK)


async def test_the_button_records_who_answered_attending(database: Database) -> None:
    group = await make_group(database)
    first = (await session_ids(database, group))[0]
    await answer(database, first, ALICE, attending=True)
    await answer(database, first, BOB, attending=False)
    await answer(database, first, CO, attending=True)
    await answer(database, first, CAROL, attending=True)
    await group_service.remove_from_roster(database, group, CAROL, LEADER, NOW)
    after = FIRST + timedelta(minutes=5)
    offered = await attendance_service.propose(database, group, first, after)
    assert (offered.attending, offered.recorded) == ([CO, ALICE], None)  # Carol left
    done = await attendance_service.record_attending(database, group, first, after)
    assert done.present == [CO, ALICE]
    offered = await attendance_service.propose(database, group, first, after)
    assert offered.recorded == [CO, ALICE]


def refusals() -> dict[str, Callable[[Database, Group, Group, list[int]], Awaitable[Any]]]:
    after = FIRST + timedelta(hours=2)
    record = attendance_service.record_present
    return {
        "not started": lambda db, g, o, s: record(db, g, s[1], [ALICE], after),
        "cancelled": lambda db, g, o, s: record(db, g, s[3], [ALICE], after + 3 * WEEK),
        "another group's": lambda db, g, o, s: record(db, o, s[0], [ALICE], after),
        "unknown session": lambda db, g, o, s: record(db, g, 9999, [ALICE], after),
        "someone off the roster": lambda db, g, o, s: record(db, g, s[0], [ALICE, STRANGER], after),
        "the next one started": lambda db, g, o, s: record(db, g, s[0], [ALICE], after + WEEK),
        "nobody answered attending": lambda db, g, o, s: attendance_service.record_attending(
            db, g, s[0], after
        ),
    }


@pytest.mark.parametrize("case", sorted(refusals()))
async def test_every_refusal_changes_nothing(database: Database, case: str) -> None:
    group = await make_group(database)
    other = await make_group(database, "Thursday")
    sessions = await session_ids(database, group)
    await session_service.cancel_session(database, group, sessions[3], LEADER, NOW)
    await attendance_service.record_present(
        database, group, sessions[0], [BOB], FIRST + timedelta(hours=1)
    )
    before = await dump(database)
    with pytest.raises(Refusal) as refused:
        await refusals()[case](database, group, other, sessions)
    assert await dump(database) == before
    if case == "someone off the roster":
        assert f"<@{STRANGER}>" in refused.value.message
        assert f"<@{ALICE}>" not in refused.value.message
        assert "1 of the people" in refused.value.message


async def test_a_failure_while_queueing_leaves_nothing_of_the_record(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(database)
    sessions = await session_ids(database, group)
    await attendance_service.record_present(database, group, sessions[0], [ALICE], FIRST)
    before = await dump(database)

    async def fail(*args: object) -> None:
        raise RuntimeError("queue")

    monkeypatch.setattr(JobScheduler, "queue", fail)
    with pytest.raises(RuntimeError):
        await attendance_service.record_present(database, group, sessions[1], [ALICE], FIRST + WEEK)
    assert await dump(database) == before


# -- missed two in a row -----------------------------------------------------------------------


async def test_missing_two_recorded_sessions_queues_one_note_per_member(
    database: Database,
) -> None:
    group = await make_group(database)
    s = await session_ids(database, group)
    await attendance_service.record_present(database, group, s[0], [ALICE, BOB], FIRST)
    assert await jobs_of(database, MISSED_KIND) == []
    at = FIRST + WEEK
    await attendance_service.record_present(database, group, s[1], [ALICE, CAROL], at)
    jobs = await jobs_of(database, MISSED_KIND)
    assert [job["key"] for job in jobs] == [missed_key(group.id, s[1], DAVE)]
    assert jobs[0]["group_id"] == group.id
    assert from_unix(jobs[0]["due_at"]) == at
    # the note ran; a re-mark that still leaves Dave out queues nothing new
    async with database.transaction() as tx:
        await tx.execute("UPDATE jobs SET state = 'done' WHERE kind = ?", (MISSED_KIND,))
    await attendance_service.record_present(database, group, s[1], [ALICE], at)
    jobs = await jobs_of(database, MISSED_KIND)
    assert [(job["key"], job["state"]) for job in jobs] == [
        (missed_key(group.id, s[1], CAROL), "pending"),  # Carol now missed both too
        (missed_key(group.id, s[1], DAVE), "done"),
    ]


async def test_the_note_looks_again_when_it_runs(database: Database) -> None:
    group = await make_group(database)
    s = await session_ids(database, group)
    await attendance_service.record_present(database, group, s[0], [ALICE], FIRST)
    await attendance_service.record_present(database, group, s[1], [ALICE], FIRST + WEEK)
    missed = await attendance_service.still_missed(database, group.id, s[1], BOB)
    assert missed is not None
    assert [r.session_id for r in missed.sessions] == [s[1], s[0]]
    await attendance_service.record_present(database, group, s[1], [ALICE, BOB], FIRST + WEEK)
    assert await attendance_service.still_missed(database, group.id, s[1], BOB) is None
    await group_service.remove_from_roster(database, group, CAROL, LEADER, NOW)
    assert await attendance_service.still_missed(database, group.id, s[1], CAROL) is None
    assert await attendance_service.still_missed(database, group.id, s[1], DAVE) is not None
    assert await attendance_service.still_missed(database, group.id, 9999, DAVE) is None


async def test_leaders_and_latecomers_are_not_counted_as_missing(database: Database) -> None:
    group = await make_group(database)
    s = await session_ids(database, group)
    erin = 25
    await group_service.put_on_roster(database, group, erin, Role.MEMBER, LEADER, FIRST + WEEK)
    await attendance_service.record_present(database, group, s[0], [*MEMBERS], FIRST)
    await attendance_service.record_present(database, group, s[1], [], FIRST + WEEK)
    await attendance_service.record_present(database, group, s[1], [*MEMBERS], FIRST + WEEK)
    assert await jobs_of(database, MISSED_KIND) == []  # nobody missed both; not Erin either


# -- the answers' check --------------------------------------------------------------------------


async def test_each_upcoming_session_has_its_answers_check_a_day_before(
    database: Database,
) -> None:
    group = await make_group(database)
    sessions = await session_store.all_sessions(database, group.id)
    jobs = await jobs_of(database, ANSWERS_KIND)
    assert [(job["key"], job["due_at"], job["expires_at"]) for job in jobs] == sorted(
        (
            answers_key(group.id, s.id, 0),
            int(answers_checked_at(s.starts_at).timestamp()),
            int(s.starts_at.timestamp()),
        )
        for s in sessions
    )
    # moved: a new key for the new time; cancelled: dropped
    await session_service.move_session(database, group, sessions[0].id, "2026-12-02 19:00", 10, NOW)
    await session_service.cancel_session(database, group, sessions[1].id, LEADER, NOW)
    keys = {job["key"] for job in await jobs_of(database, ANSWERS_KIND)}
    assert keys == {
        answers_key(group.id, sessions[0].id, 1),
        answers_key(group.id, sessions[2].id, 0),
        answers_key(group.id, sessions[3].id, 0),
    }


async def test_a_session_planned_within_a_day_gets_no_check_but_a_due_one_is_kept(
    database: Database,
) -> None:
    group = await make_group(database)
    sessions = await session_store.all_sessions(database, group.id)
    late = answers_checked_at(FIRST) + timedelta(hours=1)  # the first's check is due, not run
    soon = late + ANSWERS_CHECKED_BEFORE - timedelta(hours=2)  # London is on UTC in December
    await session_service.plan_sessions(
        database,
        group,
        start=soon.strftime("%Y-%m-%d %H:%M"),
        duration=60,
        repeat="once",
        count=1,
        actor_id=LEADER,
        now=late,
    )
    keys = {job["key"] for job in await jobs_of(database, ANSWERS_KIND)}
    assert answers_key(group.id, sessions[0].id, 0) in keys  # due, waiting: kept
    [added] = [
        s for s in await session_store.all_sessions(database, group.id) if s.starts_at == soon
    ]
    assert answers_key(group.id, added.id, 0) not in keys  # too soon to ask: none


def job_for(session_id: int, revision: int = 0) -> Job:
    return Job(1, ANSWERS_KIND, "k", NOW, None, {"session_id": session_id, "revision": revision}, 1)


async def test_the_check_counts_the_members_answers_when_it_runs(database: Database) -> None:
    group = await make_group(database)
    first = (await session_ids(database, group))[0]
    await answer(database, first, ALICE, attending=True)
    await answer(database, first, BOB, attending=False)
    await answer(database, first, LEADER, attending=True)  # leaders are not counted
    few = await answers_below(database, job_for(first))
    assert few is not None
    assert (few.attending, few.absent, few.members, few.threshold) == (1, 1, 4, 4)
    for member in (BOB, CAROL, DAVE):
        await answer(database, first, member, attending=True)
    assert await answers_below(database, job_for(first)) is None  # all four of four
    assert await answers_below(database, job_for(first, revision=1)) is None  # moved since


# -- the leaders' log ----------------------------------------------------------------------------


async def test_the_log_lists_the_sessions_led_in_every_group(database: Database) -> None:
    group = await make_group(database)
    other = await make_group(database, "Online one", guild_id=7)
    await group_service.change_settings(database, other, {"meeting_format": "online"}, LEADER, NOW)
    s = await session_ids(database, group)
    await session_service.cancel_session(database, group, s[1], LEADER, NOW)
    await session_service.plan_sessions(
        database,
        group,
        start="2027-01-05 19:00",
        duration=60,
        repeat="once",
        count=1,
        actor_id=LEADER,
        now=NOW,
        meeting_format=MeetingFormat.ONLINE,
    )
    await attendance_service.record_present(database, group, s[0], [LEADER, CO, ALICE], FIRST)
    later = datetime(2027, 1, 6, tzinfo=UTC)
    rows = await attendance_service.leader_log(database, LEADER, None, later)
    assert [(r.group, r.starts_at, r.meeting_format, r.present) for r in rows] == [
        ("Online one", FIRST, MeetingFormat.ONLINE, None),
        ("Tuesday", FIRST, MeetingFormat.IN_PERSON, 1),  # the leaders are not counted
        ("Online one", FIRST + WEEK, MeetingFormat.ONLINE, None),  # Tuesday's: cancelled
        ("Online one", FIRST + 2 * WEEK, MeetingFormat.ONLINE, None),
        ("Tuesday", FIRST + 2 * WEEK, MeetingFormat.IN_PERSON, None),
        ("Online one", FIRST + 3 * WEEK, MeetingFormat.ONLINE, None),
        ("Tuesday", FIRST + 3 * WEEK, MeetingFormat.IN_PERSON, None),
        ("Tuesday", datetime(2027, 1, 5, 19, 0, tzinfo=UTC), MeetingFormat.ONLINE, None),
    ]
    assert {r.role for r in rows} == {Role.LEADER}
    co_rows = await attendance_service.leader_log(database, CO, group, later)
    assert [r.role for r in co_rows] == [Role.CO_LEADER] * 4
    assert {r.minutes for r in co_rows} == {90, 60}


async def test_the_log_starts_when_one_joined_and_is_refused_to_non_leaders(
    database: Database,
) -> None:
    group = await make_group(database)
    new_co = 30
    await group_service.put_on_roster(
        database, group, new_co, Role.CO_LEADER, LEADER, FIRST + timedelta(days=1)
    )
    rows = await attendance_service.leader_log(database, new_co, None, FIRST + 4 * WEEK)
    assert len(rows) == 3
    with pytest.raises(Refusal, match=r"not a leader or co-leader of \*\*Tuesday"):
        await attendance_service.leader_log(database, ALICE, group, NOW)
    with pytest.raises(Refusal, match="any group"):
        await attendance_service.leader_log(database, ALICE, None, NOW)


# -- each member's own data ----------------------------------------------------------------------


async def test_a_members_attendance_is_exported_and_erased(database: Database) -> None:
    group = await make_group(database)
    s = await session_ids(database, group)
    await attendance_service.record_present(database, group, s[0], [ALICE, BOB], FIRST)
    exported = await attendance_privacy.export_member(database, ALICE)
    assert exported == {"attendance": [{"group": "Tuesday", "session": FIRST.isoformat()}]}
    async with database.transaction() as tx:
        await attendance_privacy.erase_member(tx, ALICE, NOW)
    assert await attendance_store.present_at(database, s[0]) == [BOB]
    assert await attendance_privacy.export_member(database, ALICE) == {"attendance": []}
    assert await database.scalar("SELECT count(*) FROM attendance WHERE user_id = ?", (ALICE,)) == 0
