"""Reflection windows and reflections. Ciphertext only; no author, no time of writing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.kernel.clock import from_unix, to_unix
from bot.kernel.db import Reader, Transaction


@dataclass(frozen=True)
class Window:
    session_id: int
    sealed_secret: bytes | None  # None once the window closed
    closes_at: datetime
    state: str  # open, released, withheld
    received: int | None
    threshold: int | None = None  # fixed when the window opened
    release_to: str | None = None  # "leaders" or "channel", fixed when it opened

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class StoredReflection:
    key: bytes
    ciphertext: bytes
    position: int | None
    hidden: bool


def _window(row: sqlite3.Row) -> Window:
    return Window(
        row["session_id"],
        row["secret"],
        from_unix(row["closes_at"]),
        row["state"],
        row["received"],
        row["threshold"],
        row["release_to"],
    )


def _reflection(row: sqlite3.Row) -> StoredReflection:
    return StoredReflection(row["key"], row["ciphertext"], row["position"], bool(row["hidden"]))


async def get_window(database: Reader, session_id: int) -> Window | None:
    row = await database.fetchone(
        "SELECT * FROM reflection_windows WHERE session_id = ?", (session_id,)
    )
    return None if row is None else _window(row)


async def open_window(
    tx: Transaction,
    session_id: int,
    sealed_secret: bytes | None,
    closes_at: datetime,
    *,
    threshold: int,
    release_to: str,
    writers: list[bytes],
) -> None:
    """Open the session's window for the writers' tags (without a secret: a window that
    closed while the bot was down, recorded as closed with nothing received)."""
    state, received = ("open", None) if sealed_secret is not None else ("withheld", 0)
    await tx.execute(
        "INSERT INTO reflection_windows"
        " (session_id, secret, closes_at, state, received, threshold, release_to)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (session_id, sealed_secret, to_unix(closes_at), state, received, threshold, release_to),
    )
    for tag in writers:
        await tx.execute(
            "INSERT INTO reflection_writers (session_id, tag) VALUES (?, ?)", (session_id, tag)
        )


async def may_write(database: Reader, session_id: int, tag: bytes) -> bool:
    found = await database.scalar(
        "SELECT 1 FROM reflection_writers WHERE session_id = ? AND tag = ?", (session_id, tag)
    )
    return found is not None


async def open_windows_of_group(database: Reader, group_id: int) -> list[Window]:
    """The group's open windows, the most recent session first."""
    rows = await database.fetchall(
        "SELECT w.* FROM reflection_windows w JOIN sessions s ON s.id = w.session_id"
        " WHERE s.group_id = ? AND w.state = 'open' ORDER BY s.starts_at DESC",
        (group_id,),
    )
    return [_window(row) for row in rows]


async def released_windows_of_group(database: Reader, group_id: int) -> list[Window]:
    rows = await database.fetchall(
        "SELECT w.* FROM reflection_windows w JOIN sessions s ON s.id = w.session_id"
        " WHERE s.group_id = ? AND w.state = 'released' ORDER BY s.starts_at DESC",
        (group_id,),
    )
    return [_window(row) for row in rows]


async def sessions_with_windows(database: Reader, group_id: int) -> set[int]:
    rows = await database.fetchall(
        "SELECT w.session_id FROM reflection_windows w JOIN sessions s ON s.id = w.session_id"
        " WHERE s.group_id = ?",
        (group_id,),
    )
    return {row["session_id"] for row in rows}


async def find_by_tag(database: Reader, tag: bytes) -> StoredReflection | None:
    row = await database.fetchone("SELECT * FROM reflections WHERE author_tag = ?", (tag,))
    return None if row is None else _reflection(row)


async def put_reflection(
    tx: Transaction, session_id: int, tag: bytes | None, key: bytes, ciphertext: bytes
) -> None:
    """The member's reflection (found by its tag), replacing theirs if there is one."""
    await tx.execute(
        "INSERT INTO reflections (key, session_id, author_tag, ciphertext) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (author_tag) DO UPDATE SET ciphertext = excluded.ciphertext",
        (key, session_id, tag, ciphertext),
    )


async def forget_writer(tx: Transaction, session_id: int, tag: bytes) -> None:
    await tx.execute(
        "DELETE FROM reflection_writers WHERE session_id = ? AND tag = ?", (session_id, tag)
    )


async def delete_by_tag(tx: Transaction, tag: bytes) -> bool:
    cursor = await tx.execute("DELETE FROM reflections WHERE author_tag = ?", (tag,))
    return cursor.rowcount > 0


async def reflections_of(database: Reader, session_id: int) -> list[StoredReflection]:
    """The session's reflections, in their batch order once released (by key before:
    random, never the order of writing)."""
    rows = await database.fetchall(
        "SELECT * FROM reflections WHERE session_id = ? ORDER BY position, key", (session_id,)
    )
    return [_reflection(row) for row in rows]


async def close_window(tx: Transaction, session_id: int, state: str, received: int) -> None:
    """Destroy the secret, the writers' tags and every author tag: from now on nothing
    finds an author's row."""
    await tx.execute(
        "UPDATE reflection_windows SET secret = NULL, state = ?, received = ? WHERE session_id = ?",
        (state, received, session_id),
    )
    await tx.execute("DELETE FROM reflection_writers WHERE session_id = ?", (session_id,))
    await tx.execute("UPDATE reflections SET author_tag = NULL WHERE session_id = ?", (session_id,))


async def put_released(
    tx: Transaction, session_id: int, key: bytes, ciphertext: bytes, position: int
) -> None:
    await tx.execute(
        "INSERT INTO reflections (key, session_id, ciphertext, position) VALUES (?, ?, ?, ?)",
        (key, session_id, ciphertext, position),
    )


async def delete_reflections(tx: Transaction, session_id: int) -> int:
    cursor = await tx.execute("DELETE FROM reflections WHERE session_id = ?", (session_id,))
    return cursor.rowcount


async def hide(tx: Transaction, session_id: int, position: int) -> bool:
    cursor = await tx.execute(
        "UPDATE reflections SET hidden = 1 WHERE session_id = ? AND position = ? AND hidden = 0",
        (session_id, position),
    )
    return cursor.rowcount > 0
