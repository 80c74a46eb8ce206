"""The fair presenter rotation.

At every Balint session one member presents a case. Who presents is decided by a rule
the whole group can check, so that nobody feels singled out or passed over:

1. the member who has presented least in this term,
2. then least ever,
3. then the one whose nearest presentation is farthest away from this session (never
   presented counts as farthest). With nothing planned after the session this is simply
   "longest since last presenting"; it also keeps a member with a slot booked soon
   afterwards from presenting twice in a row,
4. then the lowest member id, so the result never depends on the order of input.

Members away on the session's date, or who answered "Can't make it" for it, are skipped.
Leaders and co-leaders facilitate and are never candidates: callers pass the roster's
plain members only.

A session a leader assigned by hand is locked: it keeps its presenter even if that
member is away, and that presentation counts for the member from the start of the plan,
not only once its date is reached. Counting it early is what keeps the rotation fair: a
member locked into the fifth session is not also given the first while others wait.

Everything here is pure: no clock, no storage, no Discord. Instants are aware datetimes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RotaSession:
    """A session that needs a presenter; `locked_presenter` is a leader's manual choice."""

    id: int
    starts_at: datetime
    locked_presenter: int | None = None

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "RotaSession.starts_at")


@dataclass(frozen=True, slots=True)
class Presentation:
    """A member presenting at a session that started (or starts) at `starts_at`."""

    member_id: int
    starts_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "Presentation.starts_at")


@dataclass(frozen=True, slots=True)
class Absence:
    """A member away from `starts_at` to `ends_at`, both included.

    A member is away for a session when the session's start falls in that range; the
    caller decides how a range of dates typed by the member maps to instants.
    """

    member_id: int
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "Absence.starts_at")
        _require_aware(self.ends_at, "Absence.ends_at")
        if self.ends_at < self.starts_at:
            raise ValueError("an absence cannot end before it starts")

    def covers(self, instant: datetime) -> bool:
        return self.starts_at <= instant <= self.ends_at


@dataclass(frozen=True, slots=True)
class SlotChange:
    """The sessions a member newly presents at, and those they no longer present at."""

    gained: frozenset[int]
    lost: frozenset[int]


def assign_presenters(
    *,
    members: Iterable[int],
    sessions: Iterable[RotaSession],
    history: Iterable[Presentation] = (),
    absences: Iterable[Absence] = (),
    declines: Mapping[int, Collection[int]] | None = None,
    term_start: datetime | None = None,
) -> dict[int, int | None]:
    """A presenter (or None when nobody can) for every session, keyed by session id.

    Sessions are filled in chronological order and each assignment counts as a
    presentation for the sessions after it, so the rotation carries on through the plan
    instead of giving every session to the same least-presented member. Locked sessions
    keep their presenter. `history` holds the presentations already made; those at or
    after `term_start` count for this term (all of them when `term_start` is None).
    `declines` maps a session id to the members who answered "Can't make it".

    The result is the same for the same input in any order. The returned dict lists the
    sessions chronologically.
    """
    candidates = frozenset(members)
    ordered = _chronological(sessions)
    availability = _Availability(absences, declines)
    tally = _Tally(term_start)
    tally.record_all(history)
    tally.record_all(
        Presentation(session.locked_presenter, session.starts_at)
        for session in ordered
        if session.locked_presenter is not None
    )
    assignments: dict[int, int | None] = {}
    for session in ordered:
        if session.locked_presenter is not None:
            assignments[session.id] = session.locked_presenter
            continue
        presenter = _choose_presenter(session, candidates, tally, availability)
        assignments[session.id] = presenter
        if presenter is not None:
            tally.record(Presentation(presenter, session.starts_at))
    return assignments


def next_candidate(
    session: RotaSession,
    *,
    members: Iterable[int],
    sessions: Iterable[RotaSession],
    assignments: Mapping[int, int | None],
    history: Iterable[Presentation] = (),
    absences: Iterable[Absence] = (),
    declines: Mapping[int, Collection[int]] | None = None,
    term_start: datetime | None = None,
    exclude: Collection[int] = (),
) -> int | None:
    """Who should present at `session` instead of its current presenter, or None.

    Used when a presenter cannot come: every other session keeps its presenter, and
    those slots count as presentations (locked ones with their locked presenter), so the
    stand-in is the member the rotation owes a turn most, preferring one whose own slot
    is far from this date. Never returns the session's current presenter, nor anyone in
    `exclude`, away, or who declined this session.
    """
    current = session.locked_presenter
    if current is None:
        current = assignments.get(session.id)
    tally = _Tally(term_start)
    tally.record_all(history)
    for other in sessions:
        if other.id == session.id:
            continue
        presenter = other.locked_presenter
        if presenter is None:
            presenter = assignments.get(other.id)
        if presenter is not None:
            tally.record(Presentation(presenter, other.starts_at))
    candidates = frozenset(members) - frozenset(exclude) - {current}
    return _choose_presenter(session, candidates, tally, _Availability(absences, declines))


