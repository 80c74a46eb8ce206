"""After the close, where the reflections sit in the database file does not depend on
the order they were written in (a reader of the raw pages learns nothing of it)."""

from __future__ import annotations

import itertools
import sqlite3
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.capabilities import RECONCILERS
from bot.groups import service as group_service
from bot.kernel.db import Database
from bot.reflections import rules
from bot.reflections import service as reflection_service
from bot.sessions.store import upcoming_sessions
from tests.groups.test_one_transaction import (
    ALICE,
    BOB,
    CAROL,
    CIPHER,
    LEADER,
    NOW,
    planned_group,
)

TEXTS = {
    ALICE: "The long silence said more than the case.",
    BOB: "I felt protective of the presenter, oddly.",
    CAROL: "x" * 900,  # a long one, which must not stand out either
}


def layout(path: Path) -> list[tuple[int, tuple[int, ...]]]:
    """Each page of the reflections table: its number and its cells' offsets."""
    with sqlite3.connect(path) as connection:
        pages = [
            row[0]
            for row in connection.execute(
                "SELECT pageno FROM dbstat WHERE name = 'reflections'"
                " AND pagetype IN ('internal', 'leaf') ORDER BY pageno"
            )
        ]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    data = path.read_bytes()
    found = []
    for number in pages:
        page = data[(number - 1) * page_size : number * page_size]
        cells = struct.unpack(">H", page[3:5])[0]
        header = 12 if page[0] in (2, 5) else 8
        offsets = struct.unpack(f">{cells}H", page[header : header + 2 * cells])
        found.append((number, offsets))
    return found


def counting_keys() -> Iterator[bytes]:
    for n in itertools.count():
        yield n.to_bytes(rules.KEY_BYTES, "big")


async def one_window(
    database: Database, session_id: int, order: tuple[int, ...], now: datetime
) -> None:
    await reflection_service.open_window(database, CIPHER, session_id, now)
    for member in order:
        await reflection_service.write(
            database,
            CIPHER,
            session_id=session_id,
            member_id=member,
            text=TEXTS[member],
            rating="4" if member == ALICE else None,
            now=now,
            replace=False,
        )
    await reflection_service.close_window(database, CIPHER, session_id)


async def written_and_closed(tmp_path: Path, order: tuple[int, ...], name: str) -> Path:
    """An earlier batch released (its rows share the pages), then one written in `order`."""
    path = tmp_path / f"{name}.db"
    database = await Database.open(path, reconcilers=RECONCILERS)
    try:
        await database.migrate()
        group = await planned_group(database)
        await group_service.change_settings(
            database, group, {"reflection_threshold": 3}, LEADER, NOW
        )
        first, second = (await upcoming_sessions(database, group.id, NOW))[:2]
        await one_window(database, first.id, tuple(TEXTS), first.ends_at + timedelta(minutes=1))
        await one_window(database, second.id, order, second.ends_at + timedelta(minutes=1))
        assert await database.scalar("SELECT count(*) FROM reflections") == 6  # both released
    finally:
        await database.close()
    return path


async def test_the_layout_after_the_close_is_the_same_whatever_the_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layouts = []
    orders = list(itertools.permutations(TEXTS))
    for index, order in enumerate(orders):
        # the same keys and the same batch order in every run: only the writing differs
        keys = counting_keys()
        monkeypatch.setattr(rules, "new_key", lambda keys=keys: next(keys))
        monkeypatch.setattr(rules, "shuffled_positions", lambda n: list(range(1, n + 1)))
        path = await written_and_closed(tmp_path, order, f"run{index}")
        layouts.append(layout(path))
    assert sum(len(cells) for _, cells in layouts[0]) >= 6  # cells to compare
    assert all(found == layouts[0] for found in layouts), layouts
