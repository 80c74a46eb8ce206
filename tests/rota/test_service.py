"""Planning operations on a real database: regeneration and swaps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.capabilities import RECONCILERS
from bot.groups.rules import Role
from bot.groups.store import create_group, get_group, put_member
from bot.kernel.db import Database
from bot.kernel.errors import Refusal
from bot.rota import store as rota_store
from bot.rota.service import answer_swap, regenerate_rota
from bot.sessions import store as session_store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEADER, ALICE, BOB, CAROL = 10, 11, 12, 13


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "p.db", reconcilers=RECONCILERS)
    await database.migrate()
    yield database
    await database.close()


async def make_group(database: Database, weeks: int = 6) -> tuple[int, list[int]]:
    async with database.transaction() as tx:
        group_id = await create_group(
            tx,
            guild_id=1,
            name="G",
            channel_id=2,
            timezone="Europe/London",
            leader_id=LEADER,
            now=NOW,
        )
        for member in (ALICE, BOB, CAROL):
            await put_member(tx, group_id, member, Role.MEMBER, NOW)
        starts = [NOW + timedelta(days=7 * (week + 1)) for week in range(weeks)]
        ids = await session_store.add_sessions(tx, group_id, starts, timedelta(minutes=90), NOW)
    return group_id, ids


async def presenters(database: Database, group_id: int) -> list[int | None]:
    return [s.presenter_id for s in await session_store.upcoming_sessions(database, group_id, NOW)]


async def test_regeneration_rotates_fairly_and_never_picks_a_leader(database: Database) -> None:
    group_id, _ = await make_group(database)
    group = await get_group(database, group_id)
    assert group is not None
    changes = (await regenerate_rota(database, group, NOW)).changes
    plan = await presenters(database, group_id)
    assert sorted(plan[:3]) == [ALICE, BOB, CAROL]
    assert plan[3:] == plan[:3]
    assert LEADER not in plan
    assert set(changes) == {ALICE, BOB, CAROL}
    assert (await regenerate_rota(database, group, NOW)).changes == {}  # nothing moves twice


async def test_regeneration_keeps_locked_sessions(database: Database) -> None:
    group_id, ids = await make_group(database)
    group = await get_group(database, group_id)
    assert group is not None
    async with database.transaction() as tx:
        await rota_store.set_presenter(tx, ids[0], CAROL, locked=True)
    await regenerate_rota(database, group, NOW)
    plan = await presenters(database, group_id)
    assert plan[0] == CAROL
    assert plan.count(CAROL) == 2  # the locked slot counts towards her share


async def swap_setup(database: Database) -> tuple[int, list[int]]:
    group_id, ids = await make_group(database, weeks=3)
    group = await get_group(database, group_id)
    assert group is not None
    await regenerate_rota(database, group, NOW)
    return group_id, ids


async def test_accepted_swap_exchanges_slots_and_locks_them(database: Database) -> None:
    group_id, ids = await swap_setup(database)
    before = await presenters(database, group_id)
    requester, target = before[0], before[1]
    assert requester is not None
    assert target is not None
    async with database.transaction() as tx:
        swap_id = await rota_store.create_swap(
            tx, ids[0], requester, target, NOW, exchange_session_id=ids[1]
        )
    outcome = await answer_swap(database, swap_id, target, accept=True, now=NOW)
    assert outcome.accepted
    assert outcome.exchanged is not None
    assert outcome.exchanged.id == ids[1]
    after = await presenters(database, group_id)
    assert after[:2] == [target, requester]
    sessions = await session_store.upcoming_sessions(database, group_id, NOW)
    assert sessions[0].presenter_locked
    assert sessions[1].presenter_locked
    with pytest.raises(Refusal, match="already accepted"):
        await answer_swap(database, swap_id, target, accept=True, now=NOW)


async def test_only_the_member_asked_can_answer_and_decline_changes_nothing(
    database: Database,
) -> None:
    group_id, ids = await swap_setup(database)
    before = await presenters(database, group_id)
    requester, target = before[0], before[1]
    assert requester is not None
    assert target is not None
    async with database.transaction() as tx:
        swap_id = await rota_store.create_swap(tx, ids[0], requester, target, NOW)
    with pytest.raises(Refusal, match="Only the member who was asked"):
        await answer_swap(database, swap_id, requester, accept=True, now=NOW)
    declined = await answer_swap(database, swap_id, target, accept=False, now=NOW)
    assert not declined.accepted
    assert await presenters(database, group_id) == before


async def test_swap_expires_when_the_session_starts(database: Database) -> None:
    group_id, ids = await swap_setup(database)
    before = await presenters(database, group_id)
    assert before[0] is not None
    assert before[1] is not None
    async with database.transaction() as tx:
        swap_id = await rota_store.create_swap(tx, ids[0], before[0], before[1], NOW)
    late = NOW + timedelta(days=7, minutes=1)
    with pytest.raises(Refusal, match="expired"):
        await answer_swap(database, swap_id, before[1], accept=True, now=late)
    swap = await rota_store.get_swap(database, swap_id)
    assert swap is not None
    assert swap.state == "expired"
