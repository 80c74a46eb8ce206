"""The user actions on case notes, each one transaction: send a note, flag a case,
withdraw, and the leaders' reading of what is held.

Plain text exists here only on its way into the cipher (sending) or out of it (a
leader's `/case view`); the store and the database only ever see ciphertext, bound to
its group, session and author (`bot.cases.rules.note_context`). Every change watches the
group, so the purge job of the session follows in the same transaction
(`bot.cases.jobs.CaseReconciler`). No refusal, exception or log line here quotes a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cases import store as case_store
from bot.cases.rules import checked_note, note_context, purge_time
from bot.groups import store as group_store
from bot.groups.rules import Group
from bot.kernel.crypto import Cipher, InvalidTag
from bot.kernel.db import Database, Reader
from bot.kernel.errors import Refusal
from bot.sessions import store as session_store
from bot.sessions.store import Session


@dataclass(frozen=True)
class Destination:
    """Where a member's note would go: the group's next session, who reads it, when it
    is deleted, and whether it replaces what the member sent for that session before."""

    group: Group
    session: Session
    leaders: list[int]
    deleted_at: datetime
    replaces: bool


@dataclass(frozen=True)
class CaseSent:
    destination: Destination
    is_flag: bool
    notices: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class HeldNote:
    member_id: int
    is_flag: bool
    text: str | None  # None for a flag, or for a note that cannot be decrypted
    readable: bool
    created_at: datetime


@dataclass(frozen=True)
class HeldSession:
    session: Session
    notes: list[HeldNote]
    deleted_at: datetime


def _deleted_at(group: Group, session: Session, now: datetime) -> datetime:
    if session.cancelled:
        return now
    return purge_time(session.ends_at, timedelta(hours=group.case_retention_h))


async def _destination(
    database: Reader, group: Group, member_id: int, now: datetime
) -> Destination:
    if await group_store.role_of(database, group.id, member_id) is None:
        raise Refusal("Only members of **{group}** can send or flag a case.", group=group.name)
    upcoming = await session_store.upcoming_sessions(database, group.id, now, limit=1)
    if not upcoming:
        raise Refusal(
            "**{group}** has no upcoming session, so there is nothing to send a case for yet.",
            group=group.name,
        )
    return await _destination_for(database, group, upcoming[0], member_id, now)


async def _destination_for(
    database: Reader, group: Group, session: Session, member_id: int, now: datetime
) -> Destination:
    leaders = [e.user_id for e in await group_store.roster(database, group.id) if e.role.leads]
    held = await case_store.case_of(database, session.id, member_id)
    return Destination(group, session, leaders, _deleted_at(group, session, now), held is not None)


async def destination(database: Reader, group: Group, member_id: int, now: datetime) -> Destination:
    """Where the member's note for `group` would go (a refusal if it cannot go there)."""
    return await _destination(database, group, member_id, now)


async def destinations(database: Reader, member_id: int, now: datetime) -> list[Destination]:
    """Each of the member's groups (in every server) that has an upcoming session, the
    soonest session first: where a note written by DM could go."""
    found = []
    for group in await group_store.groups_of_user(database, None, member_id):
        upcoming = await session_store.upcoming_sessions(database, group.id, now, limit=1)
        if upcoming:
            found.append(await _destination_for(database, group, upcoming[0], member_id, now))
    found.sort(key=lambda d: (d.session.starts_at, d.group.id))
    return found


async def send_note(
    database: Database,
    cipher: Cipher,
    *,
    group_id: int,
    session_id: int,
    member_id: int,
    text: str,
    now: datetime,
) -> CaseSent:
    """Keep the member's note for the session, encrypted, replacing what they sent for it
    before (its bytes erased from the disk)."""
    note = checked_note(text)
    # On the disk before the member is told it was sent: they will not write it again.
    async with database.transaction(durable=True) as tx:
        await tx.watch(group_id, now)
        group, session = await _still_upcoming(tx, group_id, session_id, member_id, now)
        where = await _destination_for(tx, group, session, member_id, now)
        sealed = cipher.encrypt(note, note_context(group.id, session.id, member_id))
        await case_store.put_case(tx, session.id, member_id, sealed, now)
        if where.replaces:
            tx.erase_from_disk()
    return CaseSent(where, is_flag=False, notices=tx.notices)


