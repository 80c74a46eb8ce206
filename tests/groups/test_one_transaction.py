"""One user action, one transaction: when the rota's re-planning (or the reminders', or the
cases' purge planning) fails inside an action, nothing of the action is written, whichever
action it is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.attendance.jobs import AttendanceReconciler
from bot.capabilities import RECONCILERS
from bot.cases import service as case_service
from bot.cases.jobs import CaseReconciler
from bot.groups import service as group_service
from bot.groups.rules import Group, Role
from bot.groups.store import get_group
from bot.kernel.crypto import Cipher
from bot.kernel.db import Database
from bot.reflections.jobs import ReflectionReconciler
from bot.reminders.jobs import ReminderReconciler
from bot.rota import service as rota_service
from bot.rota.service import RotaReconciler
from bot.sessions import service as session_service
from bot.sessions.store import upcoming_sessions

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEADER, ALICE, BOB, CAROL, DAVE = 10, 11, 12, 13, 14
CIPHER = Cipher(bytes(range(32)))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db", reconcilers=RECONCILERS)
    await database.migrate()
    yield database
    await database.close()


async def planned_group(database: Database) -> Group:
    """A group with three members and four weekly sessions, its rota and reminders made,
    and a case flagged for the first session."""
    group = await group_service.create_group(
        database,
        guild_id=1,
        name="Tuesday",
        channel_id=2,
        timezone="Europe/London",
        leader_id=LEADER,
        actor_id=LEADER,
        now=NOW,
    )
    for member in (ALICE, BOB, CAROL):
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
    await case_service.flag_case(database, fresh, ALICE, NOW)  # something to withdraw
    return fresh


async def dump(database: Database) -> list[tuple[str, list[tuple[object, ...]]]]:
    """Every row of every table."""
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


Action = Callable[[Database, Group, list[int]], Awaitable[Any]]

ACTIONS: dict[str, Action] = {
    "group add": lambda db, g, s: group_service.put_on_roster(db, g, DAVE, Role.MEMBER, 10, NOW),
    "group add as leader": lambda db, g, s: group_service.put_on_roster(
        db, g, ALICE, Role.CO_LEADER, LEADER, NOW
    ),
    "group remove": lambda db, g, s: group_service.remove_from_roster(db, g, ALICE, LEADER, NOW),
    "group settings term_start": lambda db, g, s: group_service.change_settings(
        db, g, {"term_start": int(NOW.timestamp())}, LEADER, NOW
    ),
    "group settings reminders": lambda db, g, s: group_service.change_settings(
        db, g, {"remind_channel_min": 120}, LEADER, NOW
    ),
    "session schedule": lambda db, g, s: session_service.plan_sessions(
        db,
        g,
        start="2027-01-05 19:00",
        duration=90,
        repeat="weekly",
        count=2,
        actor_id=LEADER,
        now=NOW,
    ),
    "session cancel": lambda db, g, s: session_service.cancel_session(db, g, s[0], LEADER, NOW),
    "session move": lambda db, g, s: session_service.move_session(
        db, g, s[0], "2026-12-02 19:00", LEADER, NOW
    ),
    "rota assign": lambda db, g, s: rota_service.assign_presenter(db, g, s[2], CAROL, LEADER, NOW),
    "rota away": lambda db, g, s: rota_service.mark_away(
        db, g, ALICE, "2026-11-30", "2026-12-10", NOW
    ),
    "rota generate": lambda db, g, s: rota_service.regenerate_rota(db, g, NOW, actor_id=LEADER),
    "case note": lambda db, g, s: case_service.send_note(
        db, CIPHER, group_id=g.id, session_id=s[0], member_id=BOB, text="A note", now=NOW
    ),
    "case flag": lambda db, g, s: case_service.flag_case(db, g, CAROL, NOW),
    "case withdraw": lambda db, g, s: case_service.withdraw_case(db, g, ALICE, NOW),
}


class PlanningFailed(Exception):
    pass


@pytest.mark.parametrize(
    "reconciler",
    [
        RotaReconciler,
        ReminderReconciler,
        CaseReconciler,
        ReflectionReconciler,
        AttendanceReconciler,
    ],
)
@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_a_failing_follow_up_leaves_nothing_of_the_action(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    reconciler: type[
        RotaReconciler
        | ReminderReconciler
        | CaseReconciler
        | ReflectionReconciler
        | AttendanceReconciler
    ],
) -> None:
    group = await planned_group(database)
    sessions = [s.id for s in await upcoming_sessions(database, group.id, NOW)]
    before = await dump(database)

    async def fail(*args: object) -> None:
        raise PlanningFailed

    monkeypatch.setattr(reconciler, "reconcile", fail)
    with pytest.raises(PlanningFailed):
        await ACTIONS[action](database, group, sessions)
    assert await dump(database) == before


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_each_action_does_change_something(database: Database, action: str) -> None:
    """The check above is not vacuous: without the failure, every action writes."""
    group = await planned_group(database)
    sessions = [s.id for s in await upcoming_sessions(database, group.id, NOW)]
    before = await dump(database)
    await ACTIONS[action](database, group, sessions)
    assert await dump(database) != before


async def test_an_action_that_moves_slots_reports_them(database: Database) -> None:
    group = await planned_group(database)
    presenters = [s.presenter_id for s in await upcoming_sessions(database, group.id, NOW)]
    assert presenters == [ALICE, BOB, CAROL, ALICE]
    change = await group_service.remove_from_roster(database, group, ALICE, LEADER, NOW)
    [notice] = [n for n in change.notices if isinstance(n, rota_service.SlotsChanged)]
    assert notice.changes[ALICE].lost
    assert not notice.changes[ALICE].gained
    after = [s.presenter_id for s in await upcoming_sessions(database, group.id, NOW)]
    assert ALICE not in after
    assert all(p is not None for p in after)


async def test_audit_entries_name_the_member_they_are_about(database: Database) -> None:
    group = await planned_group(database)
    await group_service.remove_from_roster(database, group, ALICE, LEADER, NOW)
    rows = await database.fetchall(
        "SELECT action, actor_id, subject_id FROM audit WHERE group_id = ? ORDER BY id",
        (group.id,),
    )
    assert [tuple(row) for row in rows] == [
        ("group create", LEADER, LEADER),
        ("roster add", LEADER, ALICE),
        ("roster add", LEADER, BOB),
        ("roster add", LEADER, CAROL),
        ("session schedule", LEADER, None),
        ("roster remove", LEADER, ALICE),
    ]
