"""The rota's user actions, each one transaction (re-plan, assign, away, swaps), and the
reconciler that keeps every group's rota in line with any change to the group.

The reconciler runs inside the transaction of every change that watches the group (see
`bot.kernel.db`): slots of people who no longer present are handed back, the unlocked
upcoming sessions are re-planned by the fair rule, and the members whose slots moved
come back as a `SlotsChanged` notice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.groups import audit
from bot.groups.rules import Group, Role
from bot.groups.store import get_group, role_of, roster
from bot.kernel import zones
from bot.kernel.db import Database, Reader, Transaction
from bot.kernel.errors import Refusal
from bot.rota import store as rota_store
from bot.rota.rules import (
    Absence,
    Presentation,
    Repair,
    Slot,
    SlotChange,
    repair_presenters,
    replan_presenters,
    slot_changes,
)
from bot.sessions import service as session_service
from bot.sessions import store as session_store
from bot.sessions.recurrence import parse_local_date
from bot.sessions.store import Session

_ONE_SECOND = timedelta(seconds=1)
MAX_ABSENCE_YEARS = 5


@dataclass(frozen=True)
class SlotsChanged:
    """Notice: the sessions of the group whose presenter changed, each as (before, after),
    None for nobody (after is None for a session that was cancelled)."""

    group_id: int
    handovers: Mapping[int, tuple[int | None, int | None]]

    @property
    def changes(self) -> dict[int, SlotChange]:
        """Per member, the slots gained and lost."""
        return slot_changes(
            {session: old for session, (old, _) in self.handovers.items()},
            {session: new for session, (_, new) in self.handovers.items()},
        )


@dataclass(frozen=True)
class RotaChange:
    """What a rota action did: per member, the slots gained and lost; and the notices
    to deliver (those slot changes among them)."""

    changes: Mapping[int, SlotChange]
    notices: list[object] = field(default_factory=list)


def slot_changes_in(notices: list[object], group_id: int) -> dict[int, SlotChange]:
    """The slot changes a transaction's notices hold for the group."""
    found: dict[int, SlotChange] = {}
    for notice in notices:
        if isinstance(notice, SlotsChanged) and notice.group_id == group_id:
            found.update(notice.changes)
    return found


@dataclass(frozen=True)
class RotaInputs:
    members: list[int]
    history: list[Presentation]
    absences: list[Absence]
    declines: dict[int, set[int]]
    slots: list[Slot]
    reminded: set[int]  # sessions whose presenter has had the presenter reminder


async def rota_inputs(database: Reader, group: Group, now: datetime) -> RotaInputs:
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
        history=[Presentation(s.presenter_id, s.starts_at) for s in past if s.presenter_id],
        absences=absences,
        declines=await session_store.declines(database, group.id),
        slots=[Slot(s.id, s.starts_at, s.presenter_id, s.presenter_locked) for s in upcoming],
        reminded={
            s.id
            for s in upcoming
            if s.presenter_id is not None and s.presenter_reminded == s.presenter_id
        },
    )


class RotaReconciler:
    """Keeps a group's rota in line with changes to its roster, sessions and settings."""

    async def snapshot(
        self, tx: Transaction, group_id: int, now: datetime
    ) -> dict[int, int | None]:
        return {
            session.id: session.presenter_id
            for session in await session_store.upcoming_sessions(tx, group_id, now)
        }

    async def reconcile(
        self, tx: Transaction, group_id: int, now: datetime, before: dict[int, int | None]
    ) -> None:
        group = await get_group(tx, group_id)
        if group is None:
            return
        await rota_store.void_swaps_of_cancelled(tx, group_id)
        await apply_rule(tx, group, now, repair_presenters)
        after = {
            session.id: session.presenter_id
            for session in await session_store.upcoming_sessions(tx, group_id, now)
        }
        # `before` has the slots as they were before the change: a cancelled session's
        # presenter, or a removed member, counts as having lost their slots.
        handovers = {
            session: (before.get(session), after.get(session))
            for session in before.keys() | after.keys()
            if before.get(session) != after.get(session)
        }
        if handovers:
            tx.notify(SlotsChanged(group_id, handovers))


async def apply_rule(
    tx: Transaction, group: Group, now: datetime, rule: Callable[..., Repair]
) -> None:
    """Run a rota rule (repair, or re-plan) on the group as it is, and store the result."""
    inputs = await rota_inputs(tx, group, now)
    plan = rule(
        members=inputs.members,
        slots=inputs.slots,
        history=inputs.history,
        absences=inputs.absences,
        declines=inputs.declines,
        term_start=group.term_start,
        keep=inputs.reminded,
    )
    await write_plan(tx, inputs, plan)


