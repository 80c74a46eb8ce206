"""Database: WAL, foreign keys, migrations applied once, newer schemas refused."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.kernel.db import Database, DatabaseError, Migration, bundled_migrations, split_statements


async def test_open_sets_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        assert await database.scalar("PRAGMA journal_mode") == "wal"
        assert await database.scalar("PRAGMA foreign_keys") == 1
    finally:
        await database.close()


async def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        latest = bundled_migrations()[-1].version
        assert await database.migrate() == latest
        schema_before = await database.fetchall("SELECT name, sql FROM sqlite_master ORDER BY name")
        assert await database.migrate() == latest
        schema_after = await database.fetchall("SELECT name, sql FROM sqlite_master ORDER BY name")
        assert [tuple(row) for row in schema_before] == [tuple(row) for row in schema_after]
        assert await database.schema_version() == latest
    finally:
        await database.close()


async def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    good = Migration(1, "0001_a.sql", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "0002_b.sql", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);")
    try:
        with pytest.raises(DatabaseError, match=r"0002_b\.sql failed"):
            await database.migrate([good, bad])
        assert await database.schema_version() == 1
        tables = {row["name"] for row in await database.fetchall("SELECT name FROM sqlite_master")}
        assert "b" not in tables
    finally:
        await database.close()


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    database = await Database.open(path)
    try:
        with pytest.raises(DatabaseError, match="newer version of the bot"):
            await database.migrate()
    finally:
        await database.close()


async def test_garbage_file_is_unreadable_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="unreadable"):
        await Database.open(path)


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        await database.migrate()

        async def insert_then_fail() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            await insert_then_fail()
        assert await database.scalar("SELECT count(*) FROM meta WHERE key = 'a'") == 0
    finally:
        await database.close()


def test_split_statements_keeps_triggers_whole() -> None:
    script = """
    -- a comment
    CREATE TABLE t (x INTEGER);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 1;
    END;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


async def test_reads_inside_own_transaction_see_its_writes(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        await database.migrate()
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            assert await database.scalar("SELECT value FROM meta WHERE key = 'k'") == "v"
    finally:
        await database.close()


async def test_other_tasks_do_not_see_uncommitted_rows(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        await database.migrate()
        inserted = asyncio.Event()
        release = asyncio.Event()

        async def writer() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
                inserted.set()
                await release.wait()
                raise_rollback = True
                if raise_rollback:
                    raise LookupError

        task = asyncio.create_task(writer())
        await inserted.wait()
        reader = asyncio.create_task(database.scalar("SELECT count(*) FROM meta WHERE key = 'k'"))
        await asyncio.sleep(0.05)
        assert not reader.done()  # it waits for the writer's transaction to end
        release.set()
        with pytest.raises(LookupError):
            await task
        assert await reader == 0
    finally:
        await database.close()


def files_of(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


@pytest.mark.parametrize("erase", [True, False], ids=["erased", "only-deleted"])
async def test_an_erasure_leaves_nothing_on_the_disk(tmp_path: Path, erase: bool) -> None:
    """Deleting inside a transaction that erases leaves the bytes in neither the file nor
    its log; without `erase_from_disk` they are still there (so the check can fail)."""
    path = tmp_path / "x.db"
    # long enough to span overflow pages: both ends are looked for
    secret = b"SECRET-HEAD-" + bytes(range(48, 122)) * 90 + b"-SECRET-TAIL"
    marks = (secret[:12], secret[-12:])
    database = await Database.open(path)
    try:
        async with database.transaction() as tx:
            await tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB)")
            await tx.execute("INSERT INTO t (blob) VALUES (?)", (secret,))
            await tx.execute("INSERT INTO t (blob) VALUES (?)", (b"other row",))
        await database.checkpoint()
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO t (blob) VALUES (?)", (b"kept in the log",))
        assert all(mark in files_of(path) for mark in marks)
        async with database.transaction() as tx:
            await tx.execute("DELETE FROM t WHERE blob = ?", (secret,))
            if erase:
                tx.erase_from_disk()
        on_disk = files_of(path)
        assert any(mark in on_disk for mark in marks) is not erase
        if erase:
            assert len(Path(f"{path}-wal").read_bytes()) == 0  # noqa: ASYNC240
        assert await database.scalar("SELECT count(*) FROM t") == 2
    finally:
        await database.close()


async def test_secure_delete_is_on(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        assert await database.scalar("PRAGMA secure_delete") == 1
    finally:
        await database.close()


async def test_secure_delete_is_turned_on_even_where_sqlite_defaults_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine's SQLite may be built with secure deletion on: start from off."""
    import aiosqlite

    real_connect = aiosqlite.connect

    async def connect_insecurely(*args: object, **kwargs: object) -> aiosqlite.Connection:
        connection = await real_connect(*args, **kwargs)  # type: ignore[arg-type]
        await connection.execute("PRAGMA secure_delete = OFF")
        return connection

    monkeypatch.setattr(aiosqlite, "connect", connect_insecurely)
    database = await Database.open(tmp_path / "x.db")
    try:
        assert await database.scalar("PRAGMA secure_delete") == 1
    finally:
        await database.close()


def test_opening_finishes_an_erasure_a_crash_interrupted(tmp_path: Path) -> None:
    """A crash between an erasure's commit and its checkpoint leaves the old page in the
    log: the next start checkpoints it away."""
    import shutil

    path, copy = tmp_path / "x.db", tmp_path / "copy.db"
    secret = b"SECRET-HEAD-" + bytes(range(48, 122)) * 40
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA wal_autocheckpoint = 0")
    raw.execute("PRAGMA secure_delete = ON")
    raw.execute("CREATE TABLE t (blob BLOB)")
    raw.execute("INSERT INTO t VALUES (?)", (secret,))
    raw.execute("DELETE FROM t")
    shutil.copy(path, copy)  # the files as a crash leaves them, the log not folded in
    shutil.copy(f"{path}-wal", f"{copy}-wal")
    raw.close()
    assert secret[:12] in Path(f"{copy}-wal").read_bytes()

    async def reopen() -> None:
        database = await Database.open(copy)
        try:
            wal = Path(f"{copy}-wal")
            assert not wal.exists() or wal.stat().st_size == 0  # noqa: ASYNC240
            assert secret[:12] not in copy.read_bytes()
        finally:
            await database.close()

    asyncio.run(reopen())


async def statements_of(database: Database) -> list[str]:
    statements: list[str] = []
    await database._connection.set_trace_callback(statements.append)
    return statements


async def test_a_durable_commit_is_synced_and_the_next_one_is_not(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")
    try:
        ran = await statements_of(database)
        async with database.transaction(durable=True) as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        assert ran == [
            "PRAGMA synchronous = FULL",  # 2: the log is synced at each commit
            "BEGIN IMMEDIATE",
            "CREATE TABLE t (x INTEGER)",
            "COMMIT",
            "PRAGMA synchronous = NORMAL",
        ]
        assert await database.scalar("PRAGMA synchronous") == 1  # NORMAL again
        ran.clear()
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO t (x) VALUES (1)")
        assert not any("synchronous" in statement for statement in ran)
    finally:
        await database.close()


async def test_a_durable_transaction_that_fails_leaves_commits_as_before(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "x.db")

    async def failing() -> None:
        async with database.transaction(durable=True) as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            raise RuntimeError("the action failed")

    try:
        with pytest.raises(RuntimeError):
            await failing()
        assert await database.scalar("PRAGMA synchronous") == 1
        assert await database.scalar("SELECT count(*) FROM sqlite_schema") == 0
    finally:
        await database.close()