async def _still_upcoming(
    tx: Reader, group_id: int, session_id: int, member_id: int, now: datetime
) -> tuple[Group, Session]:
    """The draft's group and session, if the member may still send there."""
    group = await group_store.get_group(tx, group_id)
    if group is None:
        raise Refusal("That group no longer exists; nothing was kept.")
    if await group_store.role_of(tx, group.id, member_id) is None:
        raise Refusal(
            "You are no longer on the roster of **{group}**; nothing was kept.", group=group.name
        )
    session = await session_store.get_session(tx, session_id)
    if (
        session is None
        or session.group_id != group.id
        or session.cancelled
        or session.starts_at <= now
    ):
        raise Refusal(
            "The session this note was for has started or was cancelled; nothing was kept. "
            "Send it again to have it go to the next session."
        )
    return group, session


async def flag_case(database: Database, group: Group, member_id: int, now: datetime) -> CaseSent:
    """ "I may have a case": a flag, without any content, for the next session."""
    async with database.transaction(durable=True) as tx:
        await tx.watch(group.id, now)
        where = await _destination(tx, group, member_id, now)
        held = await case_store.case_of(tx, where.session.id, member_id)
        if held is not None and held.is_flag:
            raise Refusal("You have already flagged a case for that session; the leaders know.")
        if held is not None:
            raise Refusal(
                "You have already sent the leaders a note for that session, so they know you "
                "have a case. To keep only a flag, withdraw the note first (`/case withdraw`)."
            )
        await case_store.put_case(tx, where.session.id, member_id, None, now)
    return CaseSent(where, is_flag=True, notices=tx.notices)


async def withdraw_case(
    database: Database, group: Group, member_id: int, now: datetime
) -> CaseSent:
    """Delete what the member holds in the group: their note or flag for the next session,
    and for any other session it is still held for (a session moved past another keeps
    its note), erased from the disk."""
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        if await group_store.role_of(tx, group.id, member_id) is None:
            raise Refusal("Only members of **{group}** can send or flag a case.", group=group.name)
        held = await case_store.cases_of_member(tx, group.id, member_id)
        if not held:
            raise Refusal(
                "You have no case note or flag held in **{group}**, so there is nothing "
                "to withdraw.",
                group=group.name,
            )
        for case in held:
            await case_store.delete_case(tx, case.session_id, member_id)
        if any(not case.is_flag for case in held):
            tx.erase_from_disk()
        session = await session_store.get_session(tx, held[0].session_id)
        assert session is not None
        where = await _destination_for(tx, group, session, member_id, now)
    return CaseSent(where, is_flag=all(case.is_flag for case in held), notices=tx.notices)


async def held_cases(
    database: Reader, cipher: Cipher, group: Group, now: datetime
) -> list[HeldSession]:
    """What the group holds: each session with notes or flags (the next one, and any
    still within the retention), decrypted for the leaders. A note that does not
    decrypt (altered, or copied from another row) is shown as unreadable, never as
    garbage."""
    held = []
    for session_id in await case_store.sessions_holding_cases(database, group.id):
        session = await session_store.get_session(database, session_id)
        assert session is not None
        notes = []
        for case in await case_store.cases_of_session(database, session_id):
            notes.append(_opened(cipher, group, case))
        held.append(HeldSession(session, notes, _deleted_at(group, session, now)))
    return held


def _opened(cipher: Cipher, group: Group, case: case_store.StoredCase) -> HeldNote:
    if case.is_flag or case.ciphertext is None:
        return HeldNote(case.member_id, True, None, True, case.created_at)
    try:
        text = cipher.decrypt(
            case.ciphertext, note_context(group.id, case.session_id, case.member_id)
        )
    except (InvalidTag, UnicodeDecodeError, ValueError):
        return HeldNote(case.member_id, False, None, False, case.created_at)
    return HeldNote(case.member_id, False, text, True, case.created_at)
