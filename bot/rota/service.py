"""Planning operations that join storage and the rota rule, each in one transaction.

Cogs call these and then tell the people whose slots changed; nothing here talks to
Discord.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.groups.store import Group, Role, role_of, roster
from bot.kernel.db import Database
from bot.rota import store as rota_store
from bot.rota.rules import (
    Absence,
    Presentation,
    RotaSession,
    SlotChange,
    assign_presenters,
    slot_changes,
)
from bot.rota.rules import next_candidate as rota_next_candidate
from bot.sessions import store as session_store

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
        for record in await rota_store.absences(database, group.id)
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
                await rota_store.set_presenter(
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


@dataclass(frozen=True)
class SwapOutcome:
    """What answering a swap request did; `message` explains it to the person answering."""

    done: bool
    message: str
    session_id: int | None = None
    requester_id: int | None = None
    target_id: int | None = None
    exchanged_session_id: int | None = None


async def answer_swap(
    database: Database, swap_id: int, answerer_id: int, accept: bool, now: datetime
) -> SwapOutcome:
    """Accept or decline a swap request, in one transaction.

    On acceptance the other member takes the slot; if they had an upcoming slot of their
    own in the group, the requester takes the earliest such slot (an exchange). Both
    slots are then locked: they were agreed by the people concerned, and regenerating
    the rota must not undo that.
    """
    async with database.transaction() as connection:
        swap = await rota_store.get_swap(database, swap_id)
        if swap is None:
            return SwapOutcome(False, "This request no longer exists.")
        if swap.target_id != answerer_id:
            return SwapOutcome(False, "Only the member who was asked can answer this request.")
        if swap.state != "pending":
            return SwapOutcome(False, f"This request was already {swap.state}.")
        session = await session_store.get_session(database, swap.session_id)
        if session is None or session.cancelled or session.starts_at <= now:
            await rota_store.decide_swap(connection, swap.id, "expired", now)
            return SwapOutcome(
                False, "This request has expired: the session has started or was cancelled."
            )
        if session.presenter_id != swap.requester_id:
            await rota_store.decide_swap(connection, swap.id, "void", now)
            return SwapOutcome(
                False, "The slot changed hands since this request was made; it no longer applies."
            )
        if await role_of(database, session.group_id, swap.target_id) is not Role.MEMBER:
            # removed from the group, or now leads it: they no longer present
            await rota_store.decide_swap(connection, swap.id, "void", now)
            return SwapOutcome(
                False, "You no longer present in this group, so this request no longer applies."
            )
        base = SwapOutcome(True, "", session.id, swap.requester_id, swap.target_id)
        if not accept:
            await rota_store.decide_swap(connection, swap.id, "declined", now)
            return replace(base, message="You declined the swap.")
        await rota_store.decide_swap(connection, swap.id, "accepted", now)
        own = [
            s
            for s in await session_store.upcoming_sessions(database, session.group_id, now)
            if s.presenter_id == swap.target_id and s.id != session.id
        ]
        await rota_store.set_presenter(connection, session.id, swap.target_id, locked=True)
        exchanged = own[0].id if own else None
        if exchanged is not None:
            await rota_store.set_presenter(connection, exchanged, swap.requester_id, locked=True)
        return replace(base, message="You accepted the swap.", exchanged_session_id=exchanged)
