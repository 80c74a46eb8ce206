"""The database: one aiosqlite connection, WAL, foreign keys, numbered SQL migrations.

All writes go through `Database.transaction()`, which serialises them on the one
connection (aiosqlite shares a connection between coroutines, so an unserialised write
would silently join another coroutine's transaction). Each user action is one transaction.

A transaction can be asked to `watch` a group: before it commits, every reconciler the
database was given (the rota, the reminders) brings what it derives from the group's
data back in line with the change, in the same transaction, and leaves notices for the
people to tell. So an action can never be half done (its change committed, its rota or
reminders not), and no action can forget to follow up. After the commit, the listeners
of committed job changes run (the scheduler re-arms itself).

Every statement is a round trip to aiosqlite's worker thread (and back through the
event loop's self-pipe), which costs several times what an indexed statement does: a read
is one round trip (`execute_fetchall`), never three (execute, fetch, close). And once a
bot's database starts remembering (`remember_reads`, after its migrations), the same
SELECT with the same parameters is answered from memory until a commit writes one of the
tables its SQL names (temporary triggers report each written table, cascades included),
or, at most `LOOK_AGAIN_SECONDS` after another connection's commit, anything at all
(`PRAGMA data_version`). While the bot runs it is the only writer (`python -m bot` holds
the database's run lock; the tools that write refuse while it is held), so the second
case is an operator's own `sqlite3` shell. An answer holding a BLOB (a ciphertext, a
reflection's tag) is never remembered.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite
from aiosqlite.context import Result

from bot import migrations as migrations_package
from bot.kernel.logs import log_failure

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000
REMEMBERED_ANSWERS = 4096  # SELECT answers remembered at most; beyond that, all forgotten
REMEMBERED_ROWS = 256  # a longer answer (an export, a scheduler's sweep) is not remembered
LOOK_AGAIN_SECONDS = 1.0  # how long another process's commit may go unnoticed, at most
_CHANGED = "balint_table_changed"  # the SQL function the change triggers call

T = TypeVar("T")
_Key = tuple[str, tuple[Any, ...], Any]  # the SQL, its parameters, the conversion (or None)


_Reads = Callable[
    [str, Sequence[Any], Callable[[sqlite3.Row], Any] | None], Coroutine[Any, Any, list[Any]]
]
_ANY_TABLE = "*"  # where an answer naming no known table is filed: any write forgets it


class Remembered:
    """SELECT answers, each filed under the tables its SQL names (a word of the SQL that
    is a table's name: more than it reads at worst, which only forgets more often).

    Nothing holding a BLOB, in its answer or its parameters (a ciphertext, a reflection's
    tag), is remembered: a secret stays on the disk, encrypted, and leaves memory once
    it has been used."""

    def __init__(self, tables: Iterable[str]) -> None:
        names = sorted(tables, key=len, reverse=True)
        self._names = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.I)
        self._answers: dict[_Key, list[Any]] = {}
        self._readers: dict[str, set[_Key]] = {}  # table: the answers filed under it
        self._tables_of: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: _Key) -> list[Any] | None:
        return self._answers.get(key)

    def put(self, key: _Key, rows: Sequence[sqlite3.Row], answer: list[Any]) -> None:
        """Remember `answer`, made of `rows` (themselves, or what they were converted to)."""
        if (
            len(rows) > REMEMBERED_ROWS
            or bytes in map(type, key[1])
            or any(bytes in map(type, row) for row in rows)
        ):
            return
        if len(self._answers) >= REMEMBERED_ANSWERS:
            self.forget(None)
        self._answers[key] = answer
        for table in self.tables_of(key[0]):
            self._readers.setdefault(table, set()).add(key)

    def forget(self, tables: Iterable[str] | None) -> None:
        """Forget the answers that may have read `tables` (None: every answer), and
        those that name no known table."""
        if tables is None:
            self._answers.clear()
            self._readers.clear()
            return
        for table in (*tables, _ANY_TABLE):
            for key in self._readers.pop(table, ()):
                if self._answers.pop(key, None) is not None:
                    for other in self.tables_of(key[0]):  # no longer filed anywhere
                        readers = self._readers.get(other)
                        if readers is not None:
                            readers.discard(key)

    def tables_of(self, sql: str) -> frozenset[str]:
        """The tables (lower case) an answer of `sql` is filed under."""
        tables = self._tables_of.get(sql)
        if tables is None:
            named = frozenset(name.lower() for name in self._names.findall(sql))
            tables = self._tables_of[sql] = named or frozenset((_ANY_TABLE,))
        return tables


class DatabaseError(Exception):
    """The database cannot be used; the message is one line for the operator."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped in `bot/migrations`, in version order."""
    found: list[Migration] = []
    # (the package's folder itself: importlib.resources takes longer than all the reading)
    for entry in Path(migrations_package.__file__).parent.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(f"migration files are not numbered 1..n without gaps: {versions}")
    return found


def split_statements(script: str) -> list[str]:
    """Split a migration into statements so they can run inside one transaction.

    (`executescript` would commit first, so a failed migration could be half applied.)
    """
    statements: list[str] = []
    current: list[str] = []
    for line in script.splitlines(keepends=True):
        current.append(line)
        candidate = "".join(current)
        if sqlite3.complete_statement(candidate):
            if candidate.strip():
                statements.append(candidate.strip())
            current = []
    rest = "".join(current).strip()
    if rest and not all(
        line.strip().startswith("--") or not line.strip() for line in rest.splitlines()
    ):
        raise DatabaseError(f"incomplete SQL statement at the end of a migration: {rest[:60]!r}")
    return statements


def _converted(
    rows: Iterable[sqlite3.Row], convert: Callable[[sqlite3.Row], Any] | None
) -> list[Any]:
    return list(rows) if convert is None else [convert(row) for row in rows]


async def _read(
    connection: aiosqlite.Connection,
    sql: str,
    parameters: Sequence[Any],
    convert: Callable[[sqlite3.Row], Any] | None,
) -> list[Any]:
    """The statement's rows (converted), in one round trip, nothing remembered."""
    return _converted(await connection.execute_fetchall(sql, parameters), convert)


class Reconciler(Protocol):
    """Something derived from a group's data (its rota, its reminder jobs), kept in line
    with every change to the group inside the change's own transaction."""

    async def snapshot(self, tx: Transaction, group_id: int, now: datetime) -> Any:
        """What the reconciler needs to remember from before the change."""

    async def reconcile(self, tx: Transaction, group_id: int, now: datetime, before: Any) -> None:
        """Bring the derived data in line; record what people must be told (`tx.notify`)."""


@dataclass
class _Watch:
    now: datetime
    before: list[Any] = field(default_factory=list)


class Transaction:
    """One write transaction: its connection, the groups it changes, and the notices its
    reconcilers leave for the caller to deliver once it has committed."""

    def __init__(
        self, connection: aiosqlite.Connection, reconcilers: Sequence[Reconciler], reads: _Reads
    ) -> None:
        self.connection = connection
        self._reads = reads  # how its reads are answered (`Database._answer_in_transaction`)
        self.notices: list[object] = []
        self.jobs_changed = False
        self.erases_confidential = False
        self.rebuilds = False
        self._reconcilers = reconcilers
        self._watched: dict[int, _Watch] = {}

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Result[aiosqlite.Cursor]:
        """Run one statement (await it, or use it as `async with` to read its rows)."""
        return self.connection.execute(sql, parameters)

    async def fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self._reads(sql, parameters, None)

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row (the statement runs to its end: ask for one row, by key or LIMIT)."""
        return next(iter(await self._reads(sql, parameters, None)), None)

    async def fetch_as(
        self, convert: Callable[[sqlite3.Row], T], sql: str, parameters: Sequence[Any] = ()
    ) -> list[T]:
        answer: list[T] = await self._reads(sql, parameters, convert)
        return answer

    async def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, parameters)
        return None if row is None else row[0]

    async def watch(self, group_id: int, now: datetime) -> None:
        """This transaction changes the group: reconcile it before committing. Call it
        before making the change, so reconcilers can compare with what was there."""
        if group_id in self._watched:
            return
        watch = _Watch(now)
        for reconciler in self._reconcilers:
            watch.before.append(await reconciler.snapshot(self, group_id, now))
        self._watched[group_id] = watch

    def erase_from_disk(self) -> None:
        """This transaction deletes confidential data (a case note, a reflection): once it
        has committed, the write-ahead log is checkpointed into the database file and
        truncated, so the deleted bytes (zeroed in the file by `secure_delete`) are in
        neither file. Deleted means gone from the disk, not only from the tables."""
        self.erases_confidential = True

    def rebuild_from_scratch(self) -> None:
        """Once committed, rebuild the whole database file (VACUUM, then the truncating
        checkpoint): where SQLite put a row in its pages, and what it reused, can tell in
        which order rows were written; a rebuilt file only holds each table in key order.
        Implies `erase_from_disk`."""
        self.rebuilds = True
        self.erases_confidential = True

    def notify(self, notice: object) -> None:
        """Something to tell people once the transaction has committed."""
        self.notices.append(notice)

    async def _reconcile(self) -> None:
        for group_id, watch in self._watched.items():
            for reconciler, before in zip(self._reconcilers, watch.before, strict=True):
                await reconciler.reconcile(self, group_id, watch.now, before)


class Database:
    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.reconcilers: Sequence[Reconciler] = ()
        self._job_listeners: list[Callable[[], None]] = []
        # What SELECTs answered (None: nothing is remembered), the tables the current
        # transaction wrote (the triggers' reports), and when `PRAGMA data_version`
        # (other connections' commits) was last looked at.
        self._remembered: Remembered | None = None
        self._written: set[str] = set()
        self._reported = 0  # rows the triggers reported, in the current transaction
        self._changes_at_begin = 0  # the connection's total_changes when it began
        self._data_version: int | None = None
        self._looked_at = -LOOK_AGAIN_SECONDS

    def on_jobs_committed(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit of a transaction that changed jobs."""
        self._job_listeners.append(listener)

    @classmethod
    async def open(cls, path: Path, *, reconcilers: Sequence[Reconciler] = ()) -> Database:
        """Open the database file; `reconcilers` follow every change that watches a group."""
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise DatabaseError(f"cannot open the database {path}: {error}") from None
        connection.row_factory = sqlite3.Row
        database = cls(connection, path)
        database.reconcilers = tuple(reconcilers)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = await database.scalar("PRAGMA journal_mode = WAL")
            if str(mode).lower() != "wal" and str(path) != ":memory:":
                raise DatabaseError(f"the database {path} cannot use WAL mode (got {mode})")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros, not merely unlinked: a purged case
            # note must not stay readable in free pages (see `Transaction.erase_from_disk`).
            await connection.execute("PRAGMA secure_delete = ON")
            # An erasure interrupted between its commit and its checkpoint (a crash) is
            # finished here: the log's old pages do not outlive a restart.
            await connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError as error:
            await connection.close()
            raise DatabaseError(f"the database {path} is unreadable: {error}") from None
        except DatabaseError:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        await self._connection.close()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[Transaction]:
        """One write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so
        two processes on one file serialise instead of failing halfway). The watched
        groups are reconciled before the commit, inside it.

        `durable`: its commit is on the disk when this returns, power cut or not (the
        log is synced: `synchronous = FULL`, which SQLite takes only between
        transactions). Otherwise a commit survives the bot's crash but, as WAL mode with
        `synchronous = NORMAL` does, may be lost to a power cut until the next checkpoint."""
        if self._owner is not None and self._owner is asyncio.current_task():
            raise RuntimeError("transactions do not nest")
        async with self._lock:
            self._owner = asyncio.current_task()
            tx = Transaction(self._connection, self.reconcilers, self._answer_in_transaction)
            self._written.clear()
            self._reported = 0
            self._changes_at_begin = self._connection.total_changes
            try:
                await self._begin(durable)
                yield tx
                await tx._reconcile()
            except BaseException:
                if self._connection.in_transaction:
                    await self._control("ROLLBACK")
                raise
            else:
                await self._control("COMMIT")
            finally:
                # Forgotten whether it committed or not (a COMMIT that raised may still
                # have landed), before any other task can read again, and before
                # anything else here can be cancelled.
                self._forget_written()
                self._owner = None
                if durable:
                    await self._control("PRAGMA synchronous = NORMAL")
        if tx.rebuilds:
            await self.vacuum()
        if tx.erases_confidential:
            await self.checkpoint()
        if tx.jobs_changed:
            for listener in self._job_listeners:
                try:
                    listener()
                except Exception as error:
                    log_failure(log, "a job listener", error)

    async def _begin(self, durable: bool) -> None:
        if durable:
            await self._control("PRAGMA synchronous = FULL")
        await self._control("BEGIN IMMEDIATE")
        if self._remembered is not None:
            # Nobody else can commit until this transaction ends (it holds the write
            # lock): once another connection's last commit is accounted for, what is
            # remembered is what this transaction reads.
            await self._look_for_other_commits(at_once=True)

    async def vacuum(self) -> None:
        """Rebuild the database file from its contents (see `rebuild_from_scratch`)."""
        async with self._lock:
            await self._connection.execute("VACUUM")

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it to nothing.
        Returns False when another connection's reader kept part of the log (the next
        erasure, or the next start, checkpoints it); that is logged."""
        async with self._lock:
            row = await self._connection.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = next(iter(row))[0] if row else 0
        if busy:
            log.warning("the write-ahead log could not be truncated yet (a reader holds it)")
        return not busy

    async def _control(self, statement: str) -> None:
        """Run BEGIN/COMMIT/ROLLBACK (or a PRAGMA around them) to completion even if the
        caller is cancelled.

        aiosqlite runs statements on a worker thread; a cancelled await does not stop the
        statement, it only stops us waiting for it, which would leave the shared
        connection inside a transaction nobody owns."""
        pending = asyncio.ensure_future(self._connection.execute(statement))
        try:
            await asyncio.shield(pending)
        except asyncio.CancelledError:
            await pending
            raise

    async def remember_reads(self) -> None:
        """From now on, answer a repeated SELECT from memory (see the module's docstring).
        Call it once the schema is final (after `migrate`): each table gets temporary
        triggers, this connection's own, that report every row written to it."""
        if self._remembered is not None:
            return
        async with self._lock:  # no transaction is open: executescript would commit it
            rows = await self._connection.execute_fetchall(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            tables = [str(row["name"]) for row in rows]
            await self._connection.create_function(_CHANGED, 1, self._report)
            await self._connection.executescript(  # one round trip
                "".join(
                    f'CREATE TEMP TRIGGER IF NOT EXISTS "{_CHANGED}_{table}_{change.lower()}"'
                    f' AFTER {change} ON main."{table}"'
                    f" BEGIN SELECT {_CHANGED}('{table.lower()}'); END;\n"
                    for table in tables
                    for change in ("INSERT", "UPDATE", "DELETE")
                )
            )
            self._remembered = Remembered(tables)

    def _forget_written(self) -> None:
        """After a transaction: forget what may have read the tables it wrote. Every row
        written is reported by a trigger; when more rows changed than were reported (a
        table made after `remember_reads`), everything is forgotten."""
        if self._remembered is None:
            return
        changed = self._connection.total_changes - self._changes_at_begin
        if changed > self._reported:
            self._remembered.forget(None)
        elif changed or self._written:
            self._remembered.forget(self._written)

    def _report(self, table: str) -> None:
        """Called by the triggers, on aiosqlite's thread, once per row written (`table`
        in lower case)."""
        self._written.add(table)
        self._reported += 1

    def _in_own_transaction(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    async def fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows of a statement, in one round trip. Outside the caller's own
        transaction it waits for another task's transaction to end (so it never sees that
        one's uncommitted rows), unless the answer is remembered (what is remembered is
        always committed state)."""
        return await self._answer(sql, parameters, None)

    async def fetch_as(
        self, convert: Callable[[sqlite3.Row], T], sql: str, parameters: Sequence[Any] = ()
    ) -> list[T]:
        """`fetchall`, each row converted: what is remembered is the converted answer, so
        `convert` must make something nobody changes (a frozen dataclass)."""
        answer: list[T] = await self._answer(sql, parameters, convert)
        return answer

    async def _answer_in_transaction(
        self, sql: str, parameters: Sequence[Any], convert: Callable[[sqlite3.Row], Any] | None
    ) -> list[Any]:
        """A read inside the task's own transaction: from memory, and remembered, as long
        as the transaction has written none of the tables its SQL names (what it reads
        is then what is committed); otherwise read as the transaction sees it."""
        key = self._key(sql, parameters, convert)
        if key is None or not self._untouched(sql):
            return await _read(self._connection, sql, parameters, convert)
        return await self._recalled_or_read(key, parameters, convert)

    async def _recalled_or_read(
        self, key: _Key, parameters: Sequence[Any], convert: Callable[[sqlite3.Row], Any] | None
    ) -> list[Any]:
        """The remembered answer under `key`, or the statement's, then remembered."""
        assert self._remembered is not None
        answer = self._remembered.get(key)
        if answer is None:
            rows = list(await self._connection.execute_fetchall(key[0], parameters))
            answer = _converted(rows, convert)
            self._remembered.put(key, rows, answer)
        return list(answer)

    def _untouched(self, sql: str) -> bool:
        """The current transaction has written none of the tables `sql` names (and
        nothing unreported); for SQL naming no known table (a view,
        `last_insert_rowid()`): nothing at all."""
        assert self._remembered is not None
        changed = self._connection.total_changes - self._changes_at_begin
        if changed != self._reported:
            return False
        tables = self._remembered.tables_of(sql)
        if _ANY_TABLE in tables:
            return changed == 0
        return tables.isdisjoint(self._written)

    async def _answer(
        self, sql: str, parameters: Sequence[Any], convert: Callable[[sqlite3.Row], Any] | None
    ) -> list[Any]:
        if self._in_own_transaction():
            return await self._answer_in_transaction(sql, parameters, convert)
        key = self._key(sql, parameters, convert)
        if key is not None and time.monotonic() - self._looked_at < LOOK_AGAIN_SECONDS:
            assert self._remembered is not None
            remembered = self._remembered.get(key)
            if remembered is not None:
                return list(remembered)
        async with self._lock:
            if key is None:
                return await _read(self._connection, sql, parameters, convert)
            await self._look_for_other_commits()
            return await self._recalled_or_read(key, parameters, convert)

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row (the statement runs to its end: ask for one row, by key or LIMIT)."""
        return next(iter(await self.fetchall(sql, parameters)), None)

    async def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, parameters)
        return None if row is None else row[0]

    def _key(
        self, sql: str, parameters: Sequence[Any], convert: Callable[[sqlite3.Row], Any] | None
    ) -> _Key | None:
        """What a remembered answer is filed under; None when it is not to be remembered
        (nothing is, or the statement is not a SELECT, or its parameters are unhashable)."""
        if (
            self._remembered is None
            or not isinstance(parameters, (tuple, list))  # (named ones: not used)
            or sql.lstrip()[:6].upper() != "SELECT"
        ):
            return None
        key = (sql, tuple(parameters), convert)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    async def _look_for_other_commits(self, *, at_once: bool = False) -> None:
        """Forget everything when another connection has committed since the last look
        (called with the lock held, at most every `LOOK_AGAIN_SECONDS` unless
        `at_once`: a transaction beginning)."""
        now = time.monotonic()
        if not at_once and now - self._looked_at < LOOK_AGAIN_SECONDS:
            return
        rows = await self._connection.execute_fetchall("PRAGMA data_version")
        version = int(next(iter(rows))[0])
        if version != self._data_version:
            self._data_version = version
            assert self._remembered is not None
            self._remembered.forget(None)
        self._looked_at = now

    async def schema_version(self) -> int:
        return int(await self.scalar("PRAGMA user_version"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> int:
        """Apply the pending migrations, each in its own transaction together with the new
        schema version, so a failure leaves the previous version intact. Returns the
        version reached. Refuses a database written by a newer build."""
        known = list(migrations) if migrations is not None else bundled_migrations()
        latest = known[-1].version if known else 0
        try:
            current = await self.schema_version()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(f"the database {self.path} is unreadable: {error}") from None
        if current > latest:
            raise DatabaseError(
                f"the database {self.path} was written by a newer version of the bot "
                f"(schema {current}; this version knows up to {latest}); upgrade the bot"
            )
        for migration in known:
            if migration.version <= current:
                continue
            try:
                async with self.transaction() as tx:
                    for statement in split_statements(migration.sql):
                        await tx.execute(statement)
                    await tx.execute(f"PRAGMA user_version = {migration.version:d}")
            except sqlite3.Error as error:
                raise DatabaseError(f"migration {migration.name} failed: {error}") from None
            current = migration.version
        return current


# What store functions read from: the database, or the transaction they are part of.
Reader = Database | Transaction
