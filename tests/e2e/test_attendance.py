"""Attendance and the leaders' records end to end: /attendance mark (offered from the
Attending answers with its button, or named with `present`), its refusals, editing, the
two leaders' notes exactly once (across a restart), and /leader log read back with the
`csv` module."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.attendance.rules import answers_checked_at
from tests.double import Channel, Interaction, Message, User
from tests.e2e.conftest import Scene, handlers_done, instant_pacer, reply_text

FIRST = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 19:00 in London (GMT)
WEEK = timedelta(weeks=1)
MISSED = "was not at the last two sessions"
FEW = "have answered Attending"
CHECK = answers_checked_at(FIRST)  # the leaders' check of the answers (a day before)


@pytest.fixture(autouse=True)
async def fast(scene: Scene) -> Scene:
    await scene.stop()
    await scene.start(dm_pacer=instant_pacer())
    return scene


async def restart(scene: Scene) -> None:
    await scene.restart(dm_pacer=instant_pacer())
    await scene.settle()
    await handlers_done()


async def plan(
    scene: Scene,
    *,
    name: str = "Tuesday group",
    channel: Channel | None = None,
    count: int = 3,
    **options: object,
) -> list[int]:
    """A group with the four members and `count` weekly sessions from 1 December, 19:00
    London; the sessions' ids, in order."""
    where = channel or scene.home
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
    planned = await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=count,
        in_channel=where,
        **options,
    )
    assert "Planned" in reply_text(planned), reply_text(planned)
    await handlers_done()
    rows = await scene.running.database.fetchall(
        "SELECT s.id FROM sessions s JOIN groups g ON g.id = s.group_id WHERE g.name = ?"
        " ORDER BY s.starts_at",
        (name,),
    )
    return [int(row["id"]) for row in rows]


async def at(scene: Scene, instant: datetime) -> None:
    scene.clock.set(instant)
    await scene.settle()
    await handlers_done()


async def attend(scene: Scene, session_id: int, *users: User) -> None:
    """The members answer Attending on the session's channel reminder."""
    [reminder] = [m for m in scene.home_messages() if f"rsvp:{session_id}:yes" in m.custom_ids()]
    for user in users:
        await scene.double.click(reminder, f"rsvp:{session_id}:yes", user)
    await handlers_done()


async def present_at(scene: Scene, session_id: int) -> list[int] | None:
    database = scene.running.database
    if await database.scalar("SELECT attendance_at FROM sessions WHERE id = ?", (session_id,)):
        rows = await database.fetchall(
            "SELECT user_id FROM attendance WHERE session_id = ? ORDER BY user_id", (session_id,)
        )
        return [row["user_id"] for row in rows]
    return None


async def dump(scene: Scene) -> list[tuple[str, list[tuple[object, ...]]]]:
    database = scene.running.database
    tables = await database.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )
    return [
        (t["name"], [tuple(r) for r in await database.fetchall(f"SELECT * FROM {t['name']}")])
        for t in tables
    ]


def mentions(*users: User) -> str:
    return " ".join(f"<@{user.id}>" for user in users)


def ids(*users: User) -> list[int]:
    return sorted(user.id for user in users)


def notes(scene: Scene, user: User, text: str) -> list[Message]:
    return [m for m in scene.double.dms(user) if text in (m.content or "")]


def in_channels(scene: Scene, text: str) -> list[Message]:
    return [
        m
        for channel in (scene.home, scene.other_channel)
        for m in scene.double.messages(channel)
        if text in (m.content or "")
    ]


async def mark(scene: Scene, user: User, session_id: int, **values: object) -> Interaction:
    marked = await scene.slash("attendance mark", user, session=session_id, **values)
    await scene.settle()  # the notes it queued
    await handlers_done()
    return marked


# -- marking ---------------------------------------------------------------------------------


