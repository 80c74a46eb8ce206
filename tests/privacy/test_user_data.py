"""The declared list of user-id columns matches the schema the migrations build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.kernel.db import Database
from bot.privacy.user_data import OTHER_ID_COLUMNS, USER_ID_COLUMNS


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "schema.db")
    await database.migrate()
    yield database
    await database.close()


async def id_columns(database: Database) -> dict[str, set[str]]:
    """Per table, the columns that hold an id (`..._id`) and are not a foreign key to
    another table of the bot: what may hold a person's id."""
    found: dict[str, set[str]] = {}
    tables = await database.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in (row["name"] for row in tables):
        columns = await database.fetchall(f"PRAGMA table_info({table})")
        foreign = {
            row["from"] for row in await database.fetchall(f"PRAGMA foreign_key_list({table})")
        }
        found[table] = {
            column["name"]
            for column in columns
            if column["name"].endswith("_id") and column["name"] not in foreign
        }
    return found


async def test_every_id_column_is_declared_as_a_user_or_as_something_else(
    database: Database,
) -> None:
    found = await id_columns(database)
    undeclared = {
        (table, column)
        for table, columns in found.items()
        for column in columns
        if column not in USER_ID_COLUMNS.get(table, ()) + OTHER_ID_COLUMNS.get(table, ())
    }
    assert not undeclared, f"declare these in bot/privacy/user_data.py: {sorted(undeclared)}"


async def test_every_declared_column_exists(database: Database) -> None:
    found: dict[str, set[str]] = {}
    for table in await id_columns(database):
        columns = await database.fetchall(f"PRAGMA table_info({table})")
        found[table] = {column["name"] for column in columns}
    declared = {
        (table, column)
        for mapping in (USER_ID_COLUMNS, OTHER_ID_COLUMNS)
        for table, columns in mapping.items()
        for column in columns
    }
    missing = {
        (table, column) for table, column in declared if column not in found.get(table, set())
    }
    assert not missing, f"declared but not in the schema: {sorted(missing)}"
    assert not {
        (table, column)
        for table, columns in USER_ID_COLUMNS.items()
        for column in columns
        if column in OTHER_ID_COLUMNS.get(table, ())
    }, "a column cannot be both a person's id and something else's"


async def test_a_new_table_with_a_user_column_is_caught(database: Database) -> None:
    """The check can fail: a table added without declaring its user column is found."""
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, author_id INTEGER)")
    found = await id_columns(database)
    assert found["notes"] == {"author_id"}
    assert "author_id" not in USER_ID_COLUMNS.get("notes", ())
