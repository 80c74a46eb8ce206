"""/session planning end to end: schedule, list, cancel, move, in the group's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sessions.store import upcoming_sessions
from tests.double import User
from tests.e2e.conftest import Scene, reply_text


def stamp(year: int, month: int, day: int, hour: int, minute: int = 0) -> str:
    """The Discord timestamp markup users see for a UTC instant."""
    return f"<t:{int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())}:F>"


async def make_group(scene: Scene, timezone: str = "Europe/London") -> None:
    await scene.create_group(timezone=timezone)


async def planned(scene: Scene) -> list[datetime]:
    bot = scene.running
    group = await bot.database.fetchone("SELECT id FROM groups")
    assert group is not None
    return [
        s.starts_at for s in await upcoming_sessions(bot.database, group["id"], bot.clock.now())
    ]


async def schedule(scene: Scene, user: User, **options: object) -> str:
    values = {"start": "2026-12-01 19:00", "duration": 90, "repeat": "weekly", "count": 4}
    values.update(options)
    return reply_text(await scene.slash("session schedule", user, **values))


async def test_weekly_sessions_keep_local_time_across_the_spring_change(scene: Scene) -> None:
    await make_group(scene)
    scene.clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    text = await schedule(scene, scene.leader, start="2027-03-16 19:00", count=4)
    # 19:00 in London is 19:00 UTC before 28 March 2027 and 18:00 UTC after it.
    assert stamp(2027, 3, 16, 19) in text
    assert stamp(2027, 3, 23, 19) in text
    assert stamp(2027, 3, 30, 18) in text
    assert stamp(2027, 4, 6, 18) in text
    assert "<t:" in text
    assert ":R>" in text  # relative time too, seen in each reader's own zone


async def test_new_york_monthly_sessions_across_the_autumn_change(scene: Scene) -> None:
    await make_group(scene, timezone="America/New_York")
    text = await schedule(scene, scene.leader, start="2026-12-05 18:30", repeat="monthly", count=1)
    assert stamp(2026, 12, 5, 23, 30) in text  # EST = UTC-5
    scene.clock.set(datetime(2027, 10, 1, 12, 0, tzinfo=UTC))
    text = await schedule(
        scene, scene.leader, start="2027-10-15 18:30", repeat="fortnightly", count=3
    )
    assert stamp(2027, 10, 15, 22, 30) in text  # EDT = UTC-4
    assert stamp(2027, 10, 29, 22, 30) in text
    assert stamp(2027, 11, 12, 23, 30) in text  # after 7 November: EST again


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": "2026-11-01 19:00"}, "past"),
        ({"start": "next tuesday"}, "YYYY-MM-DD HH:MM"),
        ({"start": "2027-03-28 01:30"}, "does not exist"),  # London's spring-forward gap
        ({"count": 0}, "count"),
        ({"count": 500}, "count"),
        ({"duration": 10}, "15"),
        ({"duration": 600}, "480"),
        ({"repeat": "once", "count": 3}, "once"),
    ],
)
async def test_bad_schedules_are_refused_and_change_nothing(
    scene: Scene, options: dict[str, object], expected: str
) -> None:
    await make_group(scene)
    interaction = await scene.slash(
        "session schedule",
        scene.leader,
        **{"start": "2026-12-01 19:00", "duration": 90, "repeat": "weekly", "count": 4, **options},
    )
    assert interaction.reply is not None
    assert interaction.reply.ephemeral
    assert expected.lower() in reply_text(interaction).lower()
    assert await planned(scene) == []


async def test_only_leaders_schedule(scene: Scene) -> None:
    await make_group(scene)
    for user in (scene.members[0], scene.outsider):
        interaction = await scene.slash(
            "session schedule", user, start="2026-12-01 19:00", duration=90, repeat="once", count=1
        )
        assert interaction.reply is not None
        assert interaction.reply.ephemeral
        assert "Only the leaders" in reply_text(interaction)
    assert await planned(scene) == []
    # Manage Server rescues a group whose leader left
    await schedule(scene, scene.admin, repeat="once", count=1)
    assert len(await planned(scene)) == 1


async def test_list_shows_presenters_and_rsvp_counts_to_members_only(scene: Scene) -> None:
    await make_group(scene)
    await schedule(scene, scene.leader)
    listing = reply_text(await scene.slash("session list", scene.members[1]))
    assert listing.count("presenter: <@") == 4
    assert listing.count("0 attending, 0 can't make it") == 4
    assert stamp(2026, 12, 1, 19) in listing
    refused = await scene.slash("session list", scene.outsider)
    assert "Only members of **Tuesday group**" in reply_text(refused)
    assert "presenter" not in reply_text(refused)


async def test_session_autocomplete_shows_local_times(scene: Scene) -> None:
    await make_group(scene, timezone="America/New_York")
    await schedule(scene, scene.leader, start="2026-12-01 19:00", count=2)
    choices = await scene.double.autocomplete(
        "session cancel",
        scene.leader,
        focused="session",
        guild=scene.guild,
        channel=scene.home,
        session="",
    )
    assert [c["name"] for c in choices] == [
        "2026-12-01 19:00 (America/New_York)",
        "2026-12-08 19:00 (America/New_York)",
    ]
    outsider_choices = await scene.double.autocomplete(
        "session cancel",
        scene.outsider,
        focused="session",
        guild=scene.guild,
        channel=scene.home,
        session="",
    )
    assert outsider_choices == []


async def first_session_id(scene: Scene) -> int:
    row = await scene.running.database.fetchone(
        "SELECT id, presenter_id FROM sessions ORDER BY starts_at LIMIT 1"
    )
    assert row is not None
    return int(row["id"])


async def test_cancel_announces_without_pings_and_tells_the_presenter(scene: Scene) -> None:
    await make_group(scene)
    await schedule(scene, scene.leader, count=5)
    session_id = await first_session_id(scene)
    presenter_id = await scene.running.database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (session_id,)
    )
    presenter = scene.double.users[presenter_id]
    reply = await scene.slash("session cancel", scene.leader, session=session_id)
    assert "Cancelled" in reply_text(reply)
    assert datetime(2026, 12, 1, 19, 0, tzinfo=UTC) not in await planned(scene)
    assert len(await planned(scene)) == 4
    notice = await scene.double.wait_for_message(
        scene.home, lambda m: "cancelled" in (m.content or "")
    )
    assert notice.allowed_mentions is not None
    assert not notice.allowed_mentions.get("parse")
    told = await scene.double.wait_for_message(
        presenter, lambda m: "no longer present" in (m.content or "")
    )
    assert stamp(2026, 12, 1, 19) in (told.content or "")


async def test_cancel_and_move_refuse_members_and_bad_times(scene: Scene) -> None:
    await make_group(scene)
    await schedule(scene, scene.leader, count=2)
    session_id = await first_session_id(scene)
    refused = await scene.slash("session cancel", scene.members[0], session=session_id)
    assert "Only the leaders" in reply_text(refused)
    past = await scene.slash(
        "session move", scene.leader, session=session_id, start="2026-11-01 19:00"
    )
    assert "past" in reply_text(past).lower()
    unknown = await scene.slash("session cancel", scene.leader, session=999_999)
    assert "can't find that session" in reply_text(unknown)
    assert len(await planned(scene)) == 2


async def test_move_changes_the_time_and_tells_people(scene: Scene) -> None:
    await make_group(scene)
    await schedule(scene, scene.leader, count=2)
    session_id = await first_session_id(scene)
    reply = await scene.slash(
        "session move", scene.leader, session=session_id, start="2026-12-03 18:00"
    )
    assert stamp(2026, 12, 3, 18) in reply_text(reply)
    starts = await planned(scene)
    assert datetime(2026, 12, 3, 18, 0, tzinfo=UTC) in starts
    assert datetime(2026, 12, 1, 19, 0, tzinfo=UTC) not in starts
    await scene.double.wait_for_message(scene.home, lambda m: "moved" in (m.content or ""))


async def test_cancelled_session_cannot_be_cancelled_again(scene: Scene) -> None:
    await make_group(scene)
    await schedule(scene, scene.leader, count=2)
    session_id = await first_session_id(scene)
    await scene.slash("session cancel", scene.leader, session=session_id)
    again = await scene.slash("session cancel", scene.leader, session=session_id)
    assert "was cancelled" in reply_text(again)