async def test_mark_offers_who_answered_attending_and_the_button_records_them(
    scene: Scene,
) -> None:
    [first, *_] = await plan(scene)
    alice, bob, carol, _ = scene.members
    await at(scene, FIRST - timedelta(hours=24))  # the channel reminder with its buttons
    await attend(scene, first, alice, bob)
    await at(scene, FIRST + timedelta(minutes=100))
    offered = await mark(scene, scene.leader, first)
    message = offered.reply
    assert message.ephemeral
    assert f"<@{alice.id}>, <@{bob.id}>" in message.content
    assert f"<@{carol.id}>" not in message.content
    assert "Record these as present?" in message.content
    assert message.custom_ids() == [f"attendance:record:{first}"]
    assert await present_at(scene, first) is None  # nothing before the press
    await restart(scene)  # the button outlives the process
    pressed = await scene.double.click(message, f"attendance:record:{first}", scene.leader)
    assert pressed.response is not None
    assert pressed.response.type == 7
    shown = scene.double.messages_by_id[message.id]
    assert "2 present" in shown.content
    assert shown.custom_ids() == []
    assert await present_at(scene, first) == ids(alice, bob)


async def test_mark_with_present_records_exactly_those_and_a_re_mark_replaces(
    scene: Scene,
) -> None:
    [first, *_] = await plan(scene)
    alice, bob, carol, _ = scene.members
    await at(scene, FIRST + timedelta(minutes=5))
    marked = await mark(scene, scene.leader, first, present=f"{mentions(alice, carol)} ")
    assert marked.reply.ephemeral
    text = reply_text(marked)
    assert "2 present" in text
    assert f"<@{alice.id}>" in text
    assert "replaces" not in text
    assert await present_at(scene, first) == ids(alice, carol)
    # editable until the next session starts, whoever of the leaders does it
    await scene.slash("group add", scene.leader, member=bob, role="co-leader")
    await at(scene, FIRST + WEEK - timedelta(minutes=1))
    again = await mark(scene, bob, first, present=f"<@!{bob.id}>,{mentions(alice, scene.leader)}")
    assert "This replaces the earlier record." in reply_text(again)
    assert await present_at(scene, first) == ids(alice, bob, scene.leader)
    await at(scene, FIRST + WEEK)
    late = await mark(scene, scene.leader, first, present=mentions(alice))
    assert "next session has started" in reply_text(late)
    assert await present_at(scene, first) == ids(alice, bob, scene.leader)


async def test_nobody_attending_offers_no_button(scene: Scene) -> None:
    [first, *_] = await plan(scene)
    await at(scene, FIRST + timedelta(minutes=5))
    offered = await mark(scene, scene.leader, first)
    assert "Nobody on the roster answered Attending" in reply_text(offered)
    assert offered.reply.custom_ids() == []


