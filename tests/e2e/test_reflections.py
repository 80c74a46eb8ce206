"""Anonymous reflections end to end: the invitation at the session's end, writing through
the button, the form and /reflect, own edits, the release (or not) at the window's close,
the leaders' commands, and that nothing links a reflection to its author."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.kernel.crypto import Cipher
from bot.reflections.rules import secret_context
from tests.double import Interaction, Message, User
from tests.e2e.conftest import TEST_KEY, Scene, handlers_done, reply_text
from tests.groups.test_one_transaction import dump

SESSION_START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
SESSION_END = SESSION_START + timedelta(minutes=90)
CLOSE = SESSION_END + timedelta(hours=48)
TEXTS = {
    "alice": "Zephyrine noticed how the hawthorn silence in the room belonged to the doctor.",
    "bob": "Quentinar felt the group leaned away when the presenter mentioned the daughter.",
    "carol": "Brambleworth: I kept thinking of my own father during the long pause.",
    "dave": "Orchidwhistle, the presenter's anger seemed borrowed from the patient.",
}


async def plan(scene: Scene) -> int:
    await scene.create_group()
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="once",
        count=1,
    )
    await handlers_done()
    session_id = await scene.running.database.scalar("SELECT id FROM sessions")
    assert session_id is not None
    return int(session_id)


async def advance(scene: Scene, instant: datetime) -> None:
    scene.clock.set(instant)
    await scene.settle()
    await handlers_done()


def invitation(scene: Scene, session_id: int) -> Message:
    found = [m for m in scene.home_messages() if f"reflect:{session_id}" in m.custom_ids()]
    assert len(found) == 1, [m.content for m in scene.home_messages()]
    return found[0]


def member(scene: Scene, name: str) -> User:
    return next(user for user in scene.members if user.name == name)


async def write(
    scene: Scene, user: User, session_id: int, text: str, rating: str = ""
) -> Interaction:
    opened = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", user)
    assert opened.response is not None
    assert opened.response.type == 9, reply_text(opened)
    return await scene.double.submit_modal(opened, user, {"text": text, "rating": rating})


async def stored(scene: Scene) -> int:
    return int(await scene.running.database.scalar("SELECT count(*) FROM reflections"))


def disk_bytes(scene: Scene) -> bytes:
    path = scene.settings.database_path
    parts = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def leaked(blob: bytes, text: str, baseline: bytes = b"") -> list[bytes]:
    """The 8-byte pieces of `text` in `blob` that were not there before (`baseline`: the
    same files before anyone wrote; the schema itself says "presenter")."""
    encoded = text.encode()
    pieces = {encoded[i : i + 8] for i in range(len(encoded) - 7)}
    return sorted(piece for piece in pieces if piece in blob and piece not in baseline)


async def test_the_end_of_a_session_invites_the_members(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END - timedelta(seconds=1))
    assert not [m for m in scene.home_messages() if f"reflect:{session_id}" in m.custom_ids()]
    await advance(scene, SESSION_END)
    posted = invitation(scene, session_id)
    assert "anonymous reflection" in posted.content
    assert f"<t:{int(CLOSE.timestamp())}:F>" in posted.content
    for user in scene.members:
        [prompt] = [m for m in scene.double.dms(user) if f"reflect:{session_id}" in m.custom_ids()]
        assert "/reflect" in prompt.content
    assert not [m for m in scene.double.dms(scene.leader) if m.custom_ids()]
    await scene.restart()
    await advance(scene, SESSION_END + timedelta(hours=1))
    invitation(scene, session_id)  # still exactly one


async def test_four_reflections_are_released_to_the_leaders_in_one_batch(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    ratings = {"alice": "5", "bob": "4", "carol": "", "dave": "2"}
    for name, text in TEXTS.items():
        if name == "dave":
            opened = await scene.slash("reflect", member(scene, name))
            submitted = await scene.double.submit_modal(
                opened, member(scene, name), {"text": text, "rating": ratings[name]}
            )
        else:
            submitted = await write(scene, member(scene, name), session_id, text, ratings[name])
        assert submitted.reply.ephemeral
        assert "Thank you" in reply_text(submitted)
    assert await stored(scene) == 4
    await advance(scene, CLOSE - timedelta(seconds=1))
    assert not [m for m in scene.double.dms(scene.leader) if "anonymous reflection(s)" in m.content]
    await advance(scene, CLOSE)
    [batch] = [m for m in scene.double.dms(scene.leader) if "anonymous reflection(s)" in m.content]
    assert "4 anonymous reflection(s)" in batch.content
    assert "mean usefulness 3.7 out of 5, from 3 rating(s)" in batch.content
    for text in TEXTS.values():
        assert text in batch.content.replace("\\", "")
    numbers = [int(n) for n in re.findall(r"^\*\*(\d+)\.\*\*$", batch.content, re.M)]
    assert numbers == [1, 2, 3, 4]
    assert not [m for m in scene.home_messages() if "Zephyrine" in m.content]
    choices = await scene.double.autocomplete(
        "reflections show", scene.leader, guild=scene.guild, channel=scene.home, focused="session"
    )
    assert [c["value"] for c in choices] == [session_id]
    shown = await scene.slash("reflections show", scene.leader, session=session_id)
    assert shown.reply.ephemeral
    assert "Quentinar" in reply_text(shown)
    hidden = await scene.slash("reflections hide", scene.leader, number=2)
    assert "Hidden" in reply_text(hidden)
    again = reply_text(await scene.slash("reflections show", scene.leader))
    assert "1 hidden" in again
    assert "**2.**" not in again


async def test_the_batch_goes_to_the_home_channel_when_the_group_says_so(scene: Scene) -> None:
    session_id = await plan(scene)
    await scene.slash("group settings", scene.leader, reflection_release="channel")
    await advance(scene, SESSION_END)
    for name, text in TEXTS.items():
        await write(scene, member(scene, name), session_id, text)
    await advance(scene, CLOSE)
    [batch] = [m for m in scene.home_messages() if "anonymous reflection(s)" in m.content]
    assert "Brambleworth" in batch.content


async def test_below_the_threshold_only_the_count_and_the_texts_are_gone(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    baseline = disk_bytes(scene)
    for name in ("alice", "bob", "carol"):
        await write(scene, member(scene, name), session_id, TEXTS[name])
    await advance(scene, CLOSE)
    [notice] = [m for m in scene.double.dms(scene.leader) if "deleted unread" in m.content]
    assert "3 reflection(s) came in" in notice.content
    assert "fewer than the 4 needed" in notice.content
    assert await stored(scene) == 0
    every_text = [m.content for m in scene.double.messages_by_id.values()]
    for name in ("alice", "bob", "carol"):
        assert not [t for t in every_text if TEXTS[name][:12] in t]
        assert leaked(disk_bytes(scene), TEXTS[name], baseline) == []
    refused = await scene.slash("reflections show", scene.leader)
    assert "no released reflections" in reply_text(refused)


@pytest.mark.parametrize("who", ["leader", "outsider"])
async def test_only_members_write(scene: Scene, who: str) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    user = scene.leader if who == "leader" else scene.outsider
    refused = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", user)
    assert refused.reply.ephemeral
    expected = "leaders do not write them" if who == "leader" else "were members when"
    assert expected in reply_text(refused)
    assert await stored(scene) == 0


async def test_the_window_closes_for_writing(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    await advance(scene, CLOSE)
    refused = await scene.double.click(
        invitation(scene, session_id), f"reflect:{session_id}", scene.members[0]
    )
    assert "closed" in reply_text(refused)
    assert "No reflection window is open" in reply_text(
        await scene.slash("reflect", scene.members[0])
    )


async def test_text_and_rating_are_checked(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    bad = await write(scene, scene.members[0], session_id, "Fine.", rating="7")
    assert "from 1 (not useful) to 5" in reply_text(bad)
    assert await stored(scene) == 0


async def test_a_member_sees_edits_and_deletes_their_own(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    alice = scene.members[0]
    await write(scene, alice, session_id, TEXTS["alice"], "3")
    again = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", alice)
    assert "Zephyrine" in reply_text(again)
    assert "3 out of 5" in reply_text(again)
    own = again.reply
    editing = await scene.double.click(own, f"reflect:edit:{session_id}", alice)
    assert editing.response is not None
    assert editing.response.type == 9
    edited = await scene.double.submit_modal(editing, alice, {"text": "Changed my mind."})
    assert "Replaced" in reply_text(edited)
    assert await stored(scene) == 1
    shown = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", alice)
    assert "Changed my mind." in reply_text(shown)
    assert "Zephyrine" not in reply_text(shown)
    await scene.double.click(shown.reply, f"reflect:delete:{session_id}", alice)
    assert await stored(scene) == 0


async def test_a_second_form_replaces_only_after_confirmation(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    bob = scene.members[1]
    first = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", bob)
    second = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", bob)
    await scene.double.submit_modal(first, bob, {"text": "First thoughts."})
    asked = await scene.double.submit_modal(second, bob, {"text": "Second thoughts."})
    assert "Replace it" in reply_text(asked)
    [replace] = [c for c in asked.reply.custom_ids() if c.startswith("reflect:replace:")]
    await scene.double.click(asked.reply, replace, bob)
    assert await stored(scene) == 1
    own = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", bob)
    assert "Second thoughts." in reply_text(own)


async def test_a_restart_across_the_close_releases_exactly_once(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    for name, text in TEXTS.items():
        await write(scene, member(scene, name), session_id, text)
    await scene.stop()
    scene.clock.set(CLOSE + timedelta(hours=3))
    await scene.start()
    await advance(scene, CLOSE + timedelta(hours=3))
    await scene.restart()
    await advance(scene, CLOSE + timedelta(hours=4))
    batches = [m for m in scene.double.dms(scene.leader) if "anonymous reflection(s)" in m.content]
    assert len(batches) == 1


async def test_nothing_links_a_reflection_to_its_author(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    """While reflections come in, nothing but the reflections table changes. After the
    close: no row the reflections wrote names a member; no value anywhere is an id of the
    flow's interactions or messages, or a time within a minute of a submission; the
    secret and the tags are gone from the disk; and the log (every library at DEBUG)
    holds no text and no member id from the writing on."""
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    caplog.clear()
    baseline = disk_bytes(scene)
    for name in ("", "discord", "bot", "cogs", "aiosqlite", "apscheduler", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    database = scene.running.database
    ids: set[int] = {m.id for m in scene.double.messages_by_id.values() if m.custom_ids()}
    times: list[datetime] = []
    before = dict(await dump(database))
    for offset, (name, text) in zip((73, 161, 305, 479), TEXTS.items(), strict=True):
        scene.clock.set(SESSION_END + timedelta(minutes=offset, seconds=17))
        times.append(scene.clock.now())
        written = await write(scene, member(scene, name), session_id, text, "4")
        ids |= {written.id, written.reply.id}
    after = dict(await dump(database))
    assert [name for name in after if after[name] != before[name]] == ["reflections"]
    sealed = await database.scalar(
        "SELECT secret FROM reflection_windows WHERE session_id = ?", (session_id,)
    )
    group_id = await database.scalar("SELECT group_id FROM sessions WHERE id = ?", (session_id,))
    secret = bytes.fromhex(Cipher(TEST_KEY).decrypt(sealed, secret_context(group_id, session_id)))
    tags = [row[0] for row in await database.fetchall("SELECT author_tag FROM reflections")]
    assert len(tags) == 4
    assert all(tag in disk_bytes(scene) for tag in tags)  # so their absence later means something
    await advance(scene, CLOSE)
    assert await stored(scene) == 4

    members = {user.id for user in scene.members}  # the possible authors
    reflection_jobs = {
        row["id"]
        for row in await database.fetchall("SELECT id FROM jobs WHERE kind LIKE 'reflections.%'")
    }
    assert len(reflection_jobs) == 3  # open, close, release
    tables = [
        row[0]
        for row in await database.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    seen_values = 0
    for table in tables:
        for row in await database.fetchall(f"SELECT * FROM {table}"):
            written_by_reflections = table in ("reflections", "reflection_windows") or (
                (table == "jobs" and row["id"] in reflection_jobs)
                or (table == "job_recipients" and row["job_id"] in reflection_jobs)
            )
            for column in row.keys():  # noqa: SIM118  (sqlite3.Row)
                value = row[column]
                seen_values += 1
                text = value.hex() if isinstance(value, bytes) else str(value)
                if written_by_reflections:
                    assert not any(str(m) in text for m in members), (table, column, value)
                assert not any(str(i) in text for i in ids), (table, column)
                if isinstance(value, int) and not isinstance(value, bool):
                    near = [t for t in times if abs(value - t.timestamp()) <= 60]
                    assert not near, (table, column, value)
    assert seen_values > 100
    assert (
        await database.scalar("SELECT count(*) FROM reflections WHERE author_tag IS NOT NULL") == 0
    )
    on_disk = disk_bytes(scene)
    assert secret not in on_disk
    assert sealed not in on_disk
    assert not [tag for tag in tags if tag in on_disk]
    for text in TEXTS.values():
        assert leaked(on_disk, text, baseline) == []  # encrypted at rest
        assert leaked(caplog.text.encode(), text) == []
    assert not [
        record.getMessage()
        for record in caplog.records
        if any(str(m) in record.getMessage() for m in (*members, scene.leader.id))
    ]


async def test_forms_open_at_once_and_across_a_restart_all_arrive(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    message = invitation(scene, session_id)
    opened = {
        name: await scene.double.click(message, f"reflect:{session_id}", member(scene, name))
        for name in TEXTS
    }
    await scene.restart()
    for name, form in opened.items():
        done = await scene.double.submit_modal(form, member(scene, name), {"text": TEXTS[name]})
        assert "Thank you" in reply_text(done)
    assert await stored(scene) == 4


async def test_a_copy_taken_during_the_window_matches_nothing_after_the_close(
    scene: Scene,
) -> None:
    """Re-keyed and re-encrypted at the close, every payload the same size: a backup made
    mid-window cannot tell which released reflections had come in by then."""
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    database = scene.running.database
    for name in ("alice", "bob"):
        await write(scene, member(scene, name), session_id, TEXTS[name], "5")
    early = await database.fetchall("SELECT key, ciphertext FROM reflections")
    for name in ("carol", "dave"):
        await write(scene, member(scene, name), session_id, TEXTS[name][:20], "")
    lengths = {len(row[0]) for row in await database.fetchall("SELECT ciphertext FROM reflections")}
    assert len(lengths) == 1  # neither the length of a text nor a rating shows
    await advance(scene, CLOSE)
    on_disk = disk_bytes(scene)
    released = await database.fetchall("SELECT key, ciphertext FROM reflections")
    assert len(released) == 4
    for key, sealed in early:
        assert key not in on_disk
        assert sealed[:32] not in on_disk
    assert {bytes(row[0]) for row in released}.isdisjoint({bytes(row[0]) for row in early})
    assert await database.scalar("PRAGMA freelist_count") == 0  # the file was rebuilt


async def test_only_the_members_at_the_sessions_end_write(scene: Scene) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    await scene.slash("group add", scene.leader, member=scene.outsider)
    await handlers_done()
    late = await scene.double.click(
        invitation(scene, session_id), f"reflect:{session_id}", scene.outsider
    )
    assert "were members when the session ended" in reply_text(late)
    alice = member(scene, "alice")
    await write(scene, alice, session_id, TEXTS["alice"])
    await scene.slash("group remove", scene.leader, member=alice)
    await handlers_done()
    own = await scene.double.click(invitation(scene, session_id), f"reflect:{session_id}", alice)
    assert "Zephyrine" in reply_text(own)  # still theirs to change or delete
    await scene.double.click(own.reply, f"reflect:delete:{session_id}", alice)
    assert await stored(scene) == 0


async def test_a_window_missed_while_the_bot_was_down_tells_nobody(scene: Scene) -> None:
    await plan(scene)
    await scene.stop()
    scene.clock.set(CLOSE + timedelta(hours=1))
    await scene.start()
    await advance(scene, CLOSE + timedelta(hours=1))
    assert not [m for m in scene.double.dms(scene.leader) if "reflection" in m.content]
    assert not [m for m in scene.home_messages() if "reflection" in m.content]


async def test_another_groups_session_and_an_unknown_one_get_the_same_answer(
    scene: Scene,
) -> None:
    session_id = await plan(scene)
    await advance(scene, SESSION_END)
    for name, text in TEXTS.items():
        await write(scene, member(scene, name), session_id, text)
    await advance(scene, CLOSE)
    await scene.slash(
        "group create",
        scene.admin,
        name="Thursday group",
        channel=scene.other_channel,
        timezone="Europe/London",
        leader=scene.members[0],
    )
    lead = scene.members[0]
    theirs = await scene.slash("reflections show", lead, group="Thursday group", session=session_id)
    unknown = await scene.slash("reflections show", lead, group="Thursday group", session=999)
    assert reply_text(theirs) == reply_text(unknown)
    assert "Zephyrine" not in reply_text(theirs)


async def test_the_members_are_told_where_the_batch_goes(scene: Scene) -> None:
    session_id = await plan(scene)
    await scene.slash("group settings", scene.leader, reflection_release="channel")
    await advance(scene, SESSION_END)
    done = await write(scene, member(scene, "alice"), session_id, TEXTS["alice"])
    assert "posted together in the group's channel" in reply_text(done)
    await scene.slash("group settings", scene.leader, reflection_release="leaders")
    for name in ("bob", "carol", "dave"):
        await write(scene, member(scene, name), session_id, TEXTS[name])
    await advance(scene, CLOSE)  # fixed when the window opened: the channel, as promised
    assert [m for m in scene.home_messages() if "anonymous reflection(s)" in m.content]
