"""Every command answers within Discord's 3 seconds: one still busy after
`DEFER_AFTER_SECONDS` (the database held by another process, a queue of commands) is
deferred, and its real answer follows; a form that can no longer be opened says so."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import BalintBot
from cogs._common import messages
from cogs._common.forms import FORM_TOO_LATE, show_form
from tests.double.rest_interactions import CALLBACK
from tests.e2e.conftest import Scene, reply_text

DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
ANSWERED = 4  # CHANNEL_MESSAGE_WITH_SOURCE
MODAL = 9
EPHEMERAL = 64


@contextmanager
def write_lock_held(path: Path, seconds: float) -> Iterator[None]:
    """Another connection (an operator's `sqlite3` shell) holds the write lock."""
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        threading.Event().wait(seconds)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait()
    try:
        yield
    finally:
        holder.join()


@pytest.fixture
def defer_quickly(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(messages, "DEFER_AFTER_SECONDS", 0.3)
    return 0.3


async def test_a_command_held_up_by_a_locked_database_is_deferred_then_answered(
    scene: Scene, defer_quickly: float
) -> None:
    member = scene.members[0]
    with write_lock_held(scene.settings.database_path, 1.2):
        interaction = await scene.double.slash("preferences", member, reminder_dms=False)
    response = interaction.response
    assert response is not None
    assert response.type == DEFERRED
    assert int(response.data.get("flags") or 0) & EPHEMERAL  # private, like the answer
    first = interaction.attempts[0].at - interaction.sent_at
    assert defer_quickly <= first < 1.2  # deferred before the lock was gone, in time
    assert "Saved. Your preferences: reminder and notice DMs **off**" in reply_text(interaction)
    saved = await scene.running.database.scalar(
        "SELECT reminder_dms FROM preferences WHERE user_id = ?", (member.id,)
    )
    assert saved == 0


async def test_a_quick_command_is_answered_at_once_not_deferred(
    scene: Scene, defer_quickly: float
) -> None:
    interaction = await scene.double.slash("preferences", scene.members[0])
    assert interaction.response is not None
    assert interaction.response.type == ANSWERED
    await asyncio.sleep(defer_quickly * 2)  # the deferral's moment passes: nothing more
    assert [a.type for a in interaction.attempts] == [ANSWERED]


async def test_a_form_after_a_deferral_asks_to_run_the_command_again(scene: Scene) -> None:
    """A form cannot follow a deferred answer (Discord allows a form only as the first
    answer): `show_form` then says so instead of failing. A test-only command stands for a
    form command whose deferral came first."""
    bot = scene.running

    @app_commands.command(name="slow-form", description="test: a form after a deferral")
    async def slow_form(interaction: discord.Interaction[BalintBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await show_form(interaction, discord.ui.Modal(title="Never shown"))

    bot.tree.add_command(slow_form)
    await bot.tree.sync()
    opened = await scene.slash("slow-form", scene.members[0])
    assert [attempt.type for attempt in opened.attempts] == [DEFERRED]
    assert reply_text(opened) == FORM_TOO_LATE


async def test_the_deferral_and_the_answer_never_both_go_out(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first answer is slow to reach Discord (a 429 on it, waited out by discord.py)
    while the other one is due (the deferral, or the answer itself): the second waits for
    the first and sees it went out, instead of a second first answer that Discord would
    refuse (40060)."""
    monkeypatch.setattr(messages, "DEFER_AFTER_SECONDS", 0.0)
    slow = scene.double.faults.add(429, method="POST", route=CALLBACK, times=1, retry_after=0.6)
    interaction = await scene.double.slash("preferences", scene.members[0], reflection_dms=False)
    assert scene.double.faults.count(429) == 1, slow  # the first answer, held up
    # One first answer, taken once its retry got through; nothing refused.
    assert len(interaction.attempts) == 1, interaction.attempts
    assert interaction.rejected == []
    assert "Saved. Your preferences" in reply_text(interaction)


async def test_a_command_that_defers_itself_never_collides_with_the_deferral(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/rota generate defers itself (it re-plans); held up before that by a locked
    database, the automatic deferral goes first, and the command goes on regardless."""
    await scene.create_group()
    monkeypatch.setattr(messages, "DEFER_AFTER_SECONDS", 0.2)
    with write_lock_held(scene.settings.database_path, 0.8):
        blocked = asyncio.create_task(
            scene.double.slash("preferences", scene.members[1], reminder_dms=False)
        )
        await asyncio.sleep(0.1)  # its write now waits for the lock, and every read after it
        generated = await scene.slash("rota generate", scene.leader)
    await blocked
    assert [a.type for a in generated.attempts] == [DEFERRED]
    assert "went wrong" not in reply_text(generated)
