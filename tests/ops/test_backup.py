"""`python -m bot backup PATH`: a consistent, checked copy, even during a burst of writes."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from bot import __main__ as entry
from bot.kernel.db import Database
from bot.ops import OpsError
from bot.ops.backup import back_up
from bot.ops.readonly import latest_schema
from tests.groups.test_one_transaction import NOW
from tests.ops.conftest import Written, listing, put_key_file

PAIRS = 4000  # rows the writer commits, two at a time


def fill(path: Path, rows: int) -> None:
    """Bulk, so that the copy takes long enough for the writer to run meanwhile."""
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO audit (guild_id, actor_id, action, detail, at)"
            " VALUES (1, 1, 'bulk', ?, 0)",
            [("x" * 2000,) for _ in range(rows)],
        )


def writer(path: Path, stop: threading.Event, committed: list[int]) -> None:
    """Another connection writing as fast as it can: each transaction adds two rows, so a
    consistent copy always holds an even number of them."""
    raw = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        for n in range(PAIRS):
            if stop.is_set():
                break
            raw.execute("BEGIN IMMEDIATE")
            for _ in range(2):
                raw.execute(
                    "INSERT INTO audit (guild_id, actor_id, action, at) VALUES (2, 2, 'pair', ?)",
                    (n,),
                )
            raw.execute("COMMIT")
            committed.append(n)
    finally:
        raw.close()


async def test_a_backup_during_a_burst_of_writes_is_consistent(
    written: Written, tmp_path: Path
) -> None:
    database = await Database.open(written.path)  # the bot, holding the database open
    try:
        fill(written.path, 5000)
        stop, committed = threading.Event(), []
        thread = threading.Thread(target=writer, args=(written.path, stop, committed))
        thread.start()
        while len(committed) < 50:  # the burst is under way
            pass
        try:
            at_start = len(committed)
            backed_up = back_up(written.path, tmp_path / "copy.db", now=NOW, overwrite=False)
            during = len(committed)
        finally:
            stop.set()
            thread.join()
    finally:
        await database.close()
    assert during > at_start  # the writer went on committing while the copy was made
    with sqlite3.connect(f"file:{backed_up.path}?mode=ro", uri=True) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA user_version").fetchone()[0] == latest_schema()
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        pairs = copy.execute("SELECT count(*) FROM audit WHERE action = 'pair'").fetchone()[0]
        assert pairs % 2 == 0  # never half a transaction
        # the database as of one instant during the copy
        assert 2 * at_start <= pairs <= 2 * (during + 1)
        assert copy.execute("SELECT count(*) FROM cases WHERE kind = 'note'").fetchone()[0] == 1
    assert backed_up.counts["groups"] == 1
    assert stat.S_IMODE(backed_up.path.stat().st_mode) == 0o600
    assert listing(tmp_path) >= {"copy.db"}
    assert not [name for name in listing(tmp_path) if "partial" in name]


async def test_the_copy_opens_as_the_bot_s_database(written: Written, tmp_path: Path) -> None:
    """Restoring is copying it back: the bot's own database layer opens and uses it."""
    backed_up = back_up(written.path, tmp_path / "copy.db", now=NOW, overwrite=False)
    database = await Database.open(backed_up.path)
    try:
        assert await database.migrate() == latest_schema()  # nothing left to migrate
        assert await database.scalar("SELECT count(*) FROM reflections") == 4
    finally:
        await database.close()


def test_an_existing_file_is_not_replaced_unless_asked(written: Written, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_text("precious")
    with pytest.raises(OpsError, match="already exists: choose another name, or add --overwrite"):
        back_up(written.path, target, now=NOW, overwrite=False)
    assert target.read_text() == "precious"
    back_up(written.path, target, now=NOW, overwrite=True)
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM groups").fetchone()[0] == 1


def test_a_folder_gets_a_file_named_by_the_time(written: Written, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    backed_up = back_up(written.path, folder, now=NOW, overwrite=False)
    assert backed_up.path == folder / "balint-20261123T090000Z.db"


def test_the_database_itself_cannot_be_the_target(written: Written) -> None:
    with pytest.raises(OpsError):
        back_up(written.path, written.path, now=NOW, overwrite=True)


def test_no_database_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="there is no database at"):
        back_up(tmp_path / "missing.db", tmp_path / "copy.db", now=NOW, overwrite=False)
    assert listing(tmp_path) == set()


async def test_the_command_reminds_that_the_key_is_not_in_the_backup(
    written: Written, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_key_file(operator_env)
    args = entry.build_parser().parse_args(["backup", str(operator_env / "copy.db")])
    assert await entry.dispatch(args) == 0
    out = capsys.readouterr().out
    assert f"backed up to {operator_env / 'copy.db'}" in out
    assert "the key is NOT in the backup" in out
    assert str(operator_env / "balint.db.key") in out
    assert await entry.dispatch(args) == 2  # a second time: the file exists
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "already exists" in err[0]
