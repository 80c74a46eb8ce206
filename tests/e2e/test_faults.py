"""Faults, end to end: the gateway drops or invalidates the session, Discord answers 5xx
and 429, another process locks the database; nothing a user did is lost, and every
reminder is sent exactly once.

What each test counts is what a member would see (reminder messages, DMs, the answers to
their commands and buttons) and what the database keeps (RSVPs, case notes, the jobs'
outcomes). The double injects the faults (`double.faults`, `double.disconnect`,
`double.invalidate_session`); time moves on the ManualClock, except where discord.py or
SQLite wait in real time (retry_after, the busy timeout), which the tests keep short.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.app import BalintBot
from tests.double import Interaction, Message, User
from tests.e2e.conftest import Scene, handlers_done, reply_text
from tests.e2e.test_cases import button as case_button
from tests.e2e.test_cases import dm_and_wait
from tests.e2e.test_reminders import (
    CHANNEL_DUE,
    PRESENTER_DUE,
    advance_to,
    plan_one_session,
    presenter_of,
    reminders_in,
)

MESSAGES = "/channels/{channel_id}/messages"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
WHAT_TO_PREPARE = "What to prepare"
NO_CASE_YET = "neither sent a case note nor flagged a case"
T = TypeVar("T")


# -- helpers ----------------------------------------------------------------------------------


def identify_at_once(bot: BalintBot) -> None:
    """discord.py waits 5 s before identifying again (Discord's identify limit); the
    double has no such limit, so the test bot skips the wait."""

    async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    bot.before_identify_hook = no_wait  # type: ignore[method-assign]


def dms_containing(scene: Scene, user: User, text: str) -> list[Message]:
    return [m for m in scene.double.dms(user) if text in (m.content or "")]


async def reminder_states(scene: Scene) -> dict[str, tuple[str, int]]:
    """Each reminder job's kind, with its state and attempts."""
    rows = await scene.running.database.fetchall(
        "SELECT kind, state, attempts FROM jobs WHERE kind LIKE 'reminder.%' ORDER BY kind"
    )
    return {row["kind"]: (row["state"], row["attempts"]) for row in rows}


async def rsvps(scene: Scene, session_id: int) -> dict[int, bool]:
    rows = await scene.running.database.fetchall(
        "SELECT user_id, attending FROM rsvps WHERE session_id = ?", (session_id,)
    )
    return {row["user_id"]: bool(row["attending"]) for row in rows}


def answered(interaction: Interaction) -> bool:
    """The bot's first response was accepted and nothing it sent was refused."""
    return interaction.response is not None and not interaction.rejected


async def sent_now(action: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start a user's action and let it reach Discord (its interaction is dispatched)
    before the test goes on to break something; its answer is awaited later."""
    task = asyncio.ensure_future(action)
    await asyncio.sleep(0)  # one turn of the loop: the dispatch happens in the first step
    return task


async def off_the_gateway(scene: Scene) -> None:
    """Wait until the bot's gateway connection has closed (it is reconnecting)."""
    gateway = scene.double.gateway
    await scene.double.changes.wait_for(
        lambda: None if gateway.connected else True, timeout=5, what="the connection to close"
    )


async def click_rsvp(scene: Scene, reminder: Message, session_id: int, user: User) -> Interaction:
    return await scene.double.click(reminder, f"rsvp:{session_id}:yes", user)


async def assert_each_reminder_sent_once(scene: Scene, presenter: User) -> None:
    """One channel reminder, one presenter DM, one leaders' DM; every job done."""
    await handlers_done()
    assert len(reminders_in(scene)) == 1
    assert len(dms_containing(scene, presenter, WHAT_TO_PREPARE)) == 1
    assert len(dms_containing(scene, scene.leader, NO_CASE_YET)) == 1
    states = await reminder_states(scene)
    assert {state for state, _ in states.values()} == {"done"}, states


# -- the gateway ------------------------------------------------------------------------------


async def test_a_dropped_gateway_resumes_and_loses_no_reminder_or_answer(scene: Scene) -> None:
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    # The connection drops and Discord is slow to take the bot back. Meanwhile the
    # channel reminder falls due (it goes out by REST, which still works) and a member
    # presses Attending: Discord keeps the press for the session and replays it when the
    # bot resumes, and the bot answers it then.
    let_resume = double.gateway.hold_resumes()
    try:
        await double.disconnect(wait=False)
        await off_the_gateway(scene)
        await advance_to(scene, CHANNEL_DUE)
        [reminder] = reminders_in(scene)
        alice, bob, carol = scene.members[:3]
        pressed = await sent_now(click_rsvp(scene, reminder, session_id, alice))
    finally:
        let_resume()
    assert answered(await pressed)
    assert "INTERACTION_CREATE" in [frame["t"] for frame in double.gateway.replayed]
    # The connection drops again just as a member presses.
    pressed = await sent_now(click_rsvp(scene, reminder, session_id, bob))
    await double.disconnect()
    assert answered(await pressed)
    # Discord asks the bot to reconnect (op 7) as another member presses.
    double.gateway.request_reconnect()
    assert answered(await click_rsvp(scene, reminder, session_id, carol))
    listing = await scene.slash("session list", scene.members[3])
    assert "3 attending, 0 can't make it" in reply_text(listing)

    assert double.gateway.identifies == 1  # every drop was resumed, none re-identified
    assert double.gateway.resume_count >= 3
    assert await rsvps(scene, session_id) == {alice.id: True, bob.id: True, carol.id: True}
    assert "3 attending" in (reminders_in(scene)[0].content or "")
    await assert_each_reminder_sent_once(scene, presenter)


async def test_a_resumable_invalid_session_resumes_without_losing_anything(scene: Scene) -> None:
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    alice = scene.members[0]
    # Discord invalidates the session just after the presenter flags a case, but lets the
    # bot resume it (op 9, d: true), and is slow to take it back. Meanwhile the channel
    # reminder falls due and a member presses Attending.
    let_resume = double.gateway.hold_resumes()
    try:
        flagged = await sent_now(scene.slash("case flag", presenter))
        double.gateway.invalidate_sessions(resumable=True)
        assert "Flagged" in reply_text(await flagged)
        await off_the_gateway(scene)
        await advance_to(scene, CHANNEL_DUE)
        [reminder] = reminders_in(scene)
        pressed = await sent_now(click_rsvp(scene, reminder, session_id, alice))
    finally:
        let_resume()
    assert answered(await pressed)

    assert (double.gateway.identifies, double.gateway.resume_count) == (1, 1)
    assert await rsvps(scene, session_id) == {alice.id: True}
    flags = await scene.running.database.scalar(
        "SELECT count(*) FROM cases WHERE member_id = ? AND kind = 'flag'", (presenter.id,)
    )
    assert flags == 1
    await handlers_done()
    assert len(reminders_in(scene)) == 1
    assert "1 attending" in (reminders_in(scene)[0].content or "")
    assert len(dms_containing(scene, presenter, WHAT_TO_PREPARE)) == 1
    # the presenter flagged a case, so the leaders are not asked about one
    assert dms_containing(scene, scene.leader, NO_CASE_YET) == []
    states = await reminder_states(scene)
    assert {state for state, _ in states.values()} == {"done"}, states


async def test_after_an_invalid_session_the_bot_identifies_anew_and_loses_nothing(
    scene: Scene,
) -> None:
    double = scene.double
    identify_at_once(scene.running)
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    alice, bob = scene.members[:2]
    ready_again = asyncio.Event()

    async def on_ready() -> None:
        ready_again.set()

    scene.running.add_listener(on_ready)
    # A member changes a preference just before Discord invalidates the session for good
    # (op 9, d: false), and the channel reminder falls due while the bot identifies anew.
    quieter = await sent_now(scene.slash("preferences", alice, reflection_dms=False))
    double.gateway.invalidate_sessions(resumable=False)
    scene.clock.set(CHANNEL_DUE)
    assert answered(await quieter)
    # A fresh session: READY and GUILD_CREATE again, and on_ready again, where the bot
    # deletes the data of servers it is no longer in (this one it still is in).
    await asyncio.wait_for(ready_again.wait(), 5)
    await scene.settle()
    [reminder] = reminders_in(scene)
    assert answered(await click_rsvp(scene, reminder, session_id, alice))
    assert answered(await click_rsvp(scene, reminder, session_id, bob))
    shown = await scene.slash("group show", scene.members[2])
    assert reply_text(shown).startswith("**Tuesday group**: 5 people")

    wanted = await scene.running.database.fetchone(
        "SELECT reminder_dms, reflection_dms FROM preferences WHERE user_id = ?", (alice.id,)
    )
    assert wanted is not None
    assert (wanted["reminder_dms"], wanted["reflection_dms"]) == (1, 0)
    assert double.gateway.identifies == 2
    assert await rsvps(scene, session_id) == {alice.id: True, bob.id: True}
    assert "2 attending" in (reminders_in(scene)[0].content or "")
    await assert_each_reminder_sent_once(scene, presenter)


# -- Discord answers 5xx and 429 --------------------------------------------------------------


async def test_a_reminder_that_meets_503s_is_retried_until_discord_recovers(scene: Scene) -> None:
    """discord.py does not retry a 503: the reminder job fails, and the scheduler retries
    it with back-off (30 s, then 1 min, then 2 min) until Discord answers again."""
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    outage = double.faults.add(503, route=MESSAGES, where={"channel_id": scene.home.id})
    for moment in (CHANNEL_DUE, CHANNEL_DUE + timedelta(seconds=30)):
        await advance_to(scene, moment)
        assert reminders_in(scene) == []
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=89))
    assert outage.hits == 2  # not retried before its back-off is over
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=90))
    assert outage.hits == 3
    outage.stop()  # Discord has recovered
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=210))
    [reminder] = reminders_in(scene)
    assert (await reminder_states(scene))["reminder.channel"] == ("done", 4)
    assert double.faults.count(503) == 3
    # the reminder that finally went out is the one on record: its buttons count
    assert answered(await click_rsvp(scene, reminder, session_id, scene.members[0]))
    assert "1 attending" in (reminders_in(scene)[0].content or "")
    await assert_each_reminder_sent_once(scene, presenter)


