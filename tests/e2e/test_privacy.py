"""Each member's own data end to end: /preferences honoured by every DM, /privacy,
/mydata export, and /mydata delete leaving the id nowhere, on the disk included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.double import Message, User
from tests.e2e.conftest import Scene, handlers_done, reply_text
from tests.groups.test_one_transaction import dump

SESSION_START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


async def run(scene: Scene, command: str, user: User, **values: Any) -> str:
    interaction = await scene.slash(command, user, **values)
    await handlers_done()
    return reply_text(interaction)


async def plan(scene: Scene, count: int = 4) -> list[int]:
    await scene.create_group()
    await run(
        scene,
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=count,
    )
    rows = await scene.running.database.fetchall("SELECT id FROM sessions ORDER BY starts_at")
    return [int(row["id"]) for row in rows]


def disk_bytes(scene: Scene) -> bytes:
    path = scene.settings.database_path
    parts = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


async def test_preferences_default_on_and_change(scene: Scene) -> None:
    alice = scene.members[0]
    assert "reminder and notice DMs **on**" in await run(scene, "preferences", alice)
    changed = await run(scene, "preferences", alice, reflection_dms=False)
    assert "reflection invitations by DM **off**" in changed
    assert "reminder and notice DMs **on**" in changed
    in_dm = reply_text(await scene.double.slash("preferences", alice, reminder_dms=False))
    assert "reminder and notice DMs **off**" in in_dm
    back = await run(scene, "preferences", alice, reminder_dms=True, reflection_dms=True)
    assert "**on**" in back
    assert await scene.running.database.scalar("SELECT count(*) FROM preferences") == 0


async def test_every_dm_the_bot_sends_on_its_own_honours_the_preferences(scene: Scene) -> None:
    """Everyone turns both off; then every kind of DM is provoked: slot changes, the
    presenter reminder, the leaders' reminder, a swap request, case notices, the purge
    notice, reflection invitations and the release. None arrives by DM; the ones a member
    must not miss arrive as content-free mentions in the home channel."""
    people = [scene.leader, *scene.members]
    for user in people:
        await run(scene, "preferences", user, reminder_dms=False, reflection_dms=False)
    sessions = await plan(scene, count=2)
    presenter_id = await scene.running.database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (sessions[0],)
    )
    presenter = scene.double.users[int(presenter_id)]
    other = next(user for user in scene.members if user is not presenter)
    await run(scene, "rota swap", presenter, session=sessions[0], options={"with": other})
    await run(scene, "case flag", other)
    for instant in (
        SESSION_START - timedelta(hours=72),
        SESSION_START - timedelta(hours=24),
        SESSION_START + timedelta(minutes=90),
        SESSION_START + timedelta(hours=50),
    ):
        scene.clock.set(instant)
        await scene.settle()
        await handlers_done()
    sent_by_bot = [
        message
        for user in people
        for message in scene.double.dms(user)
        if message.author is scene.double.bot
    ]
    assert sent_by_bot == []
    mentions = [
        m for m in scene.home_messages() if "you turned off my direct messages" in m.content
    ]
    mentioned = {int(m.content.split(">")[0].removeprefix("<@")) for m in mentions}
    assert {presenter.id, other.id, scene.leader.id} <= mentioned  # slots, swap, leaders
    assert not [m for m in mentions if "<t:" in m.content]  # nothing about the session


async def test_privacy_names_every_kind_of_data(scene: Scene) -> None:
    from bot.privacy.registry import kinds_of_data

    text = await run(scene, "privacy", scene.members[0])
    for words in kinds_of_data().values():
        assert words[1:40] in text.replace("\n", " ")


async def test_export_sends_the_members_data_as_json_by_dm(scene: Scene) -> None:
    sessions = await plan(scene)
    alice = scene.members[0]
    await run(scene, "rota away", alice, options={"from": "2026-12-14"}, to="2026-12-16")
    await run(scene, "case flag", alice)
    await run(scene, "mydata export", alice)
    dm = await scene.double.wait_for_message(alice, lambda m: bool(m.attachments))
    [data] = dm.files.values()
    document = json.loads(data.decode("utf-8"))
    assert document["user_id"] == str(alice.id)
    assert document["groups"]["memberships"][0]["group"] == "Tuesday group"
    assert len(document["rota"]["absences"]) == 1
    assert document["cases"]["case_notes_and_flags"][0]["kind"] == "flag"
    assert sessions


async def test_export_comes_as_a_private_file_when_dms_are_closed(scene: Scene) -> None:
    closed = scene.double.add_user("erin", dms_open=False)
    scene.double.add_member(scene.guild, closed)
    interaction = await scene.slash("mydata export", closed)
    await handlers_done()
    [followup] = [m for m in interaction.followups if m.attachments]
    assert followup.ephemeral
    assert json.loads(next(iter(followup.files.values())))["user_id"] == str(closed.id)


async def delete_my_data(scene: Scene, user: User) -> Message:
    asked = await scene.slash("mydata delete", user)
    assert "for good" in reply_text(asked)
    await scene.double.click(asked.reply, f"mydata:delete:{user.id}", user)
    await handlers_done()
    return asked.reply


async def test_delete_leaves_the_members_id_nowhere(scene: Scene) -> None:
    sessions = await plan(scene)
    database = scene.running.database
    presenters = [
        await database.scalar("SELECT presenter_id FROM sessions WHERE id = ?", (s,))
        for s in sessions
    ]
    alice = scene.double.users[int(presenters[0])]  # presents first, and again later
    other = next(user for user in scene.members if user is not alice)
    # a past presentation, an RSVP, an absence, a swap, a case note, a preference, audit
    scene.clock.set(SESSION_START - timedelta(hours=24))
    await scene.settle()
    await handlers_done()
    [reminder] = [m for m in scene.home_messages() if f"rsvp:{sessions[0]}:yes" in m.custom_ids()]
    await scene.double.click(reminder, f"rsvp:{sessions[0]}:yes", alice)
    scene.clock.set(SESSION_START + timedelta(days=1))
    await scene.settle()
    await handlers_done()
    await run(scene, "rota away", alice, options={"from": "2026-12-30"}, to="2027-01-02")
    await run(scene, "rota swap", alice, session=sessions[2], options={"with": other})
    preview = await scene.double.dm(alice, "A long enough note about a patient I keep thinking of.")
    answer = await scene.double.wait_for_message(alice, lambda m: m.id > preview.id)
    confirm = next(c for c in answer.custom_ids() if c.startswith("case:confirm:"))
    await scene.double.click(answer, confirm, alice)
    await run(scene, "preferences", alice, reflection_dms=False)
    await run(scene, "group add", scene.leader, member=alice, role="co-leader")
    await run(scene, "group add", scene.leader, member=alice, role="member")
    uid = alice.id
    before = dict(await dump(database))
    told_before = len(scene.double.dms(alice))
    assert any(str(uid) in repr(rows) for rows in before.values())

    await delete_my_data(scene, alice)
    after = await dump(database)
    holding = [name for name, rows in after if str(uid) in repr(rows)]
    assert holding == []
    on_disk = disk_bytes(scene)
    assert str(uid).encode() not in on_disk
    assert uid.to_bytes(8, "big") not in on_disk
    # past presentations stay as sessions presented by nobody; the rota handed on the rest
    past = await database.scalar(
        "SELECT count(*) FROM sessions WHERE id = ? AND presenter_id IS NULL", (sessions[0],)
    )
    assert past == 1
    upcoming = await database.fetchall(
        "SELECT presenter_id FROM sessions WHERE starts_at > ? ORDER BY starts_at",
        (int(scene.clock.now().timestamp()),),
    )
    assert all(row["presenter_id"] is not None for row in upcoming)
    assert not [m for m in scene.double.dms(alice)[told_before:] if "slots in" in m.content]


async def test_the_last_leader_is_told_to_hand_over_first(scene: Scene) -> None:
    await plan(scene, count=1)
    before = await dump(scene.running.database)
    asked = await scene.slash("mydata delete", scene.leader)
    assert "last leader" in reply_text(asked)
    pressed = await scene.double.click(
        asked.reply, f"mydata:delete:{scene.leader.id}", scene.leader
    )
    assert "hand the group over first" in reply_text(pressed)
    assert await dump(scene.running.database) == before


async def at(scene: Scene, instant: datetime) -> None:
    scene.clock.set(instant)
    await scene.settle()
    await handlers_done()


async def test_deleting_sends_no_reminder_twice(scene: Scene) -> None:
    sessions = await plan(scene, count=2)
    database = scene.running.database
    presenter_id = await database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (sessions[0],)
    )
    presenter = scene.double.users[int(presenter_id)]
    await at(scene, SESSION_START - timedelta(hours=20))

    def channel_reminders() -> list[Message]:
        return [m for m in scene.home_messages() if f"rsvp:{sessions[0]}:yes" in m.custom_ids()]

    def leaders_reminders() -> list[Message]:
        return [m for m in scene.double.dms(scene.leader) if "presents on" in m.content]

    assert len(channel_reminders()) == 1
    told = len(leaders_reminders())
    await delete_my_data(scene, presenter)
    await at(scene, SESSION_START - timedelta(hours=19))
    assert len(channel_reminders()) == 1
    assert len(leaders_reminders()) == told
    assert (
        await database.scalar(
            "SELECT count(*) FROM jobs WHERE instr(key, ?) > 0 OR instr(payload, ?) > 0",
            (str(presenter.id), str(presenter.id)),
        )
        == 0
    )


async def test_a_leader_who_turned_dms_off_gets_nothing_private_in_any_channel(
    scene: Scene,
) -> None:
    await plan(scene, count=1)
    await run(scene, "group settings", scene.leader, leaders_channel=scene.other_channel)
    await run(scene, "preferences", scene.leader, reminder_dms=False)
    flagger = scene.members[0]
    await run(scene, "case flag", flagger)
    posted = [m for m in scene.double.messages(scene.other_channel) if not m.ephemeral]
    assert posted == []  # not even to the leaders' channel: it is not known to be private
    [mention] = [m for m in scene.home_messages() if "turned off my direct messages" in m.content]
    assert "may have a case" not in mention.content
    assert f"<@{flagger.id}>" not in mention.content


async def test_deleting_during_an_open_reflection_window_takes_the_reflection(
    scene: Scene,
) -> None:
    from tests.e2e.test_reflections import invitation, write

    sessions = await plan(scene, count=2)
    alice = scene.members[0]
    await at(scene, SESSION_START + timedelta(minutes=91))
    await write(scene, alice, sessions[0], "A reflection written before leaving.")
    await write(scene, scene.members[1], sessions[0], "Another member's reflection.")
    await delete_my_data(scene, alice)
    database = scene.running.database
    assert await database.scalar("SELECT count(*) FROM reflections") == 1
    again = await scene.double.click(
        invitation(scene, sessions[0]), f"reflect:{sessions[0]}", alice
    )
    assert "were members when" in reply_text(again)


async def test_past_presentations_stay_as_a_former_members(scene: Scene) -> None:
    sessions = await plan(scene, count=2)
    database = scene.running.database
    presenter_id = await database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (sessions[0],)
    )
    presenter = scene.double.users[int(presenter_id)]
    await at(scene, SESSION_START + timedelta(days=3))
    await delete_my_data(scene, presenter)
    other = next(user for user in scene.members if user is not presenter)
    history = await run(scene, "rota history", other)
    assert "a former member" in history
    assert "former members: 1 in all" in history


async def test_a_reminder_already_on_its_way_does_not_write_the_id_back(scene: Scene) -> None:
    from bot.sessions.store import mark_presenter_reminded

    sessions = await plan(scene, count=2)
    database = scene.running.database
    presenter_id = int(
        await database.scalar("SELECT presenter_id FROM sessions WHERE id = ?", (sessions[0],))
    )
    await delete_my_data(scene, scene.double.users[presenter_id])
    async with database.transaction() as tx:  # what the reminder in flight does after sending
        await mark_presenter_reminded(tx, sessions[0], presenter_id)
    assert (
        await database.scalar(
            "SELECT count(*) FROM sessions WHERE presenter_reminded = ?", (presenter_id,)
        )
        == 0
    )