async def write_plan(tx: Transaction, inputs: RotaInputs, plan: Repair) -> None:
    """Store the presenters of `plan` that differ from the rota as it is."""
    for slot in inputs.slots:
        presenter = plan.presenters[slot.id]
        unlock = slot.id in plan.unlocked
        if presenter != slot.presenter or unlock:
            await rota_store.set_presenter(
                tx,
                slot.id,
                presenter,
                locked=slot.locked and not unlock and presenter == slot.presenter,
            )


async def regenerate_rota(
    database: Database, group: Group, now: datetime, *, actor_id: int | None = None
) -> RotaChange:
    """(Re)assign presenters to every upcoming unlocked session for fairness (`/rota
    generate`, with the leader who asked as `actor_id`). A session whose presenter has had
    the presenter reminder keeps them while they can present: they may be preparing."""
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        await apply_rule(tx, group, now, replan_presenters)
        if actor_id is not None:
            await audit.record_change(tx, group, actor_id, "rota generate", "", now)
    return RotaChange(slot_changes_in(tx.notices, group.id), tx.notices)


async def assign_presenter(
    database: Database, group: Group, session_id: int, member_id: int, actor_id: int, now: datetime
) -> tuple[Session, RotaChange]:
    """A leader's choice of presenter for one session; the session is then fixed and the
    rest of the rota is re-balanced around it."""
    async with database.transaction() as tx:
        session = await session_service.upcoming_session_of(tx, session_id, group, now)
        role = await role_of(tx, group.id, member_id)
        if role is None:
            raise Refusal(f"<@{member_id}> is not a member of **{{group}}**.", group=group.name)
        if role.leads:
            raise Refusal(
                f"<@{member_id}> is a {role}: leaders and co-leaders facilitate and do not present."
            )
        await tx.watch(group.id, now)
        await rota_store.set_presenter(tx, session.id, member_id, locked=True)
        await audit.record_change(
            tx,
            group,
            actor_id,
            "rota assign",
            f"session {session.id} to {member_id}",
            now,
            subject_id=member_id,
        )
    return session, RotaChange(slot_changes_in(tx.notices, group.id), tx.notices)


async def mark_away(
    database: Database, group: Group, member_id: int, first: str, last: str, now: datetime
) -> RotaChange:
    """The member is away from the local date `first` to `last`, both included; any slot
    of theirs in that time (fixed ones too) is handed on."""
    if await role_of(database, group.id, member_id) is None:
        raise Refusal("You are not on the roster of **{group}**.", group=group.name)
    zone = zones.zone(group.timezone)
    start = parse_local_date(first, zone, "`from`")
    last_start = parse_local_date(last, zone, "`to`")
    if last_start < start:
        raise Refusal("The last day away is before the first; check the dates.")
    last_day = last_start.astimezone(zone).date()
    if last_day.year > start.year + MAX_ABSENCE_YEARS:
        raise Refusal("That absence is more than five years long; check the dates.")
    # Away until the end of the last day: the absence ends at the next local midnight.
    end = parse_local_date((last_day + timedelta(days=1)).isoformat(), zone)
    if end <= now:
        raise Refusal("Those dates are in the past.")
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        await rota_store.add_absence(tx, group.id, member_id, start, end)
        await rota_store.unlock_slots_between(tx, group.id, member_id, max(start, now), end)
    return RotaChange(slot_changes_in(tx.notices, group.id), tx.notices)


@dataclass(frozen=True)
class SwapRequest:
    """A swap request made: and, if the other member accepts, the slot of theirs the
    requester takes in exchange (None: a plain hand-over)."""

    swap_id: int
    group: Group
    session: Session
    exchange: Session | None = None


async def exchange_slot(
    database: Reader,
    group: Group,
    session: Session,
    requester_id: int,
    other_id: int,
    now: datetime,
) -> Session | None:
    """The slot the requester takes if `other_id` takes `session`: the other member's
    earliest upcoming slot on a date the requester is not away and has not answered
    "Can't make it" for. None when there is none: the swap is then a plain hand-over."""
    inputs = await rota_inputs(database, group, now)
    away = [a for a in inputs.absences if a.member_id == requester_id]
    for candidate in await session_store.upcoming_sessions(database, group.id, now):
        if candidate.id == session.id or candidate.presenter_id != other_id:
            continue
        if requester_id in inputs.declines.get(candidate.id, set()):
            continue
        if any(absence.covers(candidate.starts_at) for absence in away):
            continue
        return candidate
    return None