REFUSALS = {
    "a member": ("member", "now", None, "Only the leaders"),
    "an outsider": ("outsider", "now", None, "Only the leaders"),
    "a session not started": ("leader", "second", "alice", "has not started"),
    "someone off the roster": ("leader", "now", "alice olga", "1 of the people you named is not"),
    "a name typed without picking it": ("leader", "now", "@alice", "mentions only"),
    "a cancelled session": ("leader", "cancelled", "alice", "cancelled"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_refusals_are_private_and_change_nothing(scene: Scene, case: str) -> None:
    who, which, present, expected = REFUSALS[case]
    sessions = await plan(scene)
    alice = scene.members[0]
    await scene.slash("session cancel", scene.leader, session=sessions[2])
    await at(scene, FIRST + timedelta(minutes=5))
    await mark(scene, scene.leader, sessions[0], present=mentions(alice))
    users = {"leader": scene.leader, "member": scene.members[1], "outsider": scene.outsider}
    session = {"now": sessions[0], "second": sessions[1], "cancelled": sessions[2]}[which]
    values: dict[str, object] = {}
    if present is not None:
        named = {"alice": f"<@{alice.id}>", "olga": f"<@{scene.outsider.id}>"}
        values["present"] = " ".join(named.get(word, word) for word in present.split())
    before = await dump(scene)
    refused = await mark(scene, users[who], session, **values)
    assert refused.reply.ephemeral
    assert expected in reply_text(refused), reply_text(refused)
    assert await dump(scene) == before
    if case == "someone off the roster":
        assert f"<@{scene.outsider.id}>" in reply_text(refused)


async def test_another_groups_session_is_refused(scene: Scene) -> None:
    [first, *_] = await plan(scene)
    [theirs, *_] = await plan(scene, name="Thursday group", channel=scene.other_channel)
    await at(scene, FIRST + timedelta(minutes=5))
    before = await dump(scene)
    refused = await mark(scene, scene.leader, theirs, present=mentions(scene.members[0]))
    assert "can't find that session in **Tuesday group**" in reply_text(refused)
    assert await dump(scene) == before
    assert first != theirs


async def test_the_session_option_offers_the_started_sessions_to_leaders(scene: Scene) -> None:
    sessions = await plan(scene)
    await at(scene, FIRST + timedelta(minutes=5))
    await mark(scene, scene.leader, sessions[0], present=mentions(scene.members[0]))
    await at(scene, FIRST + WEEK + timedelta(minutes=5))
    choices = await scene.double.autocomplete(
        "attendance mark", scene.leader, focused="session", guild=scene.guild, channel=scene.home
    )
    assert [c["value"] for c in choices] == [sessions[1], sessions[0]]  # most recent first
    assert choices[0]["name"] == "2026-12-08 19:00 (Europe/London)"
    assert choices[1]["name"] == "2026-12-01 19:00 (Europe/London) · recorded"
    for user in (scene.members[0], scene.outsider):
        offered = await scene.double.autocomplete(
            "attendance mark", user, focused="session", guild=scene.guild, channel=scene.home
        )
        assert offered == []


# -- the leaders' notes ------------------------------------------------------------------------


async def test_a_member_missing_two_sessions_is_noted_to_the_leaders_once(scene: Scene) -> None:
    first, second, _ = await plan(scene)
    alice, bob, carol, dave = scene.members
    await scene.slash("group add", scene.leader, member=carol, role="co-leader")
    await at(scene, FIRST + timedelta(minutes=5))
    await mark(scene, scene.leader, first, present=mentions(alice, bob))
    await at(scene, FIRST + WEEK + timedelta(minutes=5))
    await mark(scene, scene.leader, second, present=mentions(alice, carol))
    for leader in (scene.leader, carol):
        [note] = notes(scene, leader, MISSED)
        assert f"<@{dave.id}>" in note.content
        assert f"<t:{int(FIRST.timestamp())}:D>" in note.content
    assert not notes(scene, scene.leader, f"<@{bob.id}> {MISSED}")  # Bob came to the first
    # a re-mark (still without Dave), a restart: still one note
    await mark(scene, scene.leader, second, present=mentions(alice, bob, carol))
    await restart(scene)
    assert len(notes(scene, scene.leader, MISSED)) == 1
    assert not [m for m in scene.double.dms(dave) if MISSED in (m.content or "")]
    assert in_channels(scene, MISSED) == []  # only to the leaders


async def test_a_leader_with_closed_dms_gets_only_a_content_free_mention(scene: Scene) -> None:
    first, second, _ = await plan(scene)
    alice, bob, _, _ = scene.members
    closed = scene.double.add_user("erin", dms_open=False)
    scene.double.add_member(scene.guild, closed)
    await scene.slash("group add", scene.leader, member=closed, role="co-leader")

    def fallbacks() -> list[Message]:
        return [
            m
            for m in scene.home_messages()
            if (m.content or "").startswith(f"<@{closed.id}>, I have a message for you")
        ]

    await at(scene, FIRST + timedelta(minutes=5))
    await mark(scene, scene.leader, first, present=mentions(alice, bob))
    await at(scene, FIRST + WEEK + timedelta(minutes=5))
    before = len(fallbacks())
    await mark(scene, scene.leader, second, present=mentions(alice, bob))
    assert len(notes(scene, scene.leader, MISSED)) == 2  # Carol and Dave
    new = fallbacks()[before:]
    assert len(new) == 2  # where the notes could not go by DM: a mention, nothing more
    assert not any(f"<@{m.id}>" in (n.content or "") for n in new for m in scene.members)
    assert in_channels(scene, MISSED) == []


async def few_answers_setup(scene: Scene) -> int:
    """A group whose channel reminder goes out 48 hours before, so that members can
    answer before the leaders' check a day before."""
    [first, *_] = await plan(scene, count=1)
    await scene.slash("group settings", scene.leader, channel_reminder_hours=48)
    await at(scene, FIRST - timedelta(hours=48))
    return first


async def test_too_few_attending_a_day_before_is_noted_once(scene: Scene) -> None:
    first = await few_answers_setup(scene)
    alice, bob, carol, _ = scene.members
    await scene.slash("group add", scene.leader, member=carol, role="co-leader")
    await attend(scene, first, alice, bob, scene.leader)  # the leader's answer is not counted
    await at(scene, CHECK - timedelta(seconds=1))
    assert notes(scene, scene.leader, FEW) == []
    await at(scene, CHECK)
    for leader in (scene.leader, carol):
        [note] = notes(scene, leader, FEW)
        assert "2 of 3 members have answered Attending" in note.content
        assert "fewer than 3" in note.content
        assert f"<t:{int(FIRST.timestamp())}:F>" in note.content
    await restart(scene)
    await at(scene, CHECK + timedelta(hours=1))
    assert len(notes(scene, scene.leader, FEW)) == 1
    assert in_channels(scene, FEW) == []
    assert all(not notes(scene, member, FEW) for member in (alice, bob))


async def test_enough_answers_send_no_note(scene: Scene) -> None:
    first = await few_answers_setup(scene)
    await attend(scene, first, *scene.members)
    await at(scene, FIRST - timedelta(hours=1))
    assert notes(scene, scene.leader, FEW) == []


async def test_a_check_due_while_the_bot_was_down_is_made_once_at_start(scene: Scene) -> None:
    await few_answers_setup(scene)
    await scene.stop()
    scene.clock.set(CHECK + timedelta(hours=4))
    await scene.start(dm_pacer=instant_pacer())
    await scene.settle()
    await handlers_done()
    [note] = notes(scene, scene.leader, FEW)
    assert "0 of 4 members" in note.content
    await restart(scene)
    assert len(notes(scene, scene.leader, FEW)) == 1


# -- the leaders' log ----------------------------------------------------------------------------


def read_csv(message: Message) -> list[list[str]]:
    [(name, data)] = list(message.files.items())
    assert name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


HEADER = ["date", "group", "role", "minutes", "format", "members present"]


async def test_the_log_covers_every_group_led_with_roles_and_no_formulas(scene: Scene) -> None:
    tuesday = await plan(scene, count=2)
    evil = '=HYPERLINK("x")'
    await plan(scene, name=evil, channel=scene.other_channel, count=1, format="online")
    alice, bob, carol, _ = scene.members
    await scene.slash("group add", scene.leader, member=bob, role="co-leader")
    await at(scene, FIRST + timedelta(minutes=5))
    await mark(scene, scene.leader, tuesday[0], present=mentions(alice, bob, carol, scene.leader))
    await at(scene, FIRST + 3 * WEEK)

    logged = await scene.slash("leader log", scene.leader)
    assert logged.reply.ephemeral
    assert "The 3 sessions you led" in reply_text(logged)
    rows = read_csv(logged.reply)
    assert rows == [
        HEADER,
        ["2026-12-01 19:00", "'" + evil, "leader", "90", "online", ""],
        ["2026-12-01 19:00", "Tuesday group", "leader", "90", "in person", "2"],
        ["2026-12-08 19:00", "Tuesday group", "leader", "90", "in person", ""],
    ]
    mine = read_csv((await scene.slash("leader log", bob)).reply)
    assert [row[1:3] for row in mine[1:]] == [["Tuesday group", "co-leader"]] * 2
    only = read_csv((await scene.slash("leader log", scene.leader, group=evil)).reply)
    assert [row[1] for row in only[1:]] == ["'" + evil]
    by_dm = await scene.double.slash("leader log", scene.leader)  # in a DM with the bot
    assert len(read_csv(by_dm.reply)) == 4


async def test_the_log_is_refused_to_those_who_lead_nothing(scene: Scene) -> None:
    await plan(scene, count=1)
    for user in (scene.members[0], scene.outsider):
        refused = await scene.slash("leader log", user)
        assert "not a leader or co-leader of any group" in reply_text(refused)
        assert not refused.reply.attachments
    named = await scene.slash("leader log", scene.members[0], group="Tuesday group")
    assert "not a leader or co-leader of **Tuesday group**" in reply_text(named)
    empty = await scene.slash("leader log", scene.leader)
    assert "no session yet" in reply_text(empty)


async def test_the_group_meeting_format_is_a_setting(scene: Scene) -> None:
    await plan(scene, count=1)
    assert "Meets: in person" in reply_text(await scene.slash("group show", scene.leader))
    changed = await scene.slash("group settings", scene.leader, meeting_format="online")
    assert "Meets: online" in reply_text(changed)
    assert "Meets: online" in reply_text(await scene.slash("group show", scene.members[0]))
    await at(scene, FIRST + timedelta(minutes=5))
    [_, row] = read_csv((await scene.slash("leader log", scene.leader)).reply)
    assert row[4] == "online"