def slot_changes(
    old: Mapping[int, int | None], new: Mapping[int, int | None]
) -> dict[int, SlotChange]:
    """For each member whose slots differ between two plans, what they gained and lost.

    Keyed by member id; members whose slots are unchanged are left out, so the caller
    tells exactly the people affected. A session missing from one plan counts as having
    no presenter there (a cancelled session is a lost slot).
    """
    gained: defaultdict[int, set[int]] = defaultdict(set)
    lost: defaultdict[int, set[int]] = defaultdict(set)
    for session_id in old.keys() | new.keys():
        before, after = old.get(session_id), new.get(session_id)
        if before == after:
            continue
        if before is not None:
            lost[before].add(session_id)
        if after is not None:
            gained[after].add(session_id)
    return {
        member: SlotChange(frozenset(gained[member]), frozenset(lost[member]))
        for member in sorted(gained.keys() | lost.keys())
    }


def _choose_presenter(
    session: RotaSession,
    candidates: Iterable[int],
    tally: _Tally,
    availability: _Availability,
) -> int | None:
    available = (member for member in candidates if availability.can_present(member, session))
    return min(available, key=lambda member: tally.rank(member, session.starts_at), default=None)


def _chronological(sessions: Iterable[RotaSession]) -> list[RotaSession]:
    ordered = sorted(sessions, key=lambda session: (session.starts_at, session.id))
    ids = [session.id for session in ordered]
    if len(ids) != len(set(ids)):
        raise ValueError("each session may appear only once")
    return ordered


class _Availability:
    """Who is away or has declined, looked up per member and session."""

    def __init__(
        self, absences: Iterable[Absence], declines: Mapping[int, Collection[int]] | None
    ) -> None:
        self._absences: defaultdict[int, list[Absence]] = defaultdict(list)
        for absence in absences:
            self._absences[absence.member_id].append(absence)
        self._declines = declines or {}

    def declined(self, session_id: int) -> Collection[int]:
        return self._declines.get(session_id, ())

    def can_present(self, member: int, session: RotaSession) -> bool:
        if member in self._declines.get(session.id, ()):
            return False
        return not any(absence.covers(session.starts_at) for absence in self._absences[member])


class _Tally:
    """Each member's presentations, and their place in the queue for a given session."""

    def __init__(self, term_start: datetime | None) -> None:
        if term_start is not None:
            _require_aware(term_start, "term_start")
        self._term_start = term_start
        self._dates: defaultdict[int, list[datetime]] = defaultdict(list)

    def record(self, presentation: Presentation) -> None:
        self._dates[presentation.member_id].append(presentation.starts_at)

    def record_all(self, presentations: Iterable[Presentation]) -> None:
        for presentation in presentations:
            self.record(presentation)

    def rank(self, member: int, at: datetime) -> tuple[int, int, timedelta, int]:
        """Sort key: the member with the smallest key presents at a session at `at`.

        In order: presentations this term, presentations ever, the distance to their
        nearest presentation negated (farthest first), and the member id. Members who
        never presented only tie with each other (their ever count is 0), so the
        distance they are given does not matter: "never" is the longest by construction.
        """
        dates = self._dates[member]
        term_count = sum(1 for when in dates if self._in_term(when))
        nearest = min((abs(when - at) for when in dates), default=timedelta(0))
        return (term_count, len(dates), -nearest, member)

    def _in_term(self, when: datetime) -> bool:
        return self._term_start is None or when >= self._term_start


def _require_aware(instant: datetime, what: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


__all__ = [
    "Absence",
    "Presentation",
    "Repair",
    "RotaSession",
    "Slot",
    "SlotChange",
    "assign_presenters",
    "next_candidate",
    "repair_presenters",
    "replan_presenters",
    "slot_changes",
]


@dataclass(frozen=True, slots=True)
class Slot:
    """An upcoming session as the rota has it now: its presenter (None: nobody yet), and
    whether that presenter is fixed (a leader's choice, or agreed in a swap)."""

    id: int
    starts_at: datetime
    presenter: int | None = None
    locked: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "Slot.starts_at")