async def test_a_reminder_whose_answer_was_lost_is_not_posted_twice(scene: Scene) -> None:
    """Discord posted the reminder but its answer was lost (a 503 after the fact): the
    job is retried, and its nonce makes Discord hand back the message already posted."""
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    double.faults.add(
        503, route=MESSAGES, where={"channel_id": scene.home.id}, times=1, applied=True
    )
    await advance_to(scene, CHANNEL_DUE)
    [posted] = reminders_in(scene)
    assert (await reminder_states(scene))["reminder.channel"] == ("pending", 1)
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=30))
    [reminder] = reminders_in(scene)
    assert reminder is posted
    assert (await reminder_states(scene))["reminder.channel"] == ("done", 2)
    assert answered(await click_rsvp(scene, reminder, session_id, scene.members[0]))
    assert "1 attending" in (reminder.content or "")
    await assert_each_reminder_sent_once(scene, presenter)


async def test_a_leaders_reminder_that_meets_503s_reaches_each_leader_once(scene: Scene) -> None:
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    to_leader = double.dm_channel(scene.leader, create=True)
    assert to_leader is not None
    double.faults.add(503, route=MESSAGES, where={"channel_id": to_leader.id}, times=2)
    await advance_to(scene, CHANNEL_DUE)
    assert dms_containing(scene, scene.leader, NO_CASE_YET) == []
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=30))
    await advance_to(scene, CHANNEL_DUE + timedelta(seconds=90))
    assert double.faults.count(503) == 2
    assert (await reminder_states(scene))["reminder.leaders"] == ("done", 3)
    await assert_each_reminder_sent_once(scene, presenter)


