"""The lock a running bot holds on its database: `<DATABASE_PATH>.lock`.

`python -m bot` takes it before opening the database and keeps it until it exits, so a
second bot on the same database refuses to start, and `rotate-key` (which takes it too)
refuses to run while the bot is running. It is an `flock` on a file of its own: the
operating system releases it when the process ends however it ends (even SIGKILL), so a
crash never leaves a stale lock behind. The lock file is empty and is never deleted
(deleting it would let two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from bot.ops import OpsError

# `is_locked` holds a shared lock for an instant; a bot starting in that instant tries
# again rather than refusing to start.
_ATTEMPTS = 5
_PAUSE_SECONDS = 0.05


def lock_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


class DatabaseInUse(OpsError):
    """Another process (a running bot, or a key rotation) holds the database's lock."""


class RunLock:
    """An exclusive, non-blocking lock on `<database>.lock`, as a context manager."""

    def __init__(self, database_path: Path, *, doing: str = "start the bot") -> None:
        self.database_path = database_path
        self.path = lock_file_for(database_path)
        self.doing = doing
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `DatabaseInUse` (one line that says what to do)."""
        if self._fd is not None:
            return
        try:
            # Readable by all: whoever runs a tool as another user must not make the file
            # unopenable for the bot. It holds nothing.
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as error:
            raise OpsError(f"cannot open the lock file {self.path}: {error.strerror}") from None
        for attempt in range(_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if attempt + 1 < _ATTEMPTS:
                    time.sleep(_PAUSE_SECONDS)
                continue
            self._fd = fd
            return
        os.close(fd)
        raise DatabaseInUse(
            f"cannot {self.doing}: the database {self.database_path} is in use by a running "
            f"bot or a key rotation (it holds {self.path.name}); stop that one first"
        )

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def is_locked(database_path: Path) -> bool:
    """Whether a running bot (or a rotation) holds the lock now. Creates nothing: without
    a lock file, nothing has ever held it."""
    try:
        fd = os.open(lock_file_for(database_path), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the shared lock, if it was taken
    return False