@dataclass(frozen=True, slots=True)
class Repair:
    """The rota after a change: each session's presenter, and the sessions whose
    presenter is now unlocked (a fixed presenter who can no longer present)."""

    presenters: dict[int, int | None]
    unlocked: frozenset[int]


def repair_presenters(
    *,
    members: Iterable[int],
    slots: Iterable[Slot],
    history: Iterable[Presentation] = (),
    absences: Iterable[Absence] = (),
    declines: Mapping[int, Collection[int]] | None = None,
    term_start: datetime | None = None,
    keep: Collection[int] = (),
) -> Repair:
    """The rota after a change that is not a request to re-plan: only the slots that must
    change do (the rota is a plan people rely on).

    A slot must change when it has no presenter, or when its presenter can no longer
    present: no longer one of `members`, away on the date (unless the slot is fixed: a
    leader's choice stands), or answered "Can't make it" (fixed or not). Each such slot
    goes to the fairest available member (the rule of `assign_presenters`, counting every
    slot that stays). Where the member who gave it up still presents in the group and
    the one who takes it has a later slot of their own (not fixed, not in `keep`) on a
    date the giver can present, the giver takes that slot: an exchange, so that both
    keep their counts. Nobody else's slot moves.

    `keep` names sessions whose presenter has had the presenter reminder: their slot is
    not taken for an exchange (they may be preparing), though it still changes if they
    can no longer present.
    """
    candidates = frozenset(members)
    ordered = sorted(slots, key=lambda slot: (slot.starts_at, slot.id))
    availability = _Availability(absences, declines)
    staying, vacated = _staying_and_vacated(ordered, candidates, availability)
    locked = {slot.id for slot in ordered if slot.locked and slot.id in staying}
    plan = assign_presenters(
        members=candidates,
        sessions=[RotaSession(s.id, s.starts_at, staying.get(s.id)) for s in ordered],
        history=history,
        absences=absences,
        declines=declines,
        term_start=term_start,
    )
    for index, slot in enumerate(ordered):
        giver, taker = vacated.get(slot.id), plan[slot.id]
        if giver is None or taker is None or giver not in candidates:
            continue
        for later in ordered[index + 1 :]:
            if (
                staying.get(later.id) == taker
                and plan[later.id] == taker
                and later.id not in locked
                and later.id not in keep
                and availability.can_present(giver, RotaSession(later.id, later.starts_at))
            ):
                plan[later.id] = giver
                break
    unlocked = frozenset(slot.id for slot in ordered if slot.locked and slot.id not in locked)
    return Repair(plan, unlocked)


def _staying_and_vacated(
    ordered: list[Slot], candidates: frozenset[int], availability: _Availability
) -> tuple[dict[int, int], dict[int, int]]:
    """Session id to the presenter who keeps it, and to the one who must give it up."""
    staying: dict[int, int] = {}
    vacated: dict[int, int] = {}
    for slot in ordered:
        if slot.presenter is None:
            continue
        session = RotaSession(slot.id, slot.starts_at)
        declined = slot.presenter in availability.declined(slot.id)
        available = slot.locked or availability.can_present(slot.presenter, session)
        if slot.presenter in candidates and not declined and available:
            staying[slot.id] = slot.presenter
        else:
            vacated[slot.id] = slot.presenter
    return staying, vacated


def replan_presenters(
    *,
    members: Iterable[int],
    slots: Iterable[Slot],
    history: Iterable[Presentation] = (),
    absences: Iterable[Absence] = (),
    declines: Mapping[int, Collection[int]] | None = None,
    term_start: datetime | None = None,
    keep: Collection[int] = (),
) -> Repair:
    """The rota re-planned for fairness (`/rota generate`): every upcoming slot is given
    by the fair rule again, except fixed ones and those in `keep` (their presenter
    reminder has gone out), which stay while their presenter can still present."""
    candidates = frozenset(members)
    ordered = sorted(slots, key=lambda slot: (slot.starts_at, slot.id))
    staying, _ = _staying_and_vacated(ordered, candidates, _Availability(absences, declines))
    # of the slots whose presenter can still have them, the fixed and the reminded stay
    fixed = {
        slot.id: staying[slot.id]
        for slot in ordered
        if slot.id in staying and (slot.locked or slot.id in keep)
    }
    plan = assign_presenters(
        members=candidates,
        sessions=[RotaSession(s.id, s.starts_at, fixed.get(s.id)) for s in ordered],
        history=history,
        absences=absences,
        declines=declines,
        term_start=term_start,
    )
    unlocked = frozenset(slot.id for slot in ordered if slot.locked and slot.id not in fixed)
    return Repair(plan, unlocked)
