"""A bot's database remembers what it read until it writes it (`remember_reads`).

Each test counts the statements that reach SQLite (the connection's trace callback), so a
read answered from memory is told apart from one that ran, and checks that what is
answered is what the database holds: never an answer from before a commit, never another
task's uncommitted rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.kernel import db
from bot.kernel.db import Database

READ = "SELECT value FROM notes WHERE id = ?"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "r.db")
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, value TEXT)")
        await tx.execute("INSERT INTO notes (id, value) VALUES (1, 'first')")
        await tx.execute("CREATE TABLE other (id INTEGER PRIMARY KEY)")
        await tx.execute(
            "CREATE TABLE tags (note_id INTEGER REFERENCES notes (id) ON DELETE CASCADE, tag TEXT)"
        )
        await tx.execute("INSERT INTO tags (note_id, tag) VALUES (1, 'red')")
        await tx.execute("CREATE TABLE sealed (id INTEGER PRIMARY KEY, ciphertext BLOB)")
        await tx.execute("INSERT INTO sealed (id, ciphertext) VALUES (1, x'00ff')")
    await database.remember_reads()
    yield database
    await database.close()


@pytest.fixture
async def ran(database: Database) -> list[str]:
    """The statements SQLite runs from here on."""
    statements: list[str] = []
    await database._connection.set_trace_callback(statements.append)
    return statements


def reads(statements: list[str]) -> int:
    return sum(1 for statement in statements if statement.startswith("SELECT value FROM notes"))


async def test_a_repeated_read_is_answered_from_memory(database: Database, ran: list[str]) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    assert await database.scalar(READ, (1,)) == "first"
    assert await database.fetchone(READ, (1,)) is not None
    assert reads(ran) == 1
    assert await database.scalar(READ, (2,)) is None  # other parameters: asked again
    assert reads(ran) == 2


async def test_a_commit_forgets_what_was_read(database: Database, ran: list[str]) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    async with database.transaction() as tx:
        await tx.execute("UPDATE notes SET value = 'second' WHERE id = 1")
    assert await database.scalar(READ, (1,)) == "second"
    assert reads(ran) == 2


async def test_a_rollback_forgets_too(database: Database) -> None:
    seen: list[str] = []

    async def failing_action() -> None:
        async with database.transaction() as tx:
            await tx.execute("UPDATE notes SET value = 'never' WHERE id = 1")
            # read through the database inside the task's own transaction: its own rows
            seen.append(await database.scalar(READ, (1,)))
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        await failing_action()
    assert seen == ["never"]
    assert await database.scalar(READ, (1,)) == "first"


async def test_inside_a_transaction_only_what_it_has_not_written_is_recalled(
    database: Database, ran: list[str]
) -> None:
    others = "SELECT count(*) FROM other"
    assert await database.scalar(READ, (1,)) == "first"  # remembered
    assert await database.scalar(others) == 0
    async with database.transaction() as tx:
        assert await tx.scalar(READ, (1,)) == "first"  # recalled: nothing written yet
        await tx.execute("UPDATE notes SET value = 'second' WHERE id = 1")
        assert await database.scalar(READ, (1,)) == "second"  # its own row, read
        assert await tx.scalar(READ, (1,)) == "second"
        assert await tx.scalar(others) == 0  # not written: still recalled
    assert reads(ran) == 3
    assert ran.count(others) == 1


async def test_a_transaction_sees_another_connections_commit_at_once(
    database: Database,
) -> None:
    assert await database.scalar(READ, (1,)) == "first"  # remembered, looked just now
    with sqlite3.connect(database.path) as other:
        other.execute("UPDATE notes SET value = 'from elsewhere' WHERE id = 1")
    async with database.transaction() as tx:  # decides on what is committed, exactly
        assert await tx.scalar(READ, (1,)) == "from elsewhere"


@asynccontextmanager
async def held_open(database: Database, statement: str) -> AsyncIterator[asyncio.Task[None]]:
    """Another task's transaction that has run `statement` and not yet committed; it
    commits when the block ends (the task is awaited then)."""
    changing, release = asyncio.Event(), asyncio.Event()

    async def change() -> None:
        async with database.transaction() as tx:
            await tx.execute(statement)
            changing.set()
            await release.wait()

    writer = asyncio.create_task(change())
    await changing.wait()
    try:
        yield writer
    finally:
        release.set()
        await writer


async def test_another_task_never_sees_uncommitted_rows(database: Database) -> None:
    async with held_open(database, "INSERT INTO notes (id, value) VALUES (2, 'uncommitted')"):
        # remembered from before nothing: waits for the commit, then reads what it committed
        reader = asyncio.create_task(database.scalar(READ, (2,)))
        await asyncio.sleep(0.05)
        assert not reader.done()
    assert await reader == "uncommitted"


async def test_an_answer_from_before_a_transaction_is_its_state_before_it(
    database: Database,
) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    async with held_open(database, "UPDATE notes SET value = 'second' WHERE id = 1"):
        # the committed state, as another connection would read it, without waiting
        assert await asyncio.wait_for(database.scalar(READ, (1,)), 1) == "first"
    assert await database.scalar(READ, (1,)) == "second"


async def test_another_connections_commit_is_noticed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "LOOK_AGAIN_SECONDS", 0.0)
    assert await database.scalar(READ, (1,)) == "first"
    with sqlite3.connect(database.path) as other:  # an operator's sqlite3 shell
        other.execute("UPDATE notes SET value = 'from elsewhere' WHERE id = 1")
    assert await database.scalar(READ, (1,)) == "from elsewhere"


async def test_long_answers_and_other_statements_are_not_remembered(
    database: Database, ran: list[str]
) -> None:
    async with database.transaction() as tx:
        for index in range(2, db.REMEMBERED_ROWS + 3):
            await tx.execute("INSERT INTO notes (id, value) VALUES (?, 'x')", (index,))
    ran.clear()
    everything = "SELECT value FROM notes ORDER BY id"
    assert len(await database.fetchall(everything)) == db.REMEMBERED_ROWS + 2
    assert len(await database.fetchall(everything)) == db.REMEMBERED_ROWS + 2
    assert reads(ran) == 2
    assert await database.scalar("PRAGMA user_version") == 0
    assert await database.scalar("PRAGMA user_version") == 0
    assert sum(1 for statement in ran if statement == "PRAGMA user_version") == 2


async def test_a_write_to_another_table_keeps_the_answer(
    database: Database, ran: list[str]
) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO other (id) VALUES (7)")
    assert await database.scalar(READ, (1,)) == "first"
    assert reads(ran) == 1
    assert await database.scalar("SELECT count(*) FROM other") == 1


async def test_a_cascade_forgets_what_read_the_child_table(
    database: Database, ran: list[str]
) -> None:
    tags = "SELECT tag FROM tags WHERE note_id = ?"
    untouched = "SELECT count(*) FROM other"
    assert [row["tag"] for row in await database.fetchall(tags, (1,))] == ["red"]
    assert await database.scalar(untouched) == 0
    async with database.transaction() as tx:
        await tx.execute("DELETE FROM notes WHERE id = 1")  # its tags go by cascade
    assert await database.fetchall(tags, (1,)) == []
    assert await database.scalar(untouched) == 0
    assert ran.count(untouched) == 1  # told apart: only what read the written tables went


async def test_a_join_is_forgotten_when_any_of_its_tables_is_written(database: Database) -> None:
    joined = "SELECT n.value, t.tag FROM notes AS n JOIN tags AS t ON t.note_id = n.id"
    assert [tuple(row) for row in await database.fetchall(joined)] == [("first", "red")]
    async with database.transaction() as tx:
        await tx.execute("UPDATE tags SET tag = 'blue'")
    assert [tuple(row) for row in await database.fetchall(joined)] == [("first", "blue")]


async def test_rows_no_trigger_reported_forget_everything(database: Database) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    async with database.transaction() as tx:
        # as if `notes` had been made after remembering started: no trigger reports it
        await tx.execute('DROP TRIGGER "balint_table_changed_notes_update"')
    async with database.transaction() as tx:
        await tx.execute("UPDATE notes SET value = 'unreported' WHERE id = 1")
    assert await database.scalar(READ, (1,)) == "unreported"


async def test_an_answer_holding_a_ciphertext_is_never_remembered(
    database: Database, ran: list[str]
) -> None:
    secret = "SELECT ciphertext FROM sealed WHERE id = ?"
    counted = "SELECT count(*) FROM sealed WHERE ciphertext IS NOT NULL"
    for _ in range(2):
        assert await database.scalar(secret, (1,)) == b"\x00\xff"
        assert await database.scalar(counted) == 1
    assert sum(1 for statement in ran if statement.startswith("SELECT ciphertext")) == 2
    assert ran.count(counted) == 1  # no secret in it: remembered
    assert database._remembered is not None
    assert len(database._remembered) == 1


async def test_a_database_opened_without_it_remembers_nothing(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "plain.db")
    try:
        statements: list[str] = []
        await database._connection.set_trace_callback(statements.append)
        assert await database.scalar("SELECT 1") == 1
        assert await database.scalar("SELECT 1") == 1
        assert statements.count("SELECT 1") == 2
    finally:
        await database.close()


async def test_a_read_with_a_blob_parameter_is_never_remembered(
    database: Database, ran: list[str]
) -> None:
    by_secret = "SELECT id FROM sealed WHERE ciphertext = ?"
    for _ in range(2):  # (a reflection's tag is looked up so)
        assert await database.scalar(by_secret, (b"\x00\xff",)) == 1
    assert sum(1 for statement in ran if statement.startswith("SELECT id FROM sealed")) == 2


async def test_rows_written_to_a_table_no_trigger_watches_forget_everything(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE later (id INTEGER PRIMARY KEY)")  # made after
    assert await database.scalar("SELECT count(*) FROM later") == 0
    assert await database.scalar(READ, (1,)) == "first"
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO later (id) VALUES (1)")  # not reported
        await tx.execute("INSERT INTO other (id) VALUES (1)")  # reported
    assert await database.scalar("SELECT count(*) FROM later") == 1


async def test_forgotten_answers_leave_nothing_filed(database: Database) -> None:
    joined = "SELECT n.value FROM notes AS n JOIN tags AS t ON t.note_id = n.id WHERE n.id = ?"
    for key in range(500):  # answers filed under both tables, keyed by the second, say
        await database.fetchall(joined, (key,))
    async with database.transaction() as tx:
        await tx.execute("UPDATE notes SET value = 'second' WHERE id = 1")
    remembered = database._remembered
    assert remembered is not None
    assert len(remembered) == 0
    assert all(not keys for keys in remembered._readers.values())


async def test_a_durable_transaction_cancelled_at_its_end_still_forgets(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await database.scalar(READ, (1,)) == "first"
    control = database._control

    async def cancelled_after_reset(statement: str) -> None:
        await control(statement)
        if statement == "PRAGMA synchronous = NORMAL":
            raise asyncio.CancelledError  # as if the task was cancelled meanwhile

    monkeypatch.setattr(database, "_control", cancelled_after_reset)

    async def send() -> None:
        async with database.transaction(durable=True) as tx:
            await tx.execute("UPDATE notes SET value = 'second' WHERE id = 1")

    with pytest.raises(asyncio.CancelledError):
        await send()
    monkeypatch.undo()
    assert await database.scalar(READ, (1,)) == "second"
    async with database.transaction() as tx:  # and the next transaction can start
        await tx.execute("UPDATE notes SET value = 'third' WHERE id = 1")
    assert await database.scalar(READ, (1,)) == "third"


async def test_inside_a_transaction_an_answer_naming_no_table_is_not_recalled_after_a_write(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO other (id) VALUES (5)")
        assert await tx.scalar("SELECT last_insert_rowid()") == 5
        await tx.execute("INSERT INTO other (id) VALUES (6)")
        assert await tx.scalar("SELECT last_insert_rowid()") == 6
