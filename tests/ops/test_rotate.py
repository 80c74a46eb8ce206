"""`python -m bot rotate-key`: afterwards the new key reads everything the bot stored and
the old key reads nothing; it refuses to run beside a running bot."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
from pathlib import Path

import pytest

from bot import __main__ as entry
from bot.cases import service as case_service
from bot.kernel.clock import ManualClock, from_unix
from bot.kernel.config import decode_key, encode_key, key_file_for
from bot.kernel.crypto import Cipher, InvalidTag, KeyMismatch, verify_key
from bot.kernel.db import Database
from bot.ops import OpsError
from bot.ops.lock import DatabaseInUse, RunLock
from bot.ops.readonly import latest_schema
from bot.ops.rotate import ENCRYPTED_COLUMNS, new_key_file_for, rotate_key
from bot.reflections import service as reflection_service
from tests.double import DiscordDouble
from tests.groups.test_one_transaction import ALICE, NOW
from tests.ops.conftest import (
    KEY,
    NOTE,
    OPEN_TEXT,
    RELEASED,
    Written,
    put_key_file,
    settings_for,
)


def sealed_blobs(path: Path) -> list[tuple[str, bytes, bytes]]:
    """Every ciphertext the rotation knows of, with the context it is bound to."""
    with sqlite3.connect(path) as raw:
        raw.row_factory = sqlite3.Row
        return [
            (column.table, row["sealed"], column.context(row))
            for column in ENCRYPTED_COLUMNS
            for row in raw.execute(column.select)
        ]


async def read_everything(path: Path, cipher: Cipher, written: Written) -> dict[str, object]:
    """What leaders and members would be shown, through the bot's own services."""
    database = await Database.open(path)
    try:
        await verify_key(database, cipher)
        held = await case_service.held_cases(database, cipher, written.group, NOW)
        batch = await reflection_service.batch(database, cipher, written.released_session)
        window = await database.scalar(
            "SELECT closes_at FROM reflection_windows WHERE session_id = ?",
            (written.open_session,),
        )
        own = await reflection_service.may_write(
            database, cipher, written.open_session, ALICE, from_unix(window - 60)
        )
    finally:
        await database.close()
    return {
        "notes": sorted(n.text or "" for h in held for n in h.notes if not n.is_flag),
        "released": sorted(item.text or "" for item in batch.items),
        "own": None if own is None else own.text,
    }


async def test_after_rotation_the_new_key_reads_everything_and_the_old_nothing(
    written: Written, tmp_path: Path
) -> None:
    old_key_file = put_key_file(tmp_path)
    before = sealed_blobs(written.path)
    assert sorted({table for table, _, _ in before}) == [
        "cases",
        "reflection_windows",
        "reflections",
    ]

    rotated = await rotate_key(settings_for(tmp_path), NOW)

    new_key = decode_key(key_file_for(written.path).read_text())
    assert new_key == rotated.new_key != KEY
    assert stat.S_IMODE(key_file_for(written.path).stat().st_mode) == 0o600
    assert rotated.old_key_file is not None
    assert decode_key(rotated.old_key_file.read_text()) == KEY  # the old one, kept beside it
    assert old_key_file.exists()
    assert not new_key_file_for(written.path).exists()
    assert rotated.counts == {
        "case notes": 1,
        "open reflection windows' secrets": 1,
        "reflections": 4,
    }

    after = sealed_blobs(written.path)
    assert len(after) == len(before) == 6
    old, new = Cipher(KEY), Cipher(new_key)
    for table, blob, context in after:
        with pytest.raises(InvalidTag):
            old.decrypt(blob, context)
        new.decrypt(blob, context)  # opens
        assert table
    # What people are shown, read back through the bot's services with the new key
    shown = await read_everything(written.path, new, written)
    assert shown == {
        "notes": [NOTE],
        "released": sorted(RELEASED.values()),
        "own": OPEN_TEXT,
    }
    # and the bot refuses the old key at start
    database = await Database.open(written.path)
    try:
        with pytest.raises(KeyMismatch):
            await verify_key(database, old)
    finally:
        await database.close()


async def test_no_old_ciphertext_is_left_in_the_files(written: Written, tmp_path: Path) -> None:
    files = [tmp_path / name for name in ("balint.db", "balint.db-wal", "balint.db-shm")]
    put_key_file(tmp_path)
    before = [blob for _, blob, _ in sealed_blobs(written.path)]
    await rotate_key(settings_for(tmp_path), NOW)
    on_disk = b"".join(path.read_bytes() for path in files if path.exists())
    for blob in before:
        assert blob[12:44] not in on_disk  # nonce aside, a part of each old ciphertext


