"""Planning operations that join storage and the rota rule, each in one transaction.

Cogs call these and then tell the people whose slots changed; nothing here talks to
Discord.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import Database
from bot.domain.rota import (
    Absence,
    Presentation,
    RotaSession,
    SlotChange,
    assign_presenters,
    slot_changes,
)
from bot.domain.rota import next_candidate as rota_next_candidate
from bot.storage import sessions as session_store
from bot.storage.groups import Group, Role, roster

_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class RotaInputs:
    members: list[int]
    sessions: list[RotaSession]
    history: list[Presentation]
    absences: list[Absence]
    declines: dict[int, set[int]]
    current: dict[int, int | None]


async def rota_inputs(database: Database, group: Group, now: datetime) -> RotaInputs:
    """Everything the rota rule needs about a group, read at `now`."""
    members = [
        entry.user_id for entry in await roster(database, group.id) if entry.role is Role.MEMBER
    ]
    upcoming = await session_store.upcoming_sessions(database, group.id, now)
    past = await session_store.past_sessions(database, group.id, now)
    absences = [
        # stored with an exclusive end (the first instant back); the rule's end is inclusive
        Absence(record.user_id, record.starts_at, record.ends_at - _ONE_SECOND)
        for record in await session_store.absences(database, group.id)
    ]
    return RotaInputs(
        members=members,
        sessions=[
            RotaSession(s.id, s.starts_at, s.presenter_id if s.presenter_locked else None)
            for s in upcoming
        ],
        history=[Presentation(s.presenter_id, s.starts_at) for s in past if s.presenter_id],
        absences=absences,
        declines=await session_store.declines(database, group.id),
        current={s.id: s.presenter_id for s in upcoming},
    )


async def regenerate_rota(
    database: Database,
    group: Group,
    now: datetime,
    *,
    extra_old: Mapping[int, int | None] | None = None,
) -> dict[int, SlotChange]:
    """(Re)assign presenters to every upcoming unlocked session; returns, per member, the
    slots gained and lost. `extra_old` adds slots that just disappeared (a cancelled
    session) so their presenters count as having lost them."""
    async with database.transaction() as connection:
        inputs = await rota_inputs(database, group, now)
        plan = assign_presenters(
            members=inputs.members,
            sessions=inputs.sessions,
            history=inputs.history,
            absences=inputs.absences,
            declines=inputs.declines,
            term_start=group.term_start,
        )
        for session in inputs.sessions:
            if session.locked_presenter is None and plan[session.id] != inputs.current[session.id]:
                await session_store.set_presenter(
                    connection, session.id, plan[session.id], locked=False
                )
    old = dict(inputs.current)
    old.update(extra_old or {})
    return slot_changes(old, plan)


async def next_candidate(
    database: Database, group: Group, session_id: int, now: datetime
) -> int | None:
    """Who the rota would ask to stand in at a session if its presenter cannot come."""
    inputs = await rota_inputs(database, group, now)
    session = next((s for s in inputs.sessions if s.id == session_id), None)
    if session is None:
        return None
    return rota_next_candidate(
        session,
        members=inputs.members,
        sessions=inputs.sessions,
        assignments=inputs.current,
        history=inputs.history,
        absences=inputs.absences,
        declines=inputs.declines,
        term_start=group.term_start,
    )
