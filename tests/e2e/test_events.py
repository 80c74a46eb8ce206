"""Optional per group: sessions mirrored as Discord Scheduled Events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from tests.double import Permission
from tests.e2e.conftest import Scene, reply_text

CANCELED = 4  # Discord's GuildScheduledEventStatus


async def group_with_events(scene: Scene) -> None:
    await scene.create_group()
    shown = await scene.slash("group settings", scene.leader, scheduled_events=True)
    assert "Sessions shown in the server's Events: yes" in reply_text(shown)


def events(scene: Scene) -> list[dict[str, object]]:
    return sorted(
        scene.double.guilds[scene.guild.id].scheduled_events.values(),
        key=lambda event: str(event["scheduled_start_time"]),
    )


async def wait_for_events(scene: Scene, check: Callable[[list[dict[str, object]]], bool]) -> None:
    """The mirror runs after the reply; wait (bounded) until the events look as expected."""
    for _ in range(250):
        if check(events(scene)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"scheduled events never matched: {events(scene)}")


def instant(value: object) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(UTC)


async def session_ids(scene: Scene) -> list[int]:
    rows = await scene.running.database.fetchall("SELECT id FROM sessions ORDER BY starts_at")
    return [int(row["id"]) for row in rows]


async def test_sessions_are_created_moved_and_cancelled_as_events(scene: Scene) -> None:
    await group_with_events(scene)
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=2,
    )
    await wait_for_events(scene, lambda found: len(found) == 2)
    created = events(scene)
    assert [instant(e["scheduled_start_time"]) for e in created] == [
        datetime(2026, 12, 1, 19, 0, tzinfo=UTC),
        datetime(2026, 12, 8, 19, 0, tzinfo=UTC),
    ]
    assert instant(created[0]["scheduled_end_time"]) == datetime(2026, 12, 1, 20, 30, tzinfo=UTC)
    assert created[0]["name"] == "Balint group: Tuesday group"
    assert created[0]["entity_metadata"] == {"location": "#balint-tuesday"}

    first, second = await session_ids(scene)
    await scene.slash("session move", scene.leader, session=first, start="2026-12-02 18:00")
    await wait_for_events(scene, lambda found: instant(found[0]["scheduled_start_time"]).day == 2)
    assert instant(events(scene)[0]["scheduled_start_time"]) == datetime(
        2026, 12, 2, 18, 0, tzinfo=UTC
    )
    assert len(events(scene)) == 2  # moved, not duplicated

    await scene.slash("session cancel", scene.leader, session=second)
    await wait_for_events(scene, lambda found: any(e["status"] == CANCELED for e in found))
    statuses = {int(str(e["id"])): e["status"] for e in events(scene)}
    assert sorted(statuses.values()) == [1, CANCELED]  # scheduled, canceled


async def test_groups_without_the_setting_create_no_events(scene: Scene) -> None:
    await scene.slash(
        "group create",
        scene.admin,
        name="Quiet",
        channel=scene.home,
        timezone="Europe/London",
        leader=scene.leader,
    )
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=2,
    )
    assert events(scene) == []


async def test_missing_manage_events_is_explained_and_planning_stands(scene: Scene) -> None:
    bot_role = next(r for r in scene.double.guilds[scene.guild.id].roles if r.managed)
    bot_role.permissions &= ~int(Permission.MANAGE_EVENTS | Permission.CREATE_EVENTS)
    await group_with_events(scene)
    planned = await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="once",
        count=1,
    )
    note = await planned.wait_followup(1)
    assert "Manage Events" in (note.content or "")
    assert note.ephemeral
    assert planned.response is not None
    assert planned.response.message is not None
    assert "Planned 1 session" in (planned.response.message.content or "")
    assert len(await session_ids(scene)) == 1
    assert events(scene) == []
    scene.double.take_errors("MANAGE_EVENTS")
