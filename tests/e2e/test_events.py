"""Optional per group: sessions mirrored as Discord Scheduled Events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.groups.store import get_group
from cogs._common.events import forget_events
from tests.double import Permission
from tests.double.server import Call, Reply
from tests.e2e.conftest import Scene, handlers_done, reply_text

SCHEDULED, COMPLETED, CANCELED = 1, 3, 4  # Discord's GuildScheduledEventStatus
CREATE_EVENT = ("POST", "/guilds/{guild_id}/scheduled-events")
# discord.py runs each slash command in a task of this name; the mirroring happens inside
# it after the reply.


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
    """The mirror runs after the reply; wait (bounded) until the events look as expected,
    and until the bot has recorded them (it records an event after Discord created it)."""
    for _ in range(250):
        if check(events(scene)):
            await handlers_done()
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"scheduled events never matched: {events(scene)}")


def instant(value: object) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(UTC)


async def session_ids(scene: Scene) -> list[int]:
    rows = await scene.running.database.fetchall("SELECT id FROM sessions ORDER BY starts_at")
    return [int(row["id"]) for row in rows]


async def event_ids(scene: Scene) -> list[int | None]:
    """The event on record for each session, in session order."""
    rows = await scene.running.database.fetchall("SELECT event_id FROM sessions ORDER BY starts_at")
    return [None if row["event_id"] is None else int(row["event_id"]) for row in rows]


async def schedule_weekly(scene: Scene, count: int) -> None:
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=count,
    )


class HeldCreations:
    """Discord holds its answer to every event creation until `release()`: a mirror run
    stays half done while the test sends the next command, as a slow Discord would."""

    def __init__(self, scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
        self._create = scene.double.rest.routes[CREATE_EVENT]
        self._released = asyncio.Event()
        self._arrival = asyncio.Condition()
        self.arrived = 0
        monkeypatch.setitem(scene.double.rest.routes, CREATE_EVENT, self._handle)

    async def _handle(self, call: Call) -> Reply:
        async with self._arrival:
            self.arrived += 1
            self._arrival.notify_all()
        await self._released.wait()
        return await self._create(call)

    async def arrivals(self, count: int) -> None:
        """Wait until `count` creations have reached Discord (bound it with a timeout)."""
        async with self._arrival:
            await self._arrival.wait_for(lambda: self.arrived >= count)

    def release(self) -> None:
        self._released.set()


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
    # in start order: the moved first session stays scheduled, the second is cancelled
    assert [e["status"] for e in events(scene)] == [SCHEDULED, CANCELED]


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
    await handlers_done()  # the mirror would run after the reply, inside the handler
    assert len(await session_ids(scene)) == 2
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


async def test_an_event_deleted_by_hand_is_created_again_and_the_rest_still_mirrored(
    scene: Scene,
) -> None:
    await group_with_events(scene)
    await schedule_weekly(scene, 2)
    await wait_for_events(scene, lambda found: len(found) == 2)
    first_event, second_event = await event_ids(scene)
    assert first_event is not None
    del scene.double.guilds[scene.guild.id].scheduled_events[first_event]

    _, second = await session_ids(scene)
    moved = await scene.slash(
        "session move", scene.leader, session=second, start="2026-12-09 18:00"
    )
    await handlers_done()

    assert moved.followups == []  # nothing went wrong that the leader must hear about
    found = events(scene)
    assert [instant(e["scheduled_start_time"]) for e in found] == [
        datetime(2026, 12, 1, 19, 0, tzinfo=UTC),
        datetime(2026, 12, 9, 18, 0, tzinfo=UTC),
    ]
    assert [e["status"] for e in found] == [SCHEDULED, SCHEDULED]
    recreated, kept = await event_ids(scene)
    assert recreated == int(str(found[0]["id"])) != first_event
    assert kept == second_event == int(str(found[1]["id"]))  # moved in place


@pytest.mark.parametrize("status", [COMPLETED, CANCELED])
async def test_an_event_finished_by_hand_is_replaced_when_its_session_moves(
    scene: Scene, status: int
) -> None:
    await group_with_events(scene)
    await schedule_weekly(scene, 1)
    await wait_for_events(scene, lambda found: len(found) == 1)
    (old_event,) = await event_ids(scene)
    assert old_event is not None
    # Ended or cancelled in Discord's own menu; Discord no longer lets anyone edit it.
    scene.double.guilds[scene.guild.id].scheduled_events[old_event]["status"] = status

    (session,) = await session_ids(scene)
    await scene.slash("session move", scene.leader, session=session, start="2026-12-02 18:00")
    await handlers_done()

    live = [e for e in events(scene) if e["status"] == SCHEDULED]
    assert [instant(e["scheduled_start_time"]) for e in live] == [
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    ]
    assert await event_ids(scene) == [int(str(live[0]["id"]))]
    assert scene.double.guilds[scene.guild.id].scheduled_events[old_event]["status"] == status


@pytest.mark.parametrize("follow_up", ["session move", "group settings"])
async def test_a_quick_second_command_does_not_duplicate_events(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, follow_up: str
) -> None:
    await group_with_events(scene)
    held = HeldCreations(scene, monkeypatch)
    await schedule_weekly(scene, 2)
    async with asyncio.timeout(5):
        await held.arrivals(1)  # the first run is creating its first event

    if follow_up == "session move":
        _, second = await session_ids(scene)
        await scene.slash("session move", scene.leader, session=second, start="2026-12-09 18:00")
        second_start = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)
    else:
        await scene.slash("group settings", scene.leader, scheduled_events=True)
        second_start = datetime(2026, 12, 8, 19, 0, tzinfo=UTC)
    # Give a second run the time to reach Discord too (it must wait for the first).
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.3):
            await held.arrivals(2)
    held.release()
    await handlers_done()

    found = events(scene)
    assert [instant(e["scheduled_start_time"]) for e in found] == [
        datetime(2026, 12, 1, 19, 0, tzinfo=UTC),
        second_start,
    ]
    assert await event_ids(scene) == [int(str(e["id"])) for e in found]


async def test_a_session_cancelled_while_events_are_created_gets_no_live_event(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    await group_with_events(scene)
    held = HeldCreations(scene, monkeypatch)
    await schedule_weekly(scene, 2)
    async with asyncio.timeout(5):
        await held.arrivals(1)  # the second session has no event yet

    _, second = await session_ids(scene)
    cancelled = await scene.slash("session cancel", scene.leader, session=second)
    assert "Cancelled" in reply_text(cancelled)
    held.release()
    await handlers_done()

    live = [e for e in events(scene) if e["status"] == SCHEDULED]
    assert [instant(e["scheduled_start_time"]) for e in live] == [
        datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    ]
    assert (await event_ids(scene))[1] is None


async def test_forget_events_cancels_the_scheduled_ones_and_clears_the_record(
    scene: Scene,
) -> None:
    group_id = await scene.create_group()
    shown = await scene.slash("group settings", scene.leader, scheduled_events=True)
    assert "Sessions shown in the server's Events: yes" in reply_text(shown)
    await schedule_weekly(scene, 3)
    await wait_for_events(scene, lambda found: len(found) == 3)
    await handlers_done()
    first, second, third = await event_ids(scene)
    assert None not in (first, second, third)
    del scene.double.guilds[scene.guild.id].scheduled_events[second]  # deleted by hand
    group = await get_group(scene.running.database, group_id)
    assert group is not None

    assert await forget_events(scene.running, group) is None

    remaining = scene.double.guilds[scene.guild.id].scheduled_events
    assert {event_id: remaining[event_id]["status"] for event_id in remaining} == {
        first: CANCELED,
        third: CANCELED,
    }
    assert await event_ids(scene) == [None, None, None]
    requests_before = len(scene.double.requests)
    assert await forget_events(scene.running, group) is None  # nothing left: no request
    assert scene.double.requests[requests_before:] == []


async def test_turning_the_setting_off_cancels_the_events(scene: Scene) -> None:
    await group_with_events(scene)
    await schedule_weekly(scene, 2)
    await handlers_done()
    assert [e["status"] for e in events(scene)] == [1, 1]
    await scene.slash("group settings", scene.leader, scheduled_events=False)
    await handlers_done()
    assert [e["status"] for e in events(scene)] == [CANCELED, CANCELED]
    assert await event_ids(scene) == [None, None]


async def test_deleting_the_group_cancels_its_events(scene: Scene) -> None:
    await group_with_events(scene)
    await schedule_weekly(scene, 2)
    await handlers_done()
    prompt = await scene.slash("group delete", scene.admin, group="Tuesday group")
    assert prompt.reply is not None
    confirm = next(
        c for c in prompt.reply.custom_ids() if "Keep" not in str(prompt.reply.component(c))
    )
    await scene.double.click(prompt.reply, confirm, scene.admin)
    await handlers_done()
    assert [e["status"] for e in events(scene)] == [CANCELED, CANCELED]
    assert await scene.running.database.scalar("SELECT count(*) FROM groups") == 0
    assert (prompt.reply.content or "").startswith("Deleted **Tuesday group**")
