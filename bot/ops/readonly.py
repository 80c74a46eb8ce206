"""Reading the bot's database without changing anything, even beside it.

SQLite opened with `mode=ro` still creates the write-ahead log's two files (`-wal`,
`-shm`) when they are missing, and cannot remove them again. Files created so by a tool
run as another user (root, from cron) would then be unwritable for the bot. So:

- while the bot runs (or after it crashed), the log files exist: `mode=ro` reads the
  database and its log through them, without blocking the bot;
- when it is stopped cleanly, they do not exist and the database file is all there is:
  `immutable=1` reads it without creating them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.kernel.crypto import KEY_CHECK_META, Cipher, matches_key_check
from bot.kernel.db import bundled_migrations
from bot.ops import OpsError

BUSY_TIMEOUT_SECONDS = 5.0


def wal_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + "-wal")


def open_read_only(path: Path) -> sqlite3.Connection:
    """The database at `path`, read-only; `OpsError` (one line) if it is not usable."""
    if not path.is_file():
        raise OpsError(f"there is no database at {path}")
    query = "mode=ro" if wal_file_for(path).exists() else "mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?{query}", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
    except sqlite3.Error as error:
        raise OpsError(f"cannot open the database {path}: {error}") from None
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as error:
        connection.close()
        raise OpsError(f"the database {path} is unreadable: {error}") from None
    return connection


def schema_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def latest_schema() -> int:
    """The schema version this version of the bot migrates a database to."""
    return bundled_migrations()[-1].version


def has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def stored_key_check(connection: sqlite3.Connection) -> str | None:
    """The key check value the bot recorded at its first start (None before that)."""
    if not has_table(connection, "meta"):
        return None
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (KEY_CHECK_META,)).fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class KeyVerdict:
    matches: bool | None  # None: the database has recorded no key yet
    detail: str


def judge_key(connection: sqlite3.Connection, key: bytes) -> KeyVerdict:
    """Whether `key` is the one the database was written with, the way the bot checks it
    at start (`verify_key`), without recording anything."""
    stored = stored_key_check(connection)
    if stored is None:
        return KeyVerdict(None, "the database has no key recorded yet")
    if matches_key_check(stored, Cipher(key)):
        return KeyVerdict(True, "it is the key this database was written with")
    return KeyVerdict(False, "it is not the key this database was written with")
