"""Case notes below Discord: encryption bound to its row, refusals that change nothing,
the purge job's timing and its exactly-once notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.capabilities import RECONCILERS
from bot.cases import service as case_service
from bot.cases.jobs import PURGE_KIND, PURGED_NOTICE_KIND, purge_session
from bot.cases.rules import NOTE_LIMIT, note_context
from bot.groups import service as group_service
from bot.groups.rules import Group
from bot.kernel.crypto import Cipher, InvalidTag
from bot.kernel.db import Database
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import Job
from bot.sessions import service as session_service
from bot.sessions.store import upcoming_sessions
from tests.groups.test_one_transaction import (
    ALICE,
    BOB,
    CAROL,
    CIPHER,
    LEADER,
    NOW,
    dump,
    planned_group,
)

NOTE = "A man in his fifties whose silence in the consulting room I find hard to bear."


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "cases.db", reconcilers=RECONCILERS)
    await database.migrate()
    yield database
    await database.close()


async def first_session(database: Database, group: Group) -> int:
    return (await upcoming_sessions(database, group.id, NOW))[0].id


async def send(database: Database, group: Group, member: int = BOB, text: str = NOTE) -> None:
    await case_service.send_note(
        database,
        CIPHER,
        group_id=group.id,
        session_id=await first_session(database, group),
        member_id=member,
        text=text,
        now=NOW,
    )


async def test_a_note_is_read_back_only_by_the_right_key_and_row(database: Database) -> None:
    group = await planned_group(database)
    await send(database, group)
    [held] = await case_service.held_cases(database, CIPHER, group, NOW)
    [note] = [n for n in held.notes if not n.is_flag]
    assert note.text == NOTE
    [row] = await database.fetchall("SELECT * FROM cases WHERE kind = 'note'")
    with pytest.raises(InvalidTag):
        Cipher(bytes(32)).decrypt(row["ciphertext"], note_context(group.id, held.session.id, BOB))
    for context in (
        note_context(group.id, held.session.id, ALICE),  # another member's row
        note_context(group.id, held.session.id + 1, BOB),  # another session
        note_context(group.id + 1, held.session.id, BOB),  # another group
    ):
        with pytest.raises(InvalidTag):
            CIPHER.decrypt(row["ciphertext"], context)


async def test_a_ciphertext_copied_into_another_row_shows_as_unreadable(
    database: Database,
) -> None:
    group = await planned_group(database)
    await send(database, group, BOB, NOTE)
    sealed = await database.scalar("SELECT ciphertext FROM cases WHERE member_id = ?", (BOB,))
    async with database.transaction() as tx:
        await tx.execute(
            "UPDATE cases SET kind = 'note', ciphertext = ? WHERE member_id = ?", (sealed, ALICE)
        )
    [held] = await case_service.held_cases(database, CIPHER, group, NOW)
    by_member = {note.member_id: note for note in held.notes}
    assert by_member[BOB].text == NOTE
    assert not by_member[ALICE].readable
    assert by_member[ALICE].text is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "no text"), (" \n ", "no text"), ("x" * (NOTE_LIMIT + 1), "1,501 characters")],
)
async def test_a_refused_note_changes_nothing(database: Database, text: str, expected: str) -> None:
    group = await planned_group(database)
    before = await dump(database)
    with pytest.raises(Refusal, match=expected):
        await send(database, group, BOB, text)
    assert await dump(database) == before


async def test_a_note_for_a_session_that_started_is_refused(database: Database) -> None:
    group = await planned_group(database)
    session = (await upcoming_sessions(database, group.id, NOW))[0]
    before = await dump(database)
    with pytest.raises(Refusal, match="has started or was cancelled"):
        await case_service.send_note(
            database,
            CIPHER,
            group_id=group.id,
            session_id=session.id,
            member_id=BOB,
            text=NOTE,
            now=session.starts_at,
        )
    assert await dump(database) == before


async def test_an_outsider_cannot_send_a_note(database: Database) -> None:
    group = await planned_group(database)
    before = await dump(database)
    with pytest.raises(Refusal, match="no longer on the roster"):
        await send(database, group, 999)
    assert await dump(database) == before


async def purge_jobs(database: Database) -> list[tuple[str, int, str]]:
    rows = await database.fetchall(
        "SELECT kind, due_at, state FROM jobs WHERE kind LIKE 'cases.%' ORDER BY id"
    )
    return [(row["kind"], row["due_at"], row["state"]) for row in rows]


async def test_the_purge_follows_the_session_and_the_retention(database: Database) -> None:
    group = await planned_group(database)
    session = (await upcoming_sessions(database, group.id, NOW))[0]
    await send(database, group)
    ends = int(session.ends_at.timestamp())
    assert await purge_jobs(database) == [(PURGE_KIND, ends, "pending")]
    await group_service.change_settings(database, group, {"case_retention_h": 48}, LEADER, NOW)
    assert await purge_jobs(database) == [(PURGE_KIND, ends + 48 * 3600, "pending")]
    await session_service.move_session(database, group, session.id, "2026-12-02 19:00", LEADER, NOW)
    moved = ends + 24 * 3600 + 48 * 3600
    assert await purge_jobs(database) == [(PURGE_KIND, moved, "pending")]
    await case_service.withdraw_case(database, group, BOB, NOW)
    assert await purge_jobs(database) == [(PURGE_KIND, moved, "pending")]  # Alice's flag
    await case_service.withdraw_case(database, group, ALICE, NOW)
    assert await purge_jobs(database) == []  # nothing held, nothing to purge


async def test_a_purge_run_twice_deletes_once_and_queues_one_notice(database: Database) -> None:
    group = await planned_group(database)
    session = (await upcoming_sessions(database, group.id, NOW))[0]
    await send(database, group)
    job = Job(
        1,
        PURGE_KIND,
        "k",
        session.ends_at,
        None,
        {"group_id": group.id, "session_id": session.id},
        1,
    )
    later = session.ends_at + timedelta(seconds=1)
    assert await purge_session(database, job, later) == 2  # Bob's note and Alice's flag
    assert await purge_session(database, job, later) == 0  # a retry after a crash
    notices = await database.fetchall(
        "SELECT payload FROM jobs WHERE kind = ?", (PURGED_NOTICE_KIND,)
    )
    assert len(notices) == 1
    assert await database.scalar("SELECT count(*) FROM cases") == 0


async def test_a_note_and_a_flag_are_on_the_disk_before_the_member_is_told(
    database: Database,
) -> None:
    group = await planned_group(database)
    ran: list[str] = []
    await database._connection.set_trace_callback(ran.append)

    def synced_around(statement_start: str) -> bool:
        stored = next(i for i, s in enumerate(ran) if s.startswith(statement_start))
        full = max(i for i, s in enumerate(ran[:stored]) if s == "PRAGMA synchronous = FULL")
        commit = ran.index("COMMIT", stored)
        normal = ran.index("PRAGMA synchronous = NORMAL", stored)
        return "BEGIN IMMEDIATE" in ran[full:stored] and full < stored < commit < normal

    await send(database, group)
    assert synced_around("INSERT INTO cases")
    ran.clear()
    await case_service.flag_case(database, group, CAROL, NOW)  # (Alice has flagged already)
    assert synced_around("INSERT INTO cases")


async def test_a_session_that_started_this_hour_is_no_longer_upcoming(database: Database) -> None:
    group = await planned_group(database)  # weekly from 2026-12-01 19:00
    await session_service.plan_sessions(
        database,
        group,
        start="2026-12-02 19:15",
        duration=90,
        repeat="once",
        count=1,
        actor_id=LEADER,
        now=NOW,
    )
    before = await upcoming_sessions(database, group.id, NOW)
    off_hour = before[1]
    assert off_hour.starts_at.minute == 15
    just_after = off_hour.starts_at + timedelta(minutes=5)  # the same hour as its start
    assert await upcoming_sessions(database, group.id, just_after) == before[2:]
    assert await upcoming_sessions(database, group.id, just_after, limit=1) == before[2:3]
    assert await upcoming_sessions(database, group.id, off_hour.starts_at) == before[2:]