def duplicates(scene: Scene) -> list[Message]:
    """The bot's messages that repeat an earlier one in the same channel or DM."""
    seen: set[tuple[int, str]] = set()
    repeated = []
    for message in scene.double.messages_by_id.values():
        if message.author is not scene.double.bot or message.ephemeral or message.deleted:
            continue
        key = (message.channel_id, message.content or "")
        if key in seen:
            repeated.append(message)
        seen.add(key)
    return repeated


async def test_under_rate_limits_and_server_errors_nothing_anyone_did_is_lost(
    scene: Scene,
) -> None:
    """A quarter of all requests meet a 429 (some of them the global limit), and a few
    meet a 500 or a 502, while the leader plans, a presenter sends a case note by DM,
    members answer the reminder and look at the rota. discord.py waits each one out."""
    double = scene.double
    faults = double.faults
    faults.add(429, method="POST", route=CALLBACK, times=1, is_global=True, retry_after=0.02)
    faults.add(429, method="POST", route=FOLLOWUP, times=1, retry_after=0.02)
    faults.add(429, share=0.25, seed=11, retry_after=0.02)
    faults.add(429, share=0.1, seed=5, retry_after=0.02, is_global=True)

    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    others = [m for m in scene.members if m is not presenter]
    preview = await dm_and_wait(scene, presenter, "A patient I keep thinking about.")
    confirmed = await double.click(preview, case_button(preview, "confirm"), presenter)
    assert "Sent to the leaders" in reply_text(confirmed)
    await advance_to(scene, PRESENTER_DUE)
    await advance_to(scene, CHANNEL_DUE)
    [reminder] = reminders_in(scene)
    # Discord fails once on an initial response and once on a follow-up; discord.py
    # retries both (after 1 s each).
    faults.add(500, method="POST", route=CALLBACK, times=1)
    faults.add(502, method="POST", route=FOLLOWUP, times=1)
    assert answered(await click_rsvp(scene, reminder, session_id, others[0]))
    declined = await double.click(reminder, f"rsvp:{session_id}:no", others[1])
    assert answered(declined)
    mine = await scene.slash("rota me", others[2])
    assert "presenting slots" in reply_text(mine)
    listing = await scene.slash("session list", scene.leader)
    assert "1 attending, 1 can't make it" in reply_text(listing)
    await handlers_done()
    faults.clear()

    assert all(answered(interaction) for interaction in double.interactions)
    roster = await scene.running.database.fetchall("SELECT user_id FROM members")
    assert {row["user_id"] for row in roster} == {scene.leader.id, *(m.id for m in scene.members)}
    assert await rsvps(scene, session_id) == {others[0].id: True, others[1].id: False}
    notes = await scene.running.database.fetchall(
        "SELECT member_id, kind FROM cases WHERE session_id = ?", (session_id,)
    )
    assert [(row["member_id"], row["kind"]) for row in notes] == [(presenter.id, "note")]
    assert len(dms_containing(scene, scene.leader, "sent a case note")) == 1
    assert len(reminders_in(scene)) == 1
    assert "1 attending, 1 can't make it" in (reminder.content or "")
    assert len(dms_containing(scene, presenter, WHAT_TO_PREPARE)) == 1
    assert dms_containing(scene, scene.leader, NO_CASE_YET) == []  # a note came in
    states = await reminder_states(scene)
    assert {state for state, _ in states.values()} == {"done"}, states
    assert duplicates(scene) == []
    assert faults.count(429, is_global=False) >= 2
    assert faults.count(429, is_global=True) >= 1
    assert (faults.count(500), faults.count(502)) == (1, 1)


