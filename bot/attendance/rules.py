"""Attendance: reading who a leader named as present, when a record may still change,
and when the leaders hear about attendance. Pure: no storage, no Discord.

Rules decided here (tested in tests/attendance/test_rules.py):

- `present` is a list of Discord mentions (`<@id>`, which Discord's client inserts when
  a leader picks `@alice` from its list), separated by spaces or commas; anything else in
  it (a name typed without picking it, a role) is refused, so that nothing is recorded
  from a guess. A member named twice is recorded once.
- A record can be made or changed from the session's start until the group's next
  session starts.
- A member "missed two sessions in a row" when neither of the group's two most recent
  sessions with attendance recorded (up to the one just recorded) has them present, and
  they were on the roster when the earlier of the two started. Only members (not the
  leaders, who facilitate) are counted.
- Too few answers: fewer than 6 roster members answered Attending 12 hours before a
  session, or, in a group of fewer than 6 members, fewer than all of them.
- Job keys name the capability (`attendance:`), the group and the session; the missed
  sessions' key names the member too (one note per session and member, ever), the
  answers' check the session's revision (a moved session is checked again).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.kernel.errors import Refusal

MISSED_IN_A_ROW: Final = 2
ATTENDING_FLOOR: Final = 6
# Not 24 h: the channel reminder, where members answer, goes out 24 h before by default,
# so a check then would always find nobody. 12 h leaves them half a day to answer.
ANSWERS_CHECKED_BEFORE: Final = timedelta(hours=12)

_MENTION = re.compile(r"<@!?([0-9]{1,20})>")
_SEPARATORS = re.compile(r"[\s,;]*")


def parse_present(text: str) -> list[int]:
    """The user ids `text` mentions, in the order given, each once; a refusal when it
    holds anything but mentions (the refusal never quotes it)."""
    ids = [int(found) for found in _MENTION.findall(text)]
    rest = _MENTION.sub(" ", text)
    if not _SEPARATORS.fullmatch(rest):
        raise Refusal(
            "`present` takes mentions only: type @ and pick each member from the list "
            "Discord offers (e.g. `@alice @bob`). Part of what you wrote is not a member "
            "mention, so nothing was recorded."
        )
    if not ids:
        raise Refusal(
            "`present` names nobody: mention the members who were there (e.g. `@alice @bob`), "
            "or leave it out to start from those who answered Attending. Nothing was recorded."
        )
    return list(dict.fromkeys(ids))


def editing_closed(next_start: datetime | None, now: datetime) -> bool:
    """Whether a session's record can no longer change: the group's next session has
    started."""
    return next_start is not None and next_start <= now


@dataclass(frozen=True)
class RecordedSession:
    """A session with attendance recorded: when it started and who was present."""

    session_id: int
    starts_at: datetime
    present: frozenset[int]


def missed_in_a_row(
    latest: Sequence[RecordedSession], members_since: Mapping[int, datetime]
) -> list[int]:
    """The members absent from both of the two most recent recorded sessions (`latest`,
    newest first) who were on the roster (`members_since`: member to when they joined)
    when the earlier one started; in id order."""
    if len(latest) < MISSED_IN_A_ROW:
        return []
    considered = latest[:MISSED_IN_A_ROW]
    earliest = considered[-1].starts_at
    return sorted(
        member
        for member, joined in members_since.items()
        if joined <= earliest and all(member not in session.present for session in considered)
    )


def attending_threshold(members: int) -> int:
    """How many Attending answers a session should have: 6, or every member of a group
    of fewer than 6."""
    return min(ATTENDING_FLOOR, max(members, 0))


def too_few_attending(attending: int, members: int) -> bool:
    return attending < attending_threshold(members)


def answers_checked_at(starts_at: datetime) -> datetime:
    """When the leaders' check of a session's Attending answers falls due."""
    return starts_at - ANSWERS_CHECKED_BEFORE


def missed_key(group_id: int, session_id: int, member_id: int) -> str:
    return f"attendance:group:{group_id}:session:{session_id}:missed:{member_id}"


def answers_key(group_id: int, session_id: int, revision: int) -> str:
    return f"attendance:group:{group_id}:session:{session_id}:rev:{revision}:answers"