async def test_a_key_from_the_environment_is_printed_for_the_operator(
    written: Written,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_PATH": str(written.path),
        "ENCRYPTION_KEY": encode_key(KEY),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)  # the rotation does not need it
    status = await entry.dispatch(entry.build_parser().parse_args(["rotate-key"]))
    out = capsys.readouterr().out
    assert status == 0, out
    [printed] = [
        line.strip() for line in out.splitlines() if line.strip().startswith("ENCRYPTION_KEY=")
    ]
    new_key = decode_key(printed.removeprefix("ENCRYPTION_KEY="))
    assert decode_key(new_key_file_for(written.path).read_text()) == new_key  # not lost
    assert not key_file_for(written.path).exists()  # no key file where the bot reads none
    for _, blob, context in sealed_blobs(written.path):
        Cipher(new_key).decrypt(blob, context)


async def test_refused_while_the_lock_is_held_and_nothing_changes(
    written: Written, tmp_path: Path
) -> None:
    put_key_file(tmp_path)
    before = written.path.read_bytes()
    with RunLock(written.path), pytest.raises(DatabaseInUse, match="cannot rotate the key"):
        await rotate_key(settings_for(tmp_path), NOW)
    assert written.path.read_bytes() == before
    assert decode_key(key_file_for(written.path).read_text()) == KEY
    assert not new_key_file_for(written.path).exists()


async def test_refused_while_the_bot_runs(
    written: Written, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real entry point holds the lock while the bot runs: rotation refuses, and so
    does a second bot on the same database."""
    put_key_file(tmp_path)
    settings = settings_for(tmp_path)
    async with DiscordDouble(token=settings.token) as double:
        with double.patch_discord():
            running = asyncio.create_task(
                entry.serve(settings, clock=ManualClock(NOW), guild_ready_timeout=0.05)
            )
            for _ in range(500):
                if double.gateway.identifies:
                    break
                await asyncio.sleep(0.01)
            assert double.gateway.identifies
            with pytest.raises(DatabaseInUse, match="in use by a running bot"):
                await rotate_key(settings, NOW)
            second = await entry.serve(settings, clock=ManualClock(NOW))
            err = capsys.readouterr().err.splitlines()
            assert second == 2
            assert err == [
                f"balint-bot: error: cannot start the bot: the database {written.path} is in "
                "use by a running bot or a key rotation (it holds balint.db.lock); stop that "
                "one first"
            ]
            os.kill(os.getpid(), signal.SIGTERM)
            assert await asyncio.wait_for(running, 10) == 0
    # stopped: the lock is free, the rotation runs
    await rotate_key(settings, NOW)


async def test_a_wrong_key_is_refused_before_anything_changes(
    written: Written, tmp_path: Path
) -> None:
    put_key_file(tmp_path, b"\x07" * 32)
    before = written.path.read_bytes()
    with pytest.raises(OpsError, match="not the one this database was written with"):
        await rotate_key(settings_for(tmp_path), NOW)
    assert written.path.read_bytes() == before
    assert not new_key_file_for(written.path).exists()


async def test_an_old_schema_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "balint.db") as raw:
        raw.execute(f"PRAGMA user_version = {latest_schema() - 1}")
    put_key_file(tmp_path)
    with pytest.raises(OpsError, match="start the bot once"):
        await rotate_key(settings_for(tmp_path), NOW)


def test_every_blob_column_is_rotated_or_known_not_to_be_encrypted(tmp_path: Path) -> None:
    """A new encrypted column must be added to the rotation: every BLOB column of the
    schema is either rotated or one of the columns known to hold no ciphertext."""
    not_encrypted = {
        ("reflections", "key"),  # random row key
        ("reflections", "author_tag"),  # HMAC under the window's secret
        ("reflection_writers", "tag"),  # likewise
    }

    async def migrate() -> None:
        database = await Database.open(tmp_path / "schema.db")
        await database.migrate()
        await database.close()

    asyncio.run(migrate())
    with sqlite3.connect(tmp_path / "schema.db") as raw:
        tables = [
            row[0] for row in raw.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        ]
        blobs = {
            (table, column[1])
            for table in tables
            for column in raw.execute(f"PRAGMA table_info({table})")
            if column[2].upper() == "BLOB"
        }
    rotated = {(column.table, column.column) for column in ENCRYPTED_COLUMNS}
    assert blobs - not_encrypted == rotated
