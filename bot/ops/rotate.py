"""`python -m bot rotate-key`: every stored secret re-encrypted under a new key, at once.

What the key encrypts (each bound to its row, see the capabilities' `rules.py`):
- `cases.ciphertext`: a presenter's case note, bound to group, session and author;
- `reflection_windows.secret`: an open window's HMAC secret, bound to group and session;
- `reflections.ciphertext`: a reflection (text and rating), bound to group and session.
The HMAC tags (`reflections.author_tag`, `reflection_writers.tag`) are keyed by the
window's secret, not by the bot's key, so they stay as they are. A test compares this
list with every BLOB column of the schema, so a new encrypted column cannot be missed.

The order of the steps keeps a key for every state the files can be left in:
1. the lock (a running bot refuses to start meanwhile; a running bot makes this refuse);
2. the old key checked against the database, the new key written to `<db>.key.new`,
   the old key file copied to `<db>.key.old-<time>`;
3. one transaction: every ciphertext and the key check value replaced (secure deletion
   on, the write-ahead log truncated afterwards: the old ciphertexts leave the disk);
4. `<db>.key.new` renamed over `<db>.key` (one atomic step).
Interrupted after 3 and before 4, the bot refuses the old key with one line, and
`<db>.key.new` holds the key the database now uses.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from sqlite3 import Row

from bot.cases.rules import note_context
from bot.kernel.config import KEY_BYTES, Settings, encode_key, key_file_for, write_key_file
from bot.kernel.crypto import KEY_CHECK_META, Cipher, InvalidTag
from bot.kernel.db import Database, DatabaseError, Transaction
from bot.ops import OpsError
from bot.ops.lock import RunLock
from bot.ops.readonly import judge_key, latest_schema, open_read_only, schema_version
from bot.reflections.rules import secret_context, text_context


@dataclass(frozen=True)
class EncryptedColumn:
    """One column of ciphertexts: how to read each with the context it is bound to, and
    how to write it back."""

    table: str
    column: str
    select: str  # yields `row_key`, `sealed` and what `context` needs
    update: str  # parameters: (new ciphertext, row_key)
    context: Callable[[Row], bytes]
    what: str  # plural, for the report


ENCRYPTED_COLUMNS = (
    EncryptedColumn(
        "cases",
        "ciphertext",
        "SELECT c.id AS row_key, c.ciphertext AS sealed, c.session_id, c.member_id, s.group_id"
        " FROM cases c JOIN sessions s ON s.id = c.session_id WHERE c.ciphertext IS NOT NULL",
        "UPDATE cases SET ciphertext = ? WHERE id = ?",
        lambda row: note_context(row["group_id"], row["session_id"], row["member_id"]),
        "case notes",
    ),
    EncryptedColumn(
        "reflection_windows",
        "secret",
        "SELECT w.session_id AS row_key, w.secret AS sealed, w.session_id, s.group_id"
        " FROM reflection_windows w JOIN sessions s ON s.id = w.session_id"
        " WHERE w.secret IS NOT NULL",
        "UPDATE reflection_windows SET secret = ? WHERE session_id = ?",
        lambda row: secret_context(row["group_id"], row["session_id"]),
        "open reflection windows' secrets",
    ),
    EncryptedColumn(
        "reflections",
        "ciphertext",
        "SELECT r.key AS row_key, r.ciphertext AS sealed, r.session_id, s.group_id"
        " FROM reflections r JOIN sessions s ON s.id = r.session_id",
        "UPDATE reflections SET ciphertext = ? WHERE key = ?",
        lambda row: text_context(row["group_id"], row["session_id"]),
        "reflections",
    ),
)


def new_key_file_for(database_path: Path) -> Path:
    """Where a rotation puts the new key before the database is switched to it."""
    return database_path.with_name(database_path.name + ".key.new")


def old_key_file_for(database_path: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return database_path.with_name(f"{database_path.name}.key.old-{stamp}")


@dataclass(frozen=True)
class Rotated:
    counts: dict[str, int]  # what was re-encrypted, by kind
    unreadable: int  # ciphertexts the old key could not open either; left as they were
    key_source: str  # "file" or "environment"
    new_key: bytes
    key_file: Path | None  # the new key file (file source)
    pending_key_file: Path  # `<db>.key.new`: kept only for the environment source
    old_key_file: Path | None  # the copy of the old key file (file source)


async def rotate_key(settings: Settings, now: datetime) -> Rotated:
    """Re-encrypt everything under a new key; `OpsError` (one line) when it cannot."""
    path = settings.database_path
    if settings.key_source == "missing":
        raise OpsError(
            f"there is no key to rotate: ENCRYPTION_KEY is empty and {key_file_for(path)} "
            "does not exist"
        )
    if not path.is_file():
        raise OpsError(f"there is no database at {path}")
    lock = RunLock(path, doing="rotate the key")
    lock.acquire()
    try:
        _check_database(settings)
        return await _rotate_locked(settings, now)
    finally:
        lock.release()


def _check_database(settings: Settings) -> None:
    connection = open_read_only(settings.database_path)
    try:
        version, latest = schema_version(connection), latest_schema()
        if version != latest:
            raise OpsError(
                f"the database is at schema {version}, this version of the bot at {latest}: "
                "start the bot once (it brings the database up to date), stop it, then rotate"
            )
        verdict = judge_key(connection, settings.encryption_key)
    finally:
        connection.close()
    if verdict.matches is None:
        raise OpsError("the database has no key recorded yet: start the bot once first")
    if not verdict.matches:
        raise OpsError(
            "the configured key is not the one this database was written with; "
            "restore the backed-up key first"
        )


async def _rotate_locked(settings: Settings, now: datetime) -> Rotated:
    path = settings.database_path
    new_key = secrets.token_bytes(KEY_BYTES)
    pending = new_key_file_for(path)
    # The configured key opens the database, so a `.key.new` left by an interrupted
    # rotation never came into use: it is stale.
    pending.unlink(missing_ok=True)
    _write_key(pending, new_key)
    old_copy = old_key_file_for(path, now) if settings.key_source == "file" else None
    try:
        if old_copy is not None:
            _write_key(old_copy, settings.encryption_key)
        counts, unreadable = await _reencrypt(path, Cipher(settings.encryption_key), new_key)
    except BaseException:
        # Keep the new key if the database switched to it after all (a failure after
        # the commit); otherwise it encrypts nothing.
        if not _database_uses(path, new_key):
            pending.unlink(missing_ok=True)
        raise
    key_file = None
    if settings.key_source == "file":
        key_file = key_file_for(path)
        os.replace(pending, key_file)
        _sync_folder(path.parent)
    return Rotated(
        counts=counts,
        unreadable=unreadable,
        key_source=settings.key_source,
        new_key=new_key,
        key_file=key_file,
        pending_key_file=pending,
        old_key_file=old_copy,
    )


def _database_uses(path: Path, key: bytes) -> bool:
    try:
        connection = open_read_only(path)
    except OpsError:
        return False
    try:
        return judge_key(connection, key).matches is True
    finally:
        connection.close()


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a crash right after keeps the new name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_key(path: Path, key: bytes) -> None:
    try:
        write_key_file(path, key)
    except OSError as error:
        raise OpsError(f"cannot write the key file {path}: {error.strerror}") from None


async def _reencrypt(path: Path, old: Cipher, new_key: bytes) -> tuple[dict[str, int], int]:
    """One transaction over every encrypted column and the key check value."""
    new = Cipher(new_key)
    try:
        database = await Database.open(path)
    except DatabaseError as error:
        raise OpsError(str(error)) from None
    try:
        async with database.transaction() as tx:
            counts: dict[str, int] = {}
            unreadable = 0
            for column in ENCRYPTED_COLUMNS:
                done, skipped = await _reencrypt_column(tx, column, old, new)
                counts[column.what] = done
                unreadable += skipped
            await tx.execute(
                "UPDATE meta SET value = ? WHERE key = ?", (new.key_check_value(), KEY_CHECK_META)
            )
            # The old ciphertexts are overwritten (secure deletion) and, once committed,
            # the write-ahead log that still holds them is checkpointed and truncated.
            tx.erase_from_disk()
    finally:
        await database.close()
    return counts, unreadable


async def _reencrypt_column(
    tx: Transaction, column: EncryptedColumn, old: Cipher, new: Cipher
) -> tuple[int, int]:
    done = skipped = 0
    for row in await tx.fetchall(column.select):
        context = column.context(row)
        try:
            plaintext = old.decrypt(row["sealed"], context)
        except InvalidTag:
            # Already unreadable (altered, or copied from another row): the bot shows it
            # as unreadable, and it stays so under any key.
            skipped += 1
            continue
        await tx.execute(column.update, (new.encrypt(plaintext, context), row["row_key"]))
        done += 1
    return done, skipped


def report(rotated: Rotated) -> list[str]:
    """What the operator reads afterwards (the new key itself only when it lives in the
    environment, where this tool cannot put it)."""
    total = ", ".join(f"{count} {what}" for what, count in rotated.counts.items())
    lines = [f"re-encrypted under a new key, in one transaction: {total}"]
    if rotated.unreadable:
        lines.append(
            f"{rotated.unreadable} item(s) were unreadable under the old key already and "
            "were left as they were"
        )
    if rotated.key_file is not None:
        lines.append(f"the new key is in {rotated.key_file}: back it up now")
    if rotated.old_key_file is not None:
        lines.append(
            f"the old key is kept in {rotated.old_key_file}: backups made before now need "
            "it; keep it with them, or delete it once they are gone"
        )
    if rotated.key_source == "environment":
        lines += [
            "the key comes from ENCRYPTION_KEY, which this tool cannot change. Set it to:",
            f"  ENCRYPTION_KEY={encode_key(rotated.new_key)}",
            "in .env (or wherever the bot's environment is set) before starting the bot; "
            "until then the bot refuses to start with the old key.",
            f"The new key is also in {rotated.pending_key_file}: delete that file once "
            "ENCRYPTION_KEY is updated and backed up. Keep the old value for the backups "
            "made before now.",
        ]
    return lines
