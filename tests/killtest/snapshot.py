"""The rota group as the database holds it, and whether one change to it is whole.

A rota change is one transaction in the bot, so after a kill it must be either entirely
there or not at all. `judge` compares the group before and after one step and names what
is half done:

- an absence: recorded, and then the member presents nothing on those days; or not
  recorded, and then nothing changed;
- a swap request: a new pending request and nothing else, or nothing;
- a swap accepted: the request accepted with the member asked presenting the slot (and
  the requester the slot offered in exchange), or the request still pending and the
  slots as they were (or the request refused: void or expired, slots as they were);
- an assignment: the member presents the session, fixed, with its audit entry; or
  nothing changed;
- a regeneration: its audit entry and whatever it re-planned, or nothing changed.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.kernel.zones import zone


@dataclass(frozen=True)
class Swap:
    state: str
    session_id: int
    requester_id: int
    target_id: int
    exchange_session_id: int | None


@dataclass(frozen=True)
class RotaState:
    presenters: dict[int, tuple[int | None, bool]]
    """Each planned session of the group: (presenter, fixed)."""
    starts: dict[int, int]
    absences: frozenset[tuple[int, int, int]]
    """(member, first instant away, first instant back), unix seconds."""
    swaps: dict[int, Swap]
    audit: tuple[str, ...]
    """The group's audit actions, oldest first."""
    reminded: dict[int, frozenset[int]]
    """Each session's pending presenter-reminder jobs: whom they are for."""

    def reminders_out_of_step(self) -> list[int]:
        """Sessions whose pending presenter reminder is not for their presenter (the
        reminder jobs are rewritten in the same transaction as the rota)."""
        return sorted(
            sid
            for sid, (presenter, _) in self.presenters.items()
            if self.reminded.get(sid, frozenset())
            != (frozenset() if presenter is None else frozenset({presenter}))
        )


def read_rota(db: sqlite3.Connection, group_id: int) -> RotaState:
    sessions = db.execute(
        "SELECT id, starts_at, presenter_id, presenter_locked FROM sessions"
        " WHERE group_id = ? AND status = 'planned'",
        (group_id,),
    ).fetchall()
    absences = db.execute(
        "SELECT user_id, starts_at, ends_at FROM absences WHERE group_id = ?", (group_id,)
    ).fetchall()
    swaps = db.execute(
        "SELECT w.id, w.state, w.session_id, w.requester_id, w.target_id, w.exchange_session_id"
        " FROM swaps w JOIN sessions s ON s.id = w.session_id WHERE s.group_id = ?",
        (group_id,),
    ).fetchall()
    audit = db.execute(
        "SELECT action FROM audit WHERE group_id = ? ORDER BY id", (group_id,)
    ).fetchall()
    reminded: dict[int, set[int]] = {}
    for (payload,) in db.execute(
        "SELECT payload FROM jobs WHERE group_id = ? AND kind = 'reminder.presenter'"
        " AND state = 'pending'",
        (group_id,),
    ):
        job = json.loads(payload)
        reminded.setdefault(int(job["session_id"]), set()).add(int(job["presenter_id"]))
    return RotaState(
        presenters={row[0]: (row[2], bool(row[3])) for row in sessions},
        starts={row[0]: row[1] for row in sessions},
        absences=frozenset((row[0], row[1], row[2]) for row in absences),
        swaps={row[0]: Swap(row[1], row[2], row[3], row[4], row[5]) for row in swaps},
        audit=tuple(row[0] for row in audit),
        reminded={sid: frozenset(who) for sid, who in reminded.items()},
    )


def judge(kind: str, detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    """What is half done in `after` for one step of `kind` from `before` (empty: whole,
    or not done at all)."""
    if after == before:
        return []
    out_of_step = after.reminders_out_of_step()
    if out_of_step:
        return [f"{kind} {detail}: presenter reminders not rewritten for sessions {out_of_step}"]
    judges = {
        "away": _judge_away,
        "swap request": _judge_swap_request,
        "swap accept": _judge_swap_accept,
        "assign": _judge_assign,
        "generate": _judge_generate,
    }
    return judges[kind](detail, before, after)


def _judge_away(detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    member = detail["member"]
    london = zone("Europe/London")
    first = _midnight(date.fromisoformat(detail["from"]), london)
    back = _midnight(date.fromisoformat(detail["to"]) + timedelta(days=1), london)
    if (member, first, back) not in after.absences:
        return [f"away {detail}: slots changed, absence not recorded: {diff(before, after)}"]
    inside = [
        sid
        for sid, (presenter, _) in after.presenters.items()
        if presenter == member and first <= after.starts[sid] < back
    ]
    if inside:
        return [f"away {detail}: absence recorded but the member still presents {inside}"]
    return []


def _judge_swap_request(detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    """One new pending request; an earlier pending request for the same slot is void
    (a new request replaces it); nothing else changes."""
    new = [swap for key, swap in after.swaps.items() if key not in before.swaps]
    voided = all(
        after.swaps[key] == old
        or (
            old.state == "pending"
            and old.session_id == detail["session"]
            and after.swaps[key] == replace(old, state="void")
        )
        for key, old in before.swaps.items()
    )
    asked = (detail["session"], detail["requester"], detail["target"])
    if (
        [(s.state, s.session_id, s.requester_id, s.target_id) for s in new] == [("pending", *asked)]
        and voided
        and after.presenters == before.presenters
        and after.absences == before.absences
    ):
        return []
    return [f"swap request {detail}: not one new pending request: {diff(before, after)}"]


def _judge_swap_accept(detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    swap = after.swaps.get(detail["swap"])
    if swap is None:
        return [f"swap accept {detail}: the request is gone"]
    if swap.state in ("void", "expired", "declined"):
        if after.presenters == before.presenters:
            return []
        return [f"swap accept {detail}: refused ({swap.state}) but slots changed"]
    if swap.state == "pending":
        return [f"swap accept {detail}: still pending but something changed"]
    target_has = after.presenters.get(swap.session_id, (None, False))[0] == swap.target_id
    exchange_ok = swap.exchange_session_id is None or (
        after.presenters.get(swap.exchange_session_id, (None, False))[0] == swap.requester_id
    )
    if target_has and exchange_ok:
        return []
    return [f"swap accept {detail}: accepted but the slots were not exchanged as offered"]


def _judge_assign(detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    presenter, fixed = after.presenters.get(detail["session"], (None, False))
    audited = after.audit[len(before.audit) :] == ("rota assign",)
    if presenter == detail["member"] and fixed and audited:
        return []
    return [f"assign {detail}: presenter {presenter}, fixed {fixed}, audit entry {audited}"]


def _judge_generate(detail: dict[str, Any], before: RotaState, after: RotaState) -> list[str]:
    if after.audit[len(before.audit) :] == ("rota generate",) and after.absences == before.absences:
        return []
    return ["generate: the rota changed without its audit entry (or more than the rota)"]


def _midnight(day: date, tz: tzinfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp())


def diff(before: RotaState, after: RotaState) -> str:
    """What differs, for a problem's description."""
    parts = []
    for name in ("presenters", "swaps"):
        old, new = getattr(before, name), getattr(after, name)
        changed = {
            k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)
        }
        if changed:
            parts.append(f"{name} {changed}")
    if before.absences != after.absences:
        added, removed = after.absences - before.absences, before.absences - after.absences
        parts.append(f"absences +{set(added)} -{set(removed)}")
    if before.audit != after.audit:
        parts.append(f"audit +{after.audit[len(before.audit) :]}")
    return "; ".join(parts)
