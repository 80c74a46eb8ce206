"""The user actions on attendance, each one transaction: record who was present (named,
or the members who answered Attending), and the leaders' log.

Recording checks, in the same transaction, which members have now missed two sessions
in a row, and queues one leaders' note per session and member on the scheduler's
exactly-once path (`bot.attendance.jobs`): a later re-mark of the session queues the
same key, which the scheduler never runs twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.attendance import store as attendance_store
from bot.attendance.jobs import MISSED_KIND
from bot.attendance.log import LedSession
from bot.attendance.rules import (
    MISSED_IN_A_ROW,
    RecordedSession,
    editing_closed,
    missed_in_a_row,
    missed_key,
)
from bot.groups import store as group_store
from bot.groups.rules import Group
from bot.kernel.db import Database, Reader, Transaction
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import JobScheduler, JobSpec
from bot.sessions import store as session_store
from bot.sessions.store import Session


@dataclass(frozen=True)
class Proposal:
    """What `/attendance mark` without `present` offers: the members who answered
    Attending, and what is recorded already (None: nothing yet)."""

    group: Group
    session: Session
    attending: list[int]
    recorded: list[int] | None


@dataclass(frozen=True)
class Recorded:
    group: Group
    session: Session
    present: list[int]
    replaced: bool
    members: int  # how many members (not leaders) the roster has


async def markable_session(
    database: Reader, group: Group, session_id: int, now: datetime
) -> Session:
    """The group's session a leader names, if its attendance can be recorded now."""
    session = await session_store.get_session(database, session_id)
    if session is None or session.group_id != group.id:
        raise Refusal(
            "I can't find that session in **{group}**; pick one from the list.", group=group.name
        )
    if session.cancelled:
        raise Refusal("That session was cancelled, so there is no attendance to record.")
    if session.starts_at > now:
        raise Refusal(
            "That session has not started yet: attendance can be recorded once it has begun."
        )
    following = await attendance_store.next_session_after(database, session)
    if following is not None and editing_closed(following.starts_at, now):
        raise Refusal(
            "The group's next session has started, so the attendance of that one can no "
            "longer be recorded or changed."
        )
    return session


async def propose(database: Reader, group: Group, session_id: int, now: datetime) -> Proposal:
    session = await markable_session(database, group, session_id, now)
    attending = await attendance_store.attending_members(database, session.id, group.id)
    recorded = await attendance_store.present_at(database, session.id)
    return Proposal(group, session, attending, recorded)


async def record_present(
    database: Database, group: Group, session_id: int, present: Sequence[int], now: datetime
) -> Recorded:
    """Record exactly `present` (each on the group's roster) for the session, replacing
    its earlier record."""
    async with database.transaction() as tx:
        session = await markable_session(tx, group, session_id, now)
        on_roster = {entry.user_id for entry in await group_store.roster(tx, group.id)}
        strangers = [user for user in present if user not in on_roster]
        if strangers:
            named = " ".join(f"<@{user}>" for user in strangers)
            count = len(strangers)
            raise Refusal(
                f"{count} of the people you named {'is' if count == 1 else 'are'} not on the "
                f"roster of **{{group}}**: {named}. Nothing was recorded; add them with "
                "`/group add` first, or leave them out.",
                group=group.name,
            )
        return await _record(tx, group, session, present, now)


async def record_attending(
    database: Database, group: Group, session_id: int, now: datetime
) -> Recorded:
    """Record as present the roster members who answered Attending (the button of the
    proposal; the answers are closed once a session starts, so they are what was
    offered)."""
    async with database.transaction() as tx:
        session = await markable_session(tx, group, session_id, now)
        attending = await attendance_store.attending_members(tx, session.id, group.id)
        if not attending:
            raise Refusal(
                "Nobody on the roster answered Attending for that session: name who was "
                "present with the `present` option. Nothing was recorded."
            )
        return await _record(tx, group, session, attending, now)


async def _record(
    tx: Transaction, group: Group, session: Session, present: Sequence[int], now: datetime
) -> Recorded:
    replaced = await attendance_store.put_record(tx, session.id, present, now)
    members = await attendance_store.members_since(tx, group.id)
    latest = await attendance_store.latest_records(tx, group.id, session.starts_at, MISSED_IN_A_ROW)
    for member_id in missed_in_a_row(latest, members):
        await JobScheduler.queue(
            tx,
            JobSpec(
                MISSED_KIND,
                missed_key(group.id, session.id, member_id),
                now,
                payload={"group_id": group.id, "session_id": session.id, "member_id": member_id},
                group_id=group.id,
            ),
        )
    return Recorded(group, session, sorted(present), replaced, len(members))


@dataclass(frozen=True)
class Missed:
    """A member who missed the group's two latest recorded sessions (newest first)."""

    group: Group
    member_id: int
    sessions: list[RecordedSession]


async def still_missed(
    database: Reader, group_id: int, session_id: int, member_id: int
) -> Missed | None:
    """For the leaders' note, at the moment it is sent: the member still missed the two
    latest recorded sessions up to `session_id` (a re-mark may have found them present,
    they may have left the roster), or None."""
    group = await group_store.get_group(database, group_id)
    session = await session_store.get_session(database, session_id)
    if group is None or session is None or session.cancelled:
        return None
    members = await attendance_store.members_since(database, group_id)
    latest = await attendance_store.latest_records(
        database, group_id, session.starts_at, MISSED_IN_A_ROW
    )
    if not latest or latest[0].session_id != session_id:
        return None
    if member_id not in missed_in_a_row(latest, members):
        return None
    return Missed(group, member_id, latest)


async def leader_log(
    database: Reader, user_id: int, group: Group | None, now: datetime
) -> list[LedSession]:
    """The rows of the user's log: every session they led (in `group` only, if given)."""
    if group is not None:
        role = await group_store.role_of(database, group.id, user_id)
        if role is None or not role.leads:
            raise Refusal(
                "You are not a leader or co-leader of **{group}**, so you have no sessions "
                "led there to list.",
                group=group.name,
            )
    elif not await attendance_store.leads_any_group(database, user_id):
        raise Refusal(
            "You are not a leader or co-leader of any group, so there are no sessions led to list."
        )
    return await attendance_store.sessions_led(
        database, user_id, None if group is None else group.id, now
    )
