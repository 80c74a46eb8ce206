"""Confidential case submission end to end: DM intake, the form, flag, withdraw, view,
refusals, replacement, expiry, purge, and what never leaks."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cases import service as case_service
from tests.double import Channel, Interaction, Message, Upload, User
from tests.e2e.conftest import Scene, handlers_done, reply_text
from tests.e2e.test_groups import button as labelled

SESSION_START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 19:00 in London (GMT)
SESSION_END = SESSION_START + timedelta(minutes=90)
NOTE = (
    "A woman in her sixties with chronic back pain whom I have seen every week since "
    "last spring; I dread her appointments and feel I have nothing left to offer her."
)
OTHER_NOTE = (
    "A young man with recurrent chest pain, investigated many times; the family ring "
    "the surgery daily and I notice I avoid picking up their calls."
)


async def plan(scene: Scene, *, name: str = "Tuesday group", channel: Channel | None = None) -> int:
    """A group with one session on 1 December at 19:00 London; returns the session id."""
    if channel is None:
        await scene.create_group(name)
    else:
        await scene.slash(
            "group create",
            scene.admin,
            name=name,
            channel=channel,
            timezone="Europe/London",
            leader=scene.leader,
            in_channel=channel,
        )
        for member in scene.members:
            await scene.slash("group add", scene.leader, member=member, in_channel=channel)
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="once",
        count=1,
        in_channel=channel or scene.home,
    )
    await handlers_done()  # the slot-change DMs of the planning are out of the way
    row = await scene.running.database.fetchone(
        "SELECT s.id FROM sessions s JOIN groups g ON g.id = s.group_id WHERE g.name = ?", (name,)
    )
    assert row is not None
    return int(row["id"])


async def dm_and_wait(scene: Scene, user: User, text: str, **extra: object) -> Message:
    """`user` writes to the bot; the bot's answer (the first message after theirs)."""
    sent = await scene.double.dm(user, text, **extra)  # type: ignore[arg-type]
    return await scene.double.wait_for_message(user, lambda m: m.id > sent.id)


def button(message: Message, action: str) -> str:
    found = [c for c in message.custom_ids() if c.startswith(f"case:{action}:")]
    assert found, f"no {action} button in {message.custom_ids()}"
    return found[0]


async def stored(scene: Scene) -> list[dict[str, object]]:
    rows = await scene.running.database.fetchall(
        "SELECT session_id, member_id, kind, ciphertext FROM cases ORDER BY id"
    )
    return [dict(row) for row in rows]


def disk_bytes(scene: Scene) -> bytes:
    """The database file, its write-ahead log and its shared-memory file, as on disk."""
    path = scene.settings.database_path
    parts = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def pieces(text: str, size: int = 8) -> list[bytes]:
    encoded = text.encode()
    return [encoded[i : i + size] for i in range(len(encoded) - size + 1)]


def leaked_pieces(blob: bytes, text: str) -> list[bytes]:
    return [piece for piece in pieces(text) if piece in blob]


async def confirm_by_dm(scene: Scene, user: User, text: str) -> Interaction:
    preview = await dm_and_wait(scene, user, text)
    confirmed = await scene.double.click(preview, button(preview, "confirm"), user)
    await handlers_done()
    return confirmed


# -- DM intake --------------------------------------------------------------------------------


