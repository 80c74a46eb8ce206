"""The rota under change: only the slots that must change do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rota.rules import (
    Absence,
    Presentation,
    RotaSession,
    Slot,
    assign_presenters,
    repair_presenters,
    replan_presenters,
)

MONDAY = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
A, B, C, D, E = 1, 2, 3, 4, 5


def weekly(count: int) -> list[datetime]:
    return [MONDAY + timedelta(weeks=week) for week in range(count)]


def planned(members: list[int], count: int) -> list[Slot]:
    starts = weekly(count)
    plan = assign_presenters(
        members=members, sessions=[RotaSession(i, s) for i, s in enumerate(starts)]
    )
    return [Slot(i, s, plan[i]) for i, s in enumerate(starts)]


def test_a_new_member_moves_nobody() -> None:
    """The issue's example: three members presented once each, A presents tomorrow; D
    joins. Nobody's slot moves; D takes a turn when a slot opens or at /rota generate."""
    history = [Presentation(m, MONDAY - timedelta(weeks=4 - m)) for m in (A, B, C)]
    slots = planned([A, B, C], 6)
    repaired = repair_presenters(members=[A, B, C, D], slots=slots, history=history)
    assert repaired.presenters == {s.id: s.presenter for s in slots}


def test_an_absence_moves_only_the_slot_it_covers_by_an_exchange() -> None:
    slots = planned([A, B, C], 6)  # A B C A B C
    away = Absence(A, MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    repaired = repair_presenters(members=[A, B, C], slots=slots, absences=[away])
    after = list(repaired.presenters.values())
    before = [s.presenter for s in slots]
    # the fairest (C: equal counts, and C's own slot is the farthest away) takes A's
    # slot, and A takes C's next slot in exchange: every count stays even, nothing else
    # moves
    assert after == [C, B, A, A, B, C]
    assert sorted(after) == sorted(before)


def test_a_decline_frees_even_a_fixed_slot_but_an_absence_does_not() -> None:
    slots = [Slot(0, MONDAY, A, locked=True), Slot(1, MONDAY + timedelta(weeks=1), B)]
    away = Absence(A, MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    kept = repair_presenters(members=[A, B, C], slots=slots, absences=[away])
    assert kept.presenters[0] == A
    assert kept.unlocked == frozenset()
    declined = repair_presenters(members=[A, B, C], slots=slots, declines={0: [A]})
    assert declined.presenters == {0: C, 1: B}  # C, with no slot, is the fairest
    assert declined.unlocked == {0}
    left = repair_presenters(members=[B, C], slots=slots, declines={0: [A]})
    assert left.presenters == {0: C, 1: B}  # A left: the fairest takes the slot


def test_a_member_who_joined_takes_the_slot_that_opens_up() -> None:
    history = [Presentation(m, MONDAY - timedelta(weeks=5 - m)) for m in (A, B, C, D)]
    slots = planned([A, B, C, D], 8)
    away = Absence(A, MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    repaired = repair_presenters(
        members=[A, B, C, D, E], slots=slots, history=history, absences=[away]
    )
    assert repaired.presenters[0] == E
    assert [repaired.presenters[s.id] for s in slots[1:]] == [s.presenter for s in slots[1:]]


def test_a_reminded_presenters_slot_is_not_taken_for_an_exchange() -> None:
    slots = planned([A, B, C], 6)  # A B C A B C
    away = Absence(A, MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    free = repair_presenters(members=[A, B, C], slots=slots, absences=[away])
    assert free.presenters[2] == A  # C's slot, taken in exchange
    kept = repair_presenters(members=[A, B, C], slots=slots, absences=[away], keep={2})
    assert kept.presenters[2] == C  # C had the presenter reminder: C keeps it
    assert kept.presenters[0] == C
    assert kept.presenters[5] == A  # the exchange uses C's next slot instead


def test_generate_keeps_slots_whose_presenter_was_reminded() -> None:
    slots = [Slot(0, MONDAY, C), Slot(1, MONDAY + timedelta(weeks=1), C)]
    replanned = replan_presenters(members=[A, B, C], slots=slots, keep={0})
    assert replanned.presenters[0] == C
    assert replanned.presenters[1] in {A, B}


members_st = st.lists(st.integers(1, 6), min_size=1, max_size=5, unique=True)


@st.composite
def situations(
    draw: st.DrawFn,
) -> tuple[list[int], list[Slot], list[Absence], dict[int, list[int]]]:
    people = draw(members_st)
    count = draw(st.integers(1, 10))
    starts = weekly(count)
    anyone = st.one_of(st.none(), st.integers(1, 7))
    slots = [Slot(i, start, draw(anyone), draw(st.booleans())) for i, start in enumerate(starts)]
    absences = [
        Absence(draw(st.integers(1, 7)), starts[first], starts[min(first + span, count - 1)])
        for first, span in draw(
            st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, 2)), max_size=3)
        )
    ]
    declines = {
        i: draw(st.lists(st.integers(1, 7), max_size=2))
        for i in range(count)
        if draw(st.booleans())
    }
    return people, slots, absences, declines


@settings(max_examples=300, deadline=None)
@given(situations())
def test_repair_changes_only_what_must_change(
    situation: tuple[list[int], list[Slot], list[Absence], dict[int, list[int]]],
) -> None:
    members, slots, absences, declines = situation
    repaired = repair_presenters(members=members, slots=slots, absences=absences, declines=declines)
    by_id = {slot.id: slot for slot in slots}

    def must_change(slot: Slot) -> bool:
        if slot.presenter is None or slot.presenter not in members:
            return True
        if slot.presenter in declines.get(slot.id, ()):
            return True
        away = any(a.member_id == slot.presenter and a.covers(slot.starts_at) for a in absences)
        return away and not slot.locked

    givers = {slot.presenter for slot in slots if must_change(slot)}
    for session_id, presenter in repaired.presenters.items():
        slot = by_id[session_id]
        if presenter == slot.presenter:
            continue
        # a slot that did not have to change moves only in an exchange, to a giver
        assert must_change(slot) or presenter in givers, (slot, presenter)
        if presenter is not None:
            assert presenter in members
            assert presenter not in declines.get(session_id, ())
    # repairing again changes nothing
    again = repair_presenters(
        members=members,
        slots=[
            Slot(
                s.id,
                s.starts_at,
                repaired.presenters[s.id],
                s.locked and s.id not in repaired.unlocked,
            )
            for s in slots
        ],
        absences=absences,
        declines=declines,
    )
    assert again.presenters == repaired.presenters
