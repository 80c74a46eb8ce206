"""The user actions on sessions, each one transaction: plan a series, cancel or move one
session, answer an RSVP. Planning, cancelling and moving watch the group, so its rota and
reminders follow in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.groups import audit
from bot.groups import store as group_store
from bot.groups.rules import Group, MeetingFormat
from bot.kernel import zones
from bot.kernel.db import Database, Reader
from bot.kernel.errors import Refusal
from bot.sessions import store as session_store
from bot.sessions.recurrence import (
    MAX_COUNT,
    MIN_COUNT,
    Repeat,
    ensure_start_in_future,
    parse_local_start,
    plan_series,
    validate_duration,
)
from bot.sessions.store import Session


@dataclass(frozen=True)
class Planned:
    starts: list[datetime]
    notices: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class Cancelled:
    session: Session  # as it was before the cancellation
    notices: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class Moved:
    session: Session  # as it was before the move
    new_start: datetime
    notices: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class Answered:
    """An RSVP recorded: the counts now, and the member's previous answer (None: none)."""

    group: Group
    session: Session
    previous: bool | None
    attending: int
    absent: int
    notices: list[object] = field(default_factory=list)
    was_presenter: bool = False


async def upcoming_session_of(
    database: Reader, session_id: int, group: Group, now: datetime
) -> Session:
    """The group's session a command names, if it can still be changed."""
    session = await session_store.get_session(database, session_id)
    if session is None or session.group_id != group.id:
        raise Refusal("I can't find that session in this group; pick one from the list.")
    if session.cancelled:
        raise Refusal("That session was cancelled.")
    if session.starts_at <= now:
        raise Refusal("That session has already started.")
    return session


async def plan_sessions(
    database: Database,
    group: Group,
    *,
    start: str,
    duration: int,
    repeat: str,
    count: int,
    actor_id: int,
    now: datetime,
    meeting_format: MeetingFormat | None = None,
) -> Planned:
    """Plan `count` sessions from the local `start`, repeating in the group's zone;
    `meeting_format` overrides the group's (online or in person) for this series."""
    zone = zones.zone(group.timezone)
    if not MIN_COUNT <= count <= MAX_COUNT:
        raise Refusal(f"`count` must be from {MIN_COUNT} to {MAX_COUNT}, not {count}.")
    length = validate_duration(duration)
    first = parse_local_start(start, zone)
    ensure_start_in_future(first, now)
    starts = plan_series(first, zone, Repeat(repeat), count)
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        chosen = None if meeting_format is None else meeting_format.value
        await session_store.add_sessions(tx, group.id, starts, length, now, chosen)
        detail = f"{count} x {repeat} from {start} ({group.timezone}), {duration} min"
        if meeting_format is not None:
            detail += f", {meeting_format}"
        await audit.record_change(tx, group, actor_id, "session schedule", detail, now)
    return Planned(starts, tx.notices)


async def cancel_session(
    database: Database, group: Group, session_id: int, actor_id: int, now: datetime
) -> Cancelled:
    async with database.transaction() as tx:
        session = await upcoming_session_of(tx, session_id, group, now)
        await tx.watch(group.id, now)
        await session_store.cancel_session(tx, session.id)
        await audit.record_change(
            tx,
            group,
            actor_id,
            "session cancel",
            f"session {session.id} at {session.starts_at.isoformat()}",
            now,
        )
    return Cancelled(session, tx.notices)


async def move_session(
    database: Database, group: Group, session_id: int, start: str, actor_id: int, now: datetime
) -> Moved:
    """Move a session to the local `start`. Its RSVPs are cleared (an answer for the old
    time says nothing about the new one)."""
    new_start = parse_local_start(start, zones.zone(group.timezone))
    ensure_start_in_future(new_start, now)
    async with database.transaction() as tx:
        session = await upcoming_session_of(tx, session_id, group, now)
        if session.starts_at == new_start:
            raise Refusal("That session is already at that time; nothing was changed.")
        await tx.watch(group.id, now)
        await session_store.move_session(tx, session.id, new_start)
        await audit.record_change(
            tx,
            group,
            actor_id,
            "session move",
            f"session {session.id} to {new_start.isoformat()}",
            now,
        )
    return Moved(session, new_start, tx.notices)


async def answer_rsvp(
    database: Database, session_id: int, user_id: int, *, attending: bool, now: datetime
) -> Answered:
    """Record a member's answer for a session that has not started. A presenter who
    can't make it hands their slot on (the rota follows in the same transaction).

    Pressed many times a minute when a reminder goes out: the answer is decided on one
    statement inside the transaction (`rsvp_state`); the group, whose rows a session
    never leaves, is read before it (usually remembered)."""
    known = await session_store.get_session(database, session_id)
    group = None if known is None else await group_store.get_group(database, known.group_id)
    async with database.transaction() as tx:
        state = await session_store.rsvp_state(tx, session_id, user_id)
        session = None if state is None else state.session
        if state is None or session is None or group is None or session.cancelled:
            raise Refusal("This session was cancelled.")
        if state.role is None:
            raise Refusal("Only members of **{group}** can answer.", group=group.name)
        if session.starts_at <= now:
            raise Refusal("This session has started; answers are closed.")
        hands_on = not attending and session.presenter_id == user_id
        if hands_on:
            await tx.watch(group.id, now)  # the slot is handed on (below: read afresh)
        if state.previous != attending:
            await session_store.write_rsvp(tx, session.id, user_id, attending=attending)
    previous = state.previous
    yes = state.attending - (previous is True) + attending
    no = state.absent - (previous is False) + (not attending)
    # as the answer left it (a presenter who can't make it has handed the slot on)
    fresh = await session_store.get_session(database, session.id) if hands_on else None
    return Answered(
        group, fresh or session, previous, yes, no, tx.notices, session.presenter_id == user_id
    )
