"""Fixtures for the operator's tools: a database the bot has really written (groups,
sessions, case notes, released and open reflection windows, through its own services),
and the settings the tools read."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.capabilities import RECONCILERS
from bot.cases import service as case_service
from bot.groups import service as group_service
from bot.groups.rules import Group
from bot.kernel.config import Settings, encode_key, key_file_for, load_settings
from bot.kernel.crypto import verify_key
from bot.kernel.db import Database
from bot.reflections import service as reflection_service
from bot.sessions.store import upcoming_sessions
from tests.double import DiscordDouble
from tests.groups.test_one_transaction import (
    ALICE,
    BOB,
    CAROL,
    CIPHER,
    LEADER,
    NOW,
    planned_group,
)

# A token of the shape Discord issues (the double accepts whatever it is given).
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
KEY = bytes(range(32))  # CIPHER's key
NOTE = "A man in his fifties whose silence in the consulting room I find hard to bear."
RELEASED = {
    ALICE: "The long silence said more than the case.",
    BOB: "I felt protective of the presenter, oddly.",
    CAROL: "We never got to the patient's wife.",
}
OPEN_TEXT = "Still thinking about the referral letter."
ENV_NAMES = ("DISCORD_TOKEN", "DATABASE_PATH", "ENCRYPTION_KEY", "DEV_GUILD_ID", "LOG_LEVEL")


@dataclass(frozen=True)
class Written:
    """What `write_database` put in, to be read back."""

    path: Path
    group: Group
    note_session: int  # BOB's case note is for this session
    released_session: int  # its reflections were released (three of them)
    open_session: int  # its window is open; ALICE has written OPEN_TEXT


async def write_database(path: Path) -> Written:
    """A database as the bot leaves it: the key recorded, a group with sessions, a case
    note, one released batch of reflections and one open window with a reflection."""
    database = await Database.open(path, reconcilers=RECONCILERS)
    try:
        await database.migrate()
        await verify_key(database, CIPHER)
        group = await planned_group(database)
        await group_service.change_settings(
            database, group, {"reflection_threshold": 3}, LEADER, NOW
        )
        first, second, third = (await upcoming_sessions(database, group.id, NOW))[:3]
        await case_service.send_note(
            database,
            CIPHER,
            group_id=group.id,
            session_id=third.id,
            member_id=BOB,
            text=NOTE,
            now=NOW,
        )
        after_first = first.ends_at + timedelta(minutes=1)
        await reflection_service.open_window(database, CIPHER, first.id, after_first)
        for member, text in RELEASED.items():
            await write_reflection(database, first.id, member, text, after_first)
        await reflection_service.close_window(database, CIPHER, first.id)
        after_second = second.ends_at + timedelta(minutes=1)
        await reflection_service.open_window(database, CIPHER, second.id, after_second)
        await write_reflection(database, second.id, ALICE, OPEN_TEXT, after_second)
    finally:
        await database.close()
    return Written(path, group, third.id, first.id, second.id)


async def write_reflection(
    database: Database, session_id: int, member: int, text: str, now: datetime
) -> None:
    await reflection_service.write(
        database,
        CIPHER,
        session_id=session_id,
        member_id=member,
        text=text,
        rating="4",
        now=now,
        replace=False,
    )


@pytest.fixture(scope="session")
def written_once(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """Written through the services once (a quarter of a second), copied for each test."""
    return asyncio.run(write_database(tmp_path_factory.mktemp("template") / "balint.db"))


@pytest.fixture
def written(written_once: Written, tmp_path: Path) -> Written:
    path = tmp_path / "balint.db"
    shutil.copyfile(written_once.path, path)  # closed cleanly: the file is all there is
    return replace(written_once, path=path)


def tool_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The configuration the tools read, with the key in the key file (the default)."""
    values = {"DISCORD_TOKEN": TOKEN, "DATABASE_PATH": str(tmp_path / "balint.db")}
    values.update(overrides)
    return values


def settings_for(tmp_path: Path, **overrides: str) -> Settings:
    return load_settings(tool_env(tmp_path, **overrides), create_key=False)


def put_key_file(tmp_path: Path, key: bytes = KEY) -> Path:
    path = key_file_for(tmp_path / "balint.db")
    path.write_text(encode_key(key) + "\n", encoding="ascii")
    path.chmod(0o600)
    return path


@pytest.fixture
def operator_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the tools in-process as an operator would: in `tmp_path` (no .env there), with
    the configuration in the environment. Yields the folder."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in tool_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(token=TOKEN) as running:
        yield running


def listing(folder: Path) -> set[str]:
    return set(os.listdir(folder))