async def request_swap(
    database: Database,
    session_id: int,
    requester_id: int,
    other_id: int,
    now: datetime,
    *,
    other_is_bot: bool = False,
) -> SwapRequest:
    """The presenter of a session asks another member to take it (a bot never is one)."""
    not_found = "I can't find that session; pick one from the list."
    async with database.transaction() as tx:
        found = await session_store.get_session(tx, session_id)
        group = None if found is None else await get_group(tx, found.group_id)
        if group is None or await role_of(tx, group.id, requester_id) is None:
            raise Refusal(not_found)
        session = await session_service.upcoming_session_of(tx, session_id, group, now)
        if session.presenter_id != requester_id:
            raise Refusal("You can only offer a slot where you are the presenter.")
        other_role = None if other_is_bot else await role_of(tx, group.id, other_id)
        if other_role is None:
            raise Refusal(f"<@{other_id}> is not a member of **{{group}}**.", group=group.name)
        if other_id == requester_id:
            raise Refusal("Choose someone other than yourself.")
        if other_role is not Role.MEMBER:
            raise Refusal(f"<@{other_id}> is a {other_role} and does not present.")
        exchange = await exchange_slot(tx, group, session, requester_id, other_id, now)
        swap_id = await rota_store.create_swap(
            tx, session.id, requester_id, other_id, now, None if exchange is None else exchange.id
        )
    return SwapRequest(swap_id, group, session, exchange)


@dataclass(frozen=True)
class SwapAnswered:
    """A swap request answered: the session, who asked, and (on acceptance) the slot of
    the member who answered that the requester takes in exchange."""

    accepted: bool
    group: Group
    session: Session
    requester_id: int
    exchanged: Session | None = None


async def _what_was_offered(
    tx: Transaction, group: Group, session: Session, swap: rota_store.Swap, now: datetime
) -> tuple[Session | None, Refusal | None]:
    """The exchange the request offered, if it still holds, or why the request cannot be
    accepted as it was put: the member asked cannot present then, or the slot offered in
    exchange changed (the request is then void, and can be asked again)."""
    inputs = await rota_inputs(tx, group, now)
    if swap.target_id in inputs.declines.get(session.id, set()) or any(
        a.member_id == swap.target_id and a.covers(session.starts_at) for a in inputs.absences
    ):
        return None, Refusal(
            "You are away on that date, or said you can't make it, so you cannot take it."
        )
    if swap.exchange_session_id is None:
        return None, None
    offered = await exchange_slot(tx, group, session, swap.requester_id, swap.target_id, now)
    if offered is None or offered.id != swap.exchange_session_id:
        await rota_store.decide_swap(tx, swap.id, "void", now)
        return None, Refusal(
            "The slot offered in exchange has changed since this request was made, so it no "
            "longer applies; the member who asked can ask again."
        )
    return offered, None


async def answer_swap(
    database: Database, swap_id: int, answerer_id: int, accept: bool, now: datetime
) -> SwapAnswered:
    """Accept or decline a swap request, in one transaction.

    On acceptance the other member takes the slot; if they have an upcoming slot of their
    own that the requester can take (see `exchange_slot`), the requester takes it (an
    exchange), else it is a plain hand-over. Both
    slots are then locked: they were agreed by the people concerned, and regenerating
    the rota must not undo that. A request that no longer applies is refused, and
    recorded as expired or void.
    """
    refusal: Refusal | None = None
    async with database.transaction() as tx:
        swap = await rota_store.get_swap(tx, swap_id)
        if swap is None:
            raise Refusal("This request no longer exists.")
        if swap.target_id != answerer_id:
            raise Refusal("Only the member who was asked can answer this request.")
        if swap.state != "pending":
            raise Refusal(f"This request was already {swap.state}.")
        session = await session_store.get_session(tx, swap.session_id)
        group = None if session is None else await get_group(tx, session.group_id)
        if session is None or group is None or session.cancelled or session.starts_at <= now:
            await rota_store.decide_swap(tx, swap.id, "expired", now)
            refusal = Refusal("This request has expired: the session has started or was cancelled.")
        elif session.presenter_id != swap.requester_id:
            await rota_store.decide_swap(tx, swap.id, "void", now)
            refusal = Refusal(
                "The slot changed hands since this request was made; it no longer applies."
            )
        elif await role_of(tx, group.id, swap.target_id) is not Role.MEMBER:
            # removed from the group, or now leads it: they no longer present
            await rota_store.decide_swap(tx, swap.id, "void", now)
            refusal = Refusal(
                "You no longer present in this group, so this request no longer applies."
            )
        elif not accept:
            await rota_store.decide_swap(tx, swap.id, "declined", now)
            return SwapAnswered(False, group, session, swap.requester_id)
        else:
            exchanged, refusal = await _what_was_offered(tx, group, session, swap, now)
            if refusal is None:
                await tx.watch(group.id, now)
                await rota_store.decide_swap(tx, swap.id, "accepted", now)
                await rota_store.set_presenter(tx, session.id, swap.target_id, locked=True)
                if exchanged is not None:
                    await rota_store.set_presenter(tx, exchanged.id, swap.requester_id, locked=True)
                return SwapAnswered(True, group, session, swap.requester_id, exchanged)
    # The request's new state is committed; then the member hears why nothing else was.
    assert refusal is not None
    raise refusal
