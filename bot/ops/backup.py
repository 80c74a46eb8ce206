"""`python -m bot backup PATH`: a consistent copy of the database, safe while the bot runs.

SQLite's online backup API copies the pages in one step, inside one read transaction: the
copy is the database as of one instant, whatever the bot writes meanwhile (in WAL mode a
reader never blocks the writer). The copy is written beside its final name, made a single
self-contained file (rollback journal, no `-wal`), checked (`integrity_check`, schema
version) by opening it again, and only then given its name, without replacing a file that
exists unless asked to.

The key is not in the copy: without it, its case notes and reflections cannot be read.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.ops import OpsError
from bot.ops.readonly import has_table, open_read_only, schema_version

# What the report counts in the copy (tables that may not exist in an old schema).
COUNTED = (
    ("groups", "groups"),
    ("sessions", "sessions"),
    ("cases", "case notes and flags"),
    ("reflections", "reflections"),
)


@dataclass(frozen=True)
class BackedUp:
    path: Path
    schema: int
    size_bytes: int
    seconds: float
    counts: dict[str, int]


def destination(database_path: Path, target: Path, now: datetime) -> Path:
    """`target` itself, or, for a folder, a file in it named after the database and the
    time (`balint-20261201T190000Z.db`)."""
    if target.is_dir():
        return target / f"{database_path.stem}-{now.strftime('%Y%m%dT%H%M%SZ')}.db"
    return target


def back_up(database_path: Path, target: Path, *, now: datetime, overwrite: bool) -> BackedUp:
    """Copy the database to `target` (a file, or a folder) and verify the copy."""
    started = time.monotonic()
    path = destination(database_path, target, now)
    if path.exists() and not overwrite:
        raise OpsError(f"{path} already exists: choose another name, or add --overwrite")
    if path.exists() and path.resolve() == database_path.resolve():
        raise OpsError("the backup cannot replace the database itself")
    if not path.parent.is_dir():
        raise OpsError(f"the folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        schema = _copy(database_path, partial)
        counts = verify_copy(partial, schema)
        _put_in_place(partial, path, overwrite=overwrite)
    except OSError as error:
        raise OpsError(f"cannot write the backup {path}: {error.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackedUp(path, schema, path.stat().st_size, time.monotonic() - started, counts)


def _copy(database_path: Path, partial: Path) -> int:
    """The online backup into `partial` (created readable by this user only)."""
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with closing(open_read_only(database_path)) as source:
        schema = schema_version(source)
        try:
            with closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # all pages in one step: one consistent snapshot
                copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        except sqlite3.Error as error:
            raise OpsError(f"the backup failed: {error}") from None
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return schema


def verify_copy(path: Path, schema: int) -> dict[str, int]:
    """Open the copy as a database again: it must be whole and at `schema`."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as copy:
            verdict = [str(row[0]) for row in copy.execute("PRAGMA integrity_check(3)")]
            if verdict != ["ok"]:
                raise OpsError(f"the copy failed its integrity check ({verdict[0]}); try again")
            if schema_version(copy) != schema:
                raise OpsError("the copy is not at the database's schema version; try again")
            return {
                label: int(copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table, label in COUNTED
                if has_table(copy, table)
            }
    except sqlite3.DatabaseError as error:
        raise OpsError(f"the copy cannot be read back: {error}; try again") from None


def _put_in_place(partial: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, path)
    else:
        os.link(partial, path)  # fails if `path` appeared meanwhile: nothing is replaced
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def report(backed_up: BackedUp, key_location: str) -> list[str]:
    counts = ", ".join(f"{count} {label}" for label, count in backed_up.counts.items())
    return [
        f"backed up to {backed_up.path} ({backed_up.size_bytes / 1e6:.1f} MB, "
        f"schema {backed_up.schema}, {backed_up.seconds:.1f} s): {counts}",
        "checked: the copy opens as a database and passes SQLite's integrity check",
        f"remember: the key is NOT in the backup. Without it ({key_location}) the case "
        "notes and reflections in the backup cannot be read: keep a copy of the key "
        "somewhere safe, apart from the backups.",
    ]