async def test_a_dm_is_previewed_and_nothing_is_stored_before_confirm(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    text = preview.content
    assert "**Tuesday group**" in text
    assert f"<t:{int(SESSION_START.timestamp())}:F>" in text
    assert f"<@{scene.leader.id}>" in text  # who reads it
    assert f"<t:{int(SESSION_END.timestamp())}:F>" in text  # when it is deleted
    assert "found nothing" in text
    assert "cannot delete the message you sent me" in text
    assert "`/case submit`" in text
    assert [c.split(":")[1] for c in preview.custom_ids()] == ["confirm", "cancel"]
    assert await stored(scene) == []
    assert leaked_pieces(disk_bytes(scene), NOTE) == []


async def test_confirm_stores_the_note_encrypted_and_tells_the_leaders(scene: Scene) -> None:
    session_id = await plan(scene)
    alice = scene.members[0]
    confirmed = await confirm_by_dm(scene, alice, NOTE)
    [edited] = [m for m in scene.double.dms(alice) if m.id == confirmed.source_message.id]
    assert "Sent to the leaders of **Tuesday group**" in edited.content
    assert edited.custom_ids() == []  # the buttons are gone
    [row] = await stored(scene)
    assert (row["session_id"], row["member_id"], row["kind"]) == (session_id, alice.id, "note")
    assert isinstance(row["ciphertext"], bytes)
    assert NOTE.encode() not in row["ciphertext"]
    notice = await scene.double.wait_for_message(
        scene.leader, lambda m: "sent a case note" in m.content
    )
    assert f"<@{alice.id}>" in notice.content
    assert "/case view" in notice.content
    assert leaked_pieces(notice.content.encode(), NOTE) == []
    assert leaked_pieces(disk_bytes(scene), NOTE) == []


async def test_identifiers_are_shown_with_their_class_and_a_hint(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(
        scene,
        alice,
        "Mr Okonkwo, born 12/03/1961, rang me on 07700 900123 about his results.",
    )
    text = preview.content
    assert "Please check these first" in text
    assert "“Mr Okonkwo”" in text
    assert "07700 900123" in text
    assert "12/03/1961" in text
    assert "a woman in her sixties" in text  # the hint for a name
    assert await stored(scene) == []


async def test_a_member_of_several_groups_can_choose_another(scene: Scene) -> None:
    await plan(scene)
    second = await plan(scene, name="Thursday group", channel=scene.other_channel)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    assert "**Tuesday group**" in preview.content
    chose = await scene.double.click(preview, button(preview, "group"), alice)
    assert chose.response is not None
    assert chose.response.type == 7
    [menu] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    thursday = await scene.running.database.scalar(
        "SELECT id FROM groups WHERE name = 'Thursday group'"
    )
    picked = await scene.double.select(menu, button(menu, "pick"), alice, [str(thursday)])
    assert picked.response is not None
    assert picked.response.type == 7
    [again] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "**Thursday group**" in again.content
    await scene.double.click(again, button(again, "confirm"), alice)
    [row] = await stored(scene)
    assert row["session_id"] == second


async def test_cancel_keeps_nothing(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    await scene.double.click(preview, button(preview, "cancel"), alice)
    [edited] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "Cancelled" in edited.content
    assert await stored(scene) == []


async def test_a_draft_expires_after_fifteen_minutes(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    scene.clock.advance(timedelta(minutes=15))
    await scene.double.click(preview, button(preview, "confirm"), alice)
    [edited] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "expired" in edited.content
    assert "send your note again" in edited.content
    assert await stored(scene) == []


async def test_a_draft_does_not_survive_a_restart(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    await scene.restart()
    await scene.double.click(preview, button(preview, "confirm"), alice)
    [edited] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "expired" in edited.content
    assert await stored(scene) == []


async def test_a_stranger_gets_a_polite_explanation(scene: Scene) -> None:
    await plan(scene)
    answer = await dm_and_wait(scene, scene.outsider, NOTE)
    assert "not on any group's roster" in answer.content
    assert answer.custom_ids() == []
    assert await stored(scene) == []


async def test_a_member_without_an_upcoming_session_is_told_so(scene: Scene) -> None:
    await scene.create_group()
    answer = await dm_and_wait(scene, scene.members[0], NOTE)
    assert "has an upcoming session yet" in answer.content
    assert await stored(scene) == []


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        ("see attached", {"attachments": [Upload("notes.pdf", b"%PDF-1.4")]}, "text only"),
        ("  \n\t ", {}, "no text to send"),
        ("x" * 1501, {}, "1,501 characters long; the limit is 1,500"),
    ],
    ids=["attachment", "whitespace", "too-long"],
)
async def test_a_dm_that_cannot_be_a_note_is_refused(
    scene: Scene, text: str, extra: dict[str, object], expected: str
) -> None:
    await plan(scene)
    answer = await dm_and_wait(scene, scene.members[0], text, **extra)
    assert expected in answer.content
    assert answer.custom_ids() == []
    assert await stored(scene) == []


# -- the form -----------------------------------------------------------------------------------


async def open_form(scene: Scene, user: User) -> Interaction:
    opened = await scene.slash("case submit", user)
    assert opened.response is not None, reply_text(opened)
    assert opened.response.type == 9, reply_text(opened)
    return opened


async def test_the_form_previews_privately_then_stores(scene: Scene) -> None:
    session_id = await plan(scene)
    alice = scene.members[0]
    posted_before = len(scene.home_messages())
    opened = await open_form(scene, alice)
    assert opened.response is not None
    assert opened.response.modal["title"] == "A case note for the leaders"
    submitted = await scene.double.submit_modal(opened, alice, {"note": NOTE})
    preview = submitted.reply
    assert preview.ephemeral
    assert "**Tuesday group**" in preview.content
    assert [c.split(":")[1] for c in preview.custom_ids()] == ["confirm", "edit", "cancel"]
    assert "cannot delete" not in preview.content  # a form leaves no message behind
    assert await stored(scene) == []
    await scene.double.click(preview, button(preview, "confirm"), alice)
    [row] = await stored(scene)
    assert (row["session_id"], row["member_id"]) == (session_id, alice.id)
    assert len(scene.home_messages()) == posted_before  # nothing posted in the channel


async def test_edit_reopens_the_form_with_the_text(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    opened = await open_form(scene, alice)
    preview = (await scene.double.submit_modal(opened, alice, {"note": "Mr Jones, aged 93"})).reply
    assert "Please check these first" in preview.content
    editing = await scene.double.click(preview, button(preview, "edit"), alice)
    assert editing.response is not None
    assert editing.response.type == 9
    [field] = [
        c
        for row in editing.response.modal["components"]
        for c in ([row.get("component")] if "component" in row else row.get("components", []))
    ]
    assert field["value"] == "Mr Jones, aged 93"
    fixed = (await scene.double.submit_modal(editing, alice, {"note": OTHER_NOTE})).reply
    assert "found nothing" in fixed.content
    await scene.double.click(fixed, button(fixed, "confirm"), alice)
    leader_view = await scene.slash("case view", scene.leader)
    assert "investigated many times" in reply_text(leader_view)
    assert "Jones" not in reply_text(leader_view)


async def test_a_second_note_replaces_the_first_after_confirmation(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    [first] = await stored(scene)
    preview = await dm_and_wait(scene, alice, OTHER_NOTE)
    assert "**replaces** what you sent" in preview.content
    assert "Replace my earlier note" in preview.content
    [still] = await stored(scene)
    assert still == first  # nothing changes before the confirmation
    await scene.double.click(preview, button(preview, "replace"), alice)
    [row] = await stored(scene)
    assert row["ciphertext"] != first["ciphertext"]
    shown = reply_text(await scene.slash("case view", scene.leader))
    assert "investigated many times" in shown
    assert "back pain" not in shown
    old = first["ciphertext"]
    assert isinstance(old, bytes)
    assert old not in disk_bytes(scene)  # the replaced ciphertext is gone from the disk


# -- flag, withdraw, view -----------------------------------------------------------------------


async def test_flag_tells_the_leaders_with_no_content(scene: Scene) -> None:
    session_id = await plan(scene)
    bob = scene.members[1]
    flagged = await scene.slash("case flag", bob)
    assert "Flagged" in reply_text(flagged)
    assert flagged.reply.ephemeral
    [row] = await stored(scene)
    assert (row["session_id"], row["kind"], row["ciphertext"]) == (session_id, "flag", None)
    notice = await scene.double.wait_for_message(
        scene.leader, lambda m: "may have a case" in m.content
    )
    assert f"<@{bob.id}>" in notice.content
    again = await scene.slash("case flag", bob)
    assert "already flagged" in reply_text(again)


async def test_flag_and_withdraw_work_in_a_dm_with_the_bot(scene: Scene) -> None:
    await plan(scene)
    bob = scene.members[1]
    flagged = await scene.double.slash("case flag", bob)
    assert "Flagged" in reply_text(flagged)
    assert len(await stored(scene)) == 1
    withdrawn = await scene.double.slash("case withdraw", bob)
    assert "Withdrawn: your flag" in reply_text(withdrawn)
    assert await stored(scene) == []
    opened = await scene.double.slash("case submit", bob)
    assert opened.response is not None
    assert opened.response.type == 9


async def test_withdraw_deletes_the_note_from_the_disk(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    [row] = await stored(scene)
    sealed = row["ciphertext"]
    assert isinstance(sealed, bytes)
    assert sealed in disk_bytes(scene)
    withdrawn = await scene.slash("case withdraw", alice)
    assert "Withdrawn: your note" in reply_text(withdrawn)
    assert await stored(scene) == []
    assert sealed not in disk_bytes(scene)
    await scene.double.wait_for_message(scene.leader, lambda m: "withdrew" in m.content)
    nothing = await scene.slash("case withdraw", alice)
    assert "nothing to withdraw" in reply_text(nothing)


async def test_view_shows_the_leaders_what_is_held(scene: Scene) -> None:
    await plan(scene)
    alice, bob = scene.members[0], scene.members[1]
    await confirm_by_dm(scene, alice, NOTE)
    await scene.slash("case flag", bob)
    shown = await scene.slash("case view", scene.leader)
    assert shown.reply.ephemeral
    text = reply_text(shown)
    assert "back pain" in text
    assert f"<@{alice.id}>" in text
    assert f"<@{bob.id}> may have a case" in text


@pytest.mark.parametrize("who", ["member", "outsider", "server manager"])
async def test_view_is_refused_to_anyone_but_the_leaders(scene: Scene, who: str) -> None:
    await plan(scene)
    await confirm_by_dm(scene, scene.members[0], NOTE)
    user = {"member": scene.members[1], "outsider": scene.outsider, "server manager": scene.admin}
    refused = await scene.slash("case view", user[who])
    assert refused.reply.ephemeral
    assert "back pain" not in reply_text(refused)
    assert "Only" in reply_text(refused)


async def test_a_member_taken_off_the_roster_loses_their_note_at_once(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    [row] = await stored(scene)
    await scene.slash("group remove", scene.leader, member=alice)
    assert await stored(scene) == []
    sealed = row["ciphertext"]
    assert isinstance(sealed, bytes)
    assert sealed not in disk_bytes(scene)


async def test_the_leaders_reminder_asks_about_a_missing_case_only(scene: Scene) -> None:
    session_id = await plan(scene)
    presenter_id = await scene.running.database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (session_id,)
    )
    presenter = scene.double.users[int(presenter_id)]
    await confirm_by_dm(scene, presenter, NOTE)
    scene.clock.set(SESSION_START - timedelta(hours=24))
    await scene.settle()
    await handlers_done()
    assert not [m for m in scene.double.dms(scene.leader) if "Will they have a case" in m.content]


# -- purge --------------------------------------------------------------------------------------


async def test_notes_are_purged_at_the_session_end_and_the_leaders_told(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    await scene.slash("case flag", scene.members[1])
    [row, _] = await stored(scene)
    sealed = row["ciphertext"]
    assert isinstance(sealed, bytes)
    scene.clock.set(SESSION_END - timedelta(seconds=1))
    await scene.settle()
    assert len(await stored(scene)) == 2
    scene.clock.set(SESSION_END)
    await scene.settle()
    assert await stored(scene) == []
    assert sealed not in disk_bytes(scene)
    assert leaked_pieces(disk_bytes(scene), NOTE) == []
    notice = await scene.double.wait_for_message(
        scene.leader, lambda m: "have been deleted" in m.content
    )
    assert f"<t:{int(SESSION_START.timestamp())}:F>" in notice.content


async def test_retention_keeps_notes_after_the_session_until_it_runs_out(scene: Scene) -> None:
    await plan(scene)
    await scene.slash("group settings", scene.leader, case_retention_hours=24)
    await confirm_by_dm(scene, scene.members[0], NOTE)
    scene.clock.set(SESSION_END + timedelta(hours=23))
    await scene.settle()
    assert len(await stored(scene)) == 1
    assert "back pain" in reply_text(await scene.slash("case view", scene.leader))
    scene.clock.set(SESSION_END + timedelta(hours=24))
    await scene.settle()
    assert await stored(scene) == []


async def test_a_purge_due_while_the_bot_was_down_runs_once_at_start(scene: Scene) -> None:
    await plan(scene)
    await confirm_by_dm(scene, scene.members[0], NOTE)
    await scene.stop()
    scene.clock.set(SESSION_END + timedelta(hours=2))
    await scene.start()
    await scene.settle()
    await handlers_done()
    assert await stored(scene) == []
    await scene.restart()
    await scene.settle()
    await handlers_done()
    notices = [m for m in scene.double.dms(scene.leader) if "have been deleted" in m.content]
    assert len(notices) == 1


async def test_a_cancelled_session_loses_its_notes_at_once(scene: Scene) -> None:
    session_id = await plan(scene)
    await confirm_by_dm(scene, scene.members[0], NOTE)
    await scene.slash("session cancel", scene.leader, session=session_id)
    await scene.settle()
    assert await stored(scene) == []


# -- never leaks ---------------------------------------------------------------------------------

SECRET = (
    "Quillfeather Vandermoot, seen at Brackenholt, wept when I mentioned the zinnias; "
    "marmalade-coloured scarves, xylophone lessons, ferrets named Odalys."
)
SECRET_FORM = "Glimmerstone orchards and the tarnished Poltergeist ukulele she always carries."
SECRET_REFUSED = "Wombatcurtain " * 120  # too long: refused, never echoed


def leaks(text: str, secrets: list[str]) -> list[bytes]:
    blob = text.encode()
    return [piece for secret in secrets for piece in leaked_pieces(blob, secret)]


async def test_the_text_never_reaches_logs_or_anyone_but_its_author_and_leaders(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    """Every case flow with every logger at DEBUG (discord.py's included)."""
    for name in ("", "discord", "bot", "cogs", "aiosqlite", "apscheduler", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    await plan(scene)
    await plan(scene, name="Thursday group", channel=scene.other_channel)
    alice, bob = scene.members[0], scene.members[1]
    author_channels = {scene.double.dm_channel(alice, create=True).id}  # type: ignore[union-attr]
    author_channels.add(scene.double.dm_channel(bob, create=True).id)  # type: ignore[union-attr]
    allowed_interactions: set[int] = set()

    # by DM: preview, another group, confirm; a replacement; a refusal
    preview = await dm_and_wait(scene, alice, SECRET)
    await scene.double.click(preview, button(preview, "group"), alice)
    thursday = await scene.running.database.scalar(
        "SELECT id FROM groups WHERE name = 'Thursday group'"
    )
    await scene.double.select(preview, button(preview, "pick"), alice, [str(thursday)])
    await scene.double.click(preview, button(preview, "confirm"), alice)
    await confirm_by_dm(scene, alice, SECRET + " Again.")
    await dm_and_wait(scene, alice, SECRET_REFUSED)
    await dm_and_wait(scene, scene.outsider, SECRET)  # a stranger: told, never echoed
    author_channels.add(scene.double.dm_channel(scene.outsider).id)  # type: ignore[union-attr]
    # by form: edit, confirm; flag; withdraw
    opened = await open_form(scene, bob)
    form = (await scene.double.submit_modal(opened, bob, {"note": SECRET_FORM})).reply
    editing = await scene.double.click(form, button(form, "edit"), bob)
    again = (await scene.double.submit_modal(editing, bob, {"note": SECRET_FORM + "!"})).reply
    await scene.double.click(again, button(again, "confirm"), bob)
    allowed_interactions |= {opened.id, editing.id}
    await scene.slash("case flag", scene.members[2])
    await scene.slash("case withdraw", scene.members[2])
    # the leaders read them (their answer is the one place the text may appear)
    viewed = await scene.slash("case view", scene.leader)
    assert "Glimmerstone" in reply_text(viewed)
    allowed_interactions.add(viewed.id)
    # removal, restart, purge
    await scene.slash("group remove", scene.leader, member=alice)
    await scene.restart()
    scene.clock.set(SESSION_END + timedelta(minutes=1))
    await scene.settle()
    await handlers_done()
    assert await stored(scene) == []

    secrets = [SECRET, SECRET_FORM, SECRET_REFUSED]
    assert leaks(caplog.text, secrets) == []
    assert all(leaks(record.getMessage(), secrets) == [] for record in caplog.records)
    checked = 0
    for message in scene.double.messages_by_id.values():
        if message.author is not scene.double.bot or message.channel_id in author_channels:
            continue
        if message.interaction is not None and (
            message.interaction.id in allowed_interactions
            or (message.ephemeral and message.interaction.user in (alice, bob))
        ):
            continue
        versions = [message.content, *(old.get("content") or "" for old in message.history)]
        assert all(leaks(version, secrets) == [] for version in versions), message
        checked += 1
    assert checked > 5  # the leaders' notices and the channel posts were looked at
    assert leaks(disk_bytes(scene).decode("latin-1"), secrets) == []


# -- what a careful user runs into ------------------------------------------------------------


async def test_a_short_reply_is_not_taken_for_a_note(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    answer = await dm_and_wait(scene, alice, "Thanks!")
    assert "write the note in one message" in answer.content
    assert answer.custom_ids() == []
    [row] = await stored(scene)
    assert row["kind"] == "note"


async def test_a_form_open_across_a_restart_still_arrives(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    opened = await open_form(scene, alice)
    await scene.restart()
    preview = (await scene.double.submit_modal(opened, alice, {"note": NOTE})).reply
    assert "**Tuesday group**" in preview.content
    await scene.double.click(preview, button(preview, "confirm"), alice)
    assert len(await stored(scene)) == 1


async def test_two_members_with_the_form_open_at_once_both_arrive(scene: Scene) -> None:
    await plan(scene)
    alice, bob = scene.members[0], scene.members[1]
    for_alice, for_bob = await open_form(scene, alice), await open_form(scene, bob)
    alice_preview = (await scene.double.submit_modal(for_alice, alice, {"note": NOTE})).reply
    bob_preview = (await scene.double.submit_modal(for_bob, bob, {"note": OTHER_NOTE})).reply
    await scene.double.click(alice_preview, button(alice_preview, "confirm"), alice)
    await scene.double.click(bob_preview, button(bob_preview, "confirm"), bob)
    assert sorted(row["member_id"] for row in await stored(scene)) == sorted([alice.id, bob.id])


async def test_a_second_press_of_confirm_says_it_is_done(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double click: the second press arrives while the first is still storing."""
    real = case_service.send_note
    storing = asyncio.Event()
    go_on = asyncio.Event()

    async def slow_send_note(*args: Any, **kwargs: Any) -> case_service.CaseSent:
        storing.set()
        await go_on.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(case_service, "send_note", slow_send_note)
    await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    custom = button(preview, "confirm")
    first = asyncio.create_task(scene.double.click(preview, custom, alice))
    await asyncio.wait_for(storing.wait(), 5)
    second = await scene.double.click(preview, custom, alice)
    go_on.set()
    await first
    await handlers_done()
    assert "Already done" in reply_text(second)
    [sent] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "Sent to the leaders" in sent.content  # the first press's answer stands
    assert len(await stored(scene)) == 1


async def test_an_older_preview_says_it_was_replaced(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    first = await dm_and_wait(scene, alice, NOTE)
    await dm_and_wait(scene, alice, OTHER_NOTE)
    await scene.double.click(first, button(first, "confirm"), alice)
    [edited] = [m for m in scene.double.dms(alice) if m.id == first.id]
    assert "replaced by it" in edited.content
    assert await stored(scene) == []


async def test_a_refused_confirm_says_why_on_the_preview(scene: Scene) -> None:
    session_id = await plan(scene)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    await scene.slash("session cancel", scene.leader, session=session_id)
    await handlers_done()
    await scene.double.click(preview, button(preview, "confirm"), alice)
    [edited] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "was cancelled" in edited.content
    assert edited.custom_ids() == []
    assert await stored(scene) == []


async def test_a_note_left_behind_by_a_move_can_still_be_withdrawn(scene: Scene) -> None:
    await scene.create_group()
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=2,
    )
    await handlers_done()
    first = await scene.running.database.scalar("SELECT id FROM sessions ORDER BY starts_at")
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    await scene.slash("session move", scene.leader, session=first, start="2026-12-15 19:00")
    await handlers_done()
    withdrawn = await scene.slash("case withdraw", alice)
    assert "Withdrawn" in reply_text(withdrawn)
    assert await stored(scene) == []


async def test_every_kind_of_finding_shows_however_many_of_one_kind(scene: Scene) -> None:
    await plan(scene)
    text = (
        "Seen 1 March 2024, 2 March 2024, 3 March 2024, 4 March 2024, 5 March 2024, "
        "6 March 2024, 7 March 2024; her NHS number is 943 476 5919."
    )
    preview = await dm_and_wait(scene, scene.members[0], text)
    assert "943 476 5919" in preview.content
    assert "and 1 more" in preview.content


# -- what the audit asked for -----------------------------------------------------------------


async def test_the_dm_caveat_stays_on_every_answer_by_dm(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    confirmed = await confirm_by_dm(scene, alice, NOTE)
    [sent] = [m for m in scene.double.dms(alice) if m.id == confirmed.source_message.id]
    assert "cannot delete the message you sent me" in sent.content
    preview = await dm_and_wait(scene, alice, OTHER_NOTE)
    await scene.double.click(preview, button(preview, "cancel"), alice)
    [cancelled] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "cannot delete the message you sent me" in cancelled.content


async def test_a_refusal_never_quotes_the_note(scene: Scene) -> None:
    await plan(scene)
    text = "Quillfeather Vandermoot " * 70
    answer = await dm_and_wait(scene, scene.members[0], text)
    assert "1,679 characters" in answer.content  # trailing space trimmed
    assert "Quillfeather" not in answer.content


async def test_a_note_in_a_server_channel_is_never_read(scene: Scene) -> None:
    await plan(scene)
    from bot.app import required_intents

    intents = required_intents()
    assert not intents.guild_messages
    assert not intents.message_content
    before = len(scene.home_messages())
    await scene.double.say(scene.home, scene.members[0], NOTE)
    await handlers_done()
    assert len(scene.home_messages()) == before + 1  # only the member's own message
    assert await stored(scene) == []


async def test_a_flag_never_overwrites_a_note(scene: Scene) -> None:
    await plan(scene)
    alice = scene.members[0]
    await confirm_by_dm(scene, alice, NOTE)
    [note] = await stored(scene)
    refused = await scene.slash("case flag", alice)
    assert "withdraw the note first" in reply_text(refused)
    assert await stored(scene) == [note]


async def test_deleting_the_group_erases_its_notes_from_the_disk(scene: Scene) -> None:
    await plan(scene)
    await confirm_by_dm(scene, scene.members[0], NOTE)
    [row] = await stored(scene)
    sealed = row["ciphertext"]
    assert isinstance(sealed, bytes)
    prompt = await scene.slash("group delete", scene.admin, group="Tuesday group")
    delete = labelled(prompt.reply, "Delete the group and all its data")
    await scene.double.click(prompt.reply, delete, scene.admin)
    await handlers_done()
    assert await stored(scene) == []
    assert sealed not in disk_bytes(scene)


async def test_choosing_a_group_one_has_left_is_refused(scene: Scene) -> None:
    await plan(scene)
    await plan(scene, name="Thursday group", channel=scene.other_channel)
    alice = scene.members[0]
    preview = await dm_and_wait(scene, alice, NOTE)
    await scene.double.click(preview, button(preview, "group"), alice)
    thursday = await scene.running.database.scalar(
        "SELECT id FROM groups WHERE name = 'Thursday group'"
    )
    await scene.slash("group remove", scene.leader, member=alice, in_channel=scene.other_channel)
    await handlers_done()
    picked = await scene.double.select(preview, button(preview, "pick"), alice, [str(thursday)])
    assert "Only members of **Thursday group**" in reply_text(picked)
    [still] = [m for m in scene.double.dms(alice) if m.id == preview.id]
    assert "Thursday group" not in still.content.split("\n")[0]


async def test_a_preview_with_many_findings_fits_one_message(scene: Scene) -> None:
    await plan(scene)
    numbers = ", ".join(f"07700 900{n:03d}" for n in range(40))
    preview = await dm_and_wait(scene, scene.members[0], f"Rang from {numbers}.")
    assert len(preview.content) <= 2000
    assert "and 34 more" in preview.content