# -- the database is locked by another process ------------------------------------------------

LOCK_SECONDS = 1.5
HOLD_WRITE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
letting_go = time.monotonic()
connection.execute("COMMIT")
print(letting_go, flush=True)
"""


@asynccontextmanager
async def write_lock_held(path: Path, seconds: float) -> AsyncIterator[asyncio.Future[float]]:
    """Another process (an operator's `sqlite3` shell, a backup) holds the database's
    write lock for `seconds`. Yields a future of the moment (`time.monotonic()`, one
    clock for every process) just before it let go: nothing of the bot's can have
    written after the lock was taken and before that moment."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_WRITE_LOCK, str(path), str(seconds),
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None
    output = holder.stdout
    assert await output.readline() == b"locked\n"

    async def released() -> float:
        return float(await output.readline())

    let_go = asyncio.ensure_future(released())
    try:
        yield let_go
    finally:
        await let_go
        assert await holder.wait() == 0


async def test_a_command_and_a_reminder_during_a_database_lock_go_on_after_it(
    scene: Scene,
) -> None:
    """The bot's connection waits out another process's write lock (its busy timeout is
    5 s): a command issued during a 1.5 s lock is answered once the lock is gone, within
    Discord's 3 s, and a reminder that fell due meanwhile is sent then, once."""
    double = scene.double
    session_id = await plan_one_session(scene)
    presenter = await presenter_of(scene, session_id)
    await advance_to(scene, PRESENTER_DUE)
    path = scene.settings.database_path
    async with write_lock_held(path, LOCK_SECONDS) as let_go:
        scene.clock.set(CHANNEL_DUE)  # the channel and leaders' reminders fall due
        flagged = await sent_now(scene.slash("case flag", presenter))
        listed = await sent_now(scene.slash("session list", scene.members[0]))
        released_at = await let_go
    await scene.settle()
    for interaction in (await flagged, await listed):
        assert answered(interaction)
        first = interaction.attempts[0]
        assert interaction.sent_at < released_at < first.at  # it waited for the lock...
        assert first.at - interaction.sent_at < double.interaction_deadline  # ...in time
    assert "Flagged" in reply_text(await flagged)
    flags = await scene.running.database.scalar(
        "SELECT count(*) FROM cases WHERE member_id = ? AND kind = 'flag'", (presenter.id,)
    )
    assert flags == 1
    [reminder] = reminders_in(scene)
    assert reminder.created_at > released_at
    await handlers_done()
    states = await reminder_states(scene)
    assert {state for state, _ in states.values()} == {"done"}, states
    assert len(dms_containing(scene, presenter, WHAT_TO_PREPARE)) == 1
    with sqlite3.connect(path) as reader:  # what another process now reads is whole
        assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
