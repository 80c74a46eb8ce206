"""The kill test's judge of rota changes sees a change that is only partly there.

(The kill test passing proves nothing unless its checks can fail: these cases are the
half states a crash between two transactions would leave. `python -m bench.killtest
--break split|nonce|done-first` shows the whole test failing against broken bots.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tests.killtest.snapshot import RotaState, Swap, judge

ANN, BEN, CY = 1, 2, 3
MONDAY = int(datetime(2026, 12, 7, 0, 0, tzinfo=UTC).timestamp())
TUESDAY_EVENING = int(datetime(2026, 12, 8, 19, 0, tzinfo=UTC).timestamp())
NEXT_TUESDAY = TUESDAY_EVENING + 7 * 86400
WEDNESDAY = int(datetime(2026, 12, 9, 0, 0, tzinfo=UTC).timestamp())


def state(**changes: object) -> RotaState:
    base = RotaState(
        presenters={10: (ANN, False), 11: (BEN, False)},
        starts={10: TUESDAY_EVENING, 11: NEXT_TUESDAY},
        absences=frozenset(),
        swaps={},
        audit=("group create",),
        reminded={10: frozenset({ANN}), 11: frozenset({BEN})},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


AWAY = {"member": ANN, "from": "2026-12-08", "to": "2026-12-08"}


def test_an_absence_is_whole_when_the_slot_moved_with_its_reminder() -> None:
    after = state(
        absences=frozenset({(ANN, int(datetime(2026, 12, 8, tzinfo=UTC).timestamp()), WEDNESDAY)}),
        presenters={10: (CY, False), 11: (BEN, False)},
        reminded={10: frozenset({CY}), 11: frozenset({BEN})},
    )
    assert judge("away", AWAY, state(), after) == []
    assert judge("away", AWAY, state(), state()) == []  # or not there at all


def test_an_absence_without_its_slot_moved_is_half_written() -> None:
    absence = (ANN, int(datetime(2026, 12, 8, tzinfo=UTC).timestamp()), WEDNESDAY)
    [problem] = judge("away", AWAY, state(), state(absences=frozenset({absence})))
    assert "still presents [10]" in problem


def test_a_slot_moved_without_its_absence_is_half_written() -> None:
    moved = state(
        presenters={10: (CY, False), 11: (BEN, False)},
        reminded={10: frozenset({CY}), 11: frozenset({BEN})},
    )
    [problem] = judge("away", AWAY, state(), moved)
    assert "absence not recorded" in problem


def test_a_new_presenter_without_their_reminder_job_is_half_written() -> None:
    assigned = state(
        presenters={10: (CY, True), 11: (BEN, False)}, audit=("group create", "rota assign")
    )
    [problem] = judge("assign", {"session": 10, "member": CY}, state(), assigned)
    assert "presenter reminders not rewritten for sessions [10]" in problem
    whole = replace(assigned, reminded={10: frozenset({CY}), 11: frozenset({BEN})})
    assert judge("assign", {"session": 10, "member": CY}, state(), whole) == []


def test_an_assignment_without_its_audit_entry_is_half_written() -> None:
    assigned = state(
        presenters={10: (CY, True), 11: (BEN, False)},
        reminded={10: frozenset({CY}), 11: frozenset({BEN})},
    )
    [problem] = judge("assign", {"session": 10, "member": CY}, state(), assigned)
    assert "audit entry False" in problem


def test_an_accepted_swap_is_whole_only_with_both_slots_exchanged() -> None:
    asked = Swap("pending", 10, ANN, BEN, 11)
    before = state(swaps={7: asked})
    detail = {"swap": 7, "session": 10, "requester": ANN, "target": BEN}
    exchanged = state(
        swaps={7: replace(asked, state="accepted")},
        presenters={10: (BEN, True), 11: (ANN, True)},
        reminded={10: frozenset({BEN}), 11: frozenset({ANN})},
    )
    assert judge("swap accept", detail, before, exchanged) == []
    only_one = replace(
        exchanged,
        presenters={10: (BEN, True), 11: (BEN, False)},
        reminded={10: frozenset({BEN}), 11: frozenset({BEN})},
    )
    [problem] = judge("swap accept", detail, before, only_one)
    assert "not exchanged as offered" in problem
    [problem] = judge(
        "swap accept", detail, before, replace(before, presenters=exchanged.presenters)
    )
    assert problem  # the slots moved, the request still pending


def test_a_new_swap_request_may_only_void_the_earlier_one_for_its_slot() -> None:
    earlier = Swap("pending", 10, ANN, CY, None)
    before = state(swaps={7: earlier})
    detail = {"session": 10, "requester": ANN, "target": BEN}
    after = state(swaps={7: replace(earlier, state="void"), 8: Swap("pending", 10, ANN, BEN, 11)})
    assert judge("swap request", detail, before, after) == []
    moved = replace(after, presenters={10: (BEN, False), 11: (BEN, False)})
    assert judge("swap request", detail, before, moved)
