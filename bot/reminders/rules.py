"""Planning the reminders of a session.

A session has up to three reminders, each a job for the scheduler (`bot.kernel.scheduler`):
one in the home channel with RSVP buttons, one by DM to the presenter, and one by DM to
the leaders if the presenter has neither submitted nor flagged a case by then. This
module only decides *which* jobs exist, *when* they fall due and *how they are named*;
sending them is the cogs' business and running them is the scheduler's.

Rules decided here (and tested in tests/reminders/test_rules.py):

- An offset of ``None`` (a NULL column in ``groups``) turns that reminder off; a kind
  missing from the mapping is off too.
- A reminder is due ``offset`` before the session starts. If that moment has already
  passed when the session is planned or moved, it is due at once, because a late
  reminder is still worth more than none (PRODUCT.md: "sent at once, as long as the
  session has not started").
- Every reminder expires when its session starts: a reminder about a session that is
  under way is noise, so the scheduler skips it instead of sending it late.
- Nothing is planned for a session that has already started.
- The job key names its capability (``reminders:``), the group, the session, the
  session's revision and the kind; the presenter's reminder also names the presenter.
  A move raises the revision, so a moved session gets fresh reminders even when it moves
  back to a time it had before (the scheduler never re-runs a job whose key it has
  completed, and the reminders of the old time were retired). A new presenter is a new
  key, so a member who takes over a slot after its presenter reminder went out gets it
  at once, and a presenter who had it already never gets it twice.
- A session without a presenter has no presenter reminder.

No clock is read here: "now" is always passed in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.kernel.clock import require_aware


class ReminderKind(StrEnum):
    """Who a reminder is for; the value is also the job kind's suffix in its key."""

    CHANNEL = "channel"  # the home channel, with RSVP buttons
    PRESENTER = "presenter"  # DM to the presenter: what to prepare, how to submit or flag
    LEADERS = "leaders"  # DM to the leaders, only if the presenter has not acted yet


# Defaults from PRODUCT.md; the same numbers are the column defaults in 0002_groups.sql.
DEFAULT_CHANNEL_OFFSET: Final = timedelta(hours=24)
DEFAULT_PRESENTER_OFFSET: Final = timedelta(hours=72)
DEFAULT_LEADERS_OFFSET: Final = timedelta(hours=24)

# Discord refuses a message nonce longer than this.
MAX_NONCE_LENGTH: Final = 25

Offsets = Mapping[ReminderKind, timedelta | None]


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder job to queue: `JobScheduler.schedule(kind, key, due_at, expires_at=...)`.

    ``due_at`` and ``expires_at`` are aware UTC instants; ``due_at < expires_at`` always
    holds, so a planned reminder can actually be sent.
    """

    kind: ReminderKind
    key: str
    due_at: datetime
    expires_at: datetime


def default_offsets() -> dict[ReminderKind, timedelta | None]:
    """How long before a session each reminder goes out, unless a group changed it.

    A fresh dict on every call, so a caller adjusting one cannot change another's.
    """
    return {
        ReminderKind.CHANNEL: DEFAULT_CHANNEL_OFFSET,
        ReminderKind.PRESENTER: DEFAULT_PRESENTER_OFFSET,
        ReminderKind.LEADERS: DEFAULT_LEADERS_OFFSET,
    }


def offsets_from_minutes(
    channel: int | None, presenter: int | None, leaders: int | None
) -> dict[ReminderKind, timedelta | None]:
    """Offsets from a group's stored settings (``remind_*_min``; NULL turns one off).

    Zero or negative minutes are refused with ValueError: such a reminder would fall due
    when its session has already started, so it could never be sent, and storing one
    means the settings command let a mistake through.
    """
    return {
        ReminderKind.CHANNEL: _minutes(channel, ReminderKind.CHANNEL),
        ReminderKind.PRESENTER: _minutes(presenter, ReminderKind.PRESENTER),
        ReminderKind.LEADERS: _minutes(leaders, ReminderKind.LEADERS),
    }


def _minutes(minutes: int | None, kind: ReminderKind) -> timedelta | None:
    if minutes is None:
        return None
    if minutes <= 0:
        raise ValueError(f"the {kind} reminder must be a positive number of minutes, not {minutes}")
    return timedelta(minutes=minutes)


def session_key_prefix(group_id: int, session_id: int) -> str:
    """The start of every reminder key of one session, whatever its start or kind.

    Ends with a colon so that session 1's prefix is not also a prefix of session 12's.
    """
    return f"reminders:group:{group_id}:session:{session_id}:"


def reminder_key(
    group_id: int,
    session_id: int,
    revision: int,
    kind: ReminderKind,
    presenter_id: int | None = None,
) -> str:
    """The job key of one reminder: ``reminders:group:G:session:S:rev:R:KIND``, and
    ``...:presenter:U`` for the presenter's.

    Stable (the same inputs always give the same key, so re-planning replaces rather than
    duplicates) and unique per group, session, revision, kind and presenter.
    """
    if revision < 0:
        raise ValueError(f"revisions are never negative: {revision}")
    key = f"{session_key_prefix(group_id, session_id)}rev:{revision}:{kind}"
    if kind is ReminderKind.PRESENTER:
        if presenter_id is None:
            raise ValueError("the presenter's reminder names its presenter")
        key += f":{presenter_id}"
    return key


def plan_reminders(
    session_id: int,
    group_id: int,
    starts_at: datetime,
    offsets: Offsets,
    now: datetime,
    *,
    revision: int = 0,
    presenter_id: int | None = None,
) -> list[PlannedReminder]:
    """The reminders to queue for a session starting at `starts_at`, soonest first.

    Each enabled reminder is due ``starts_at - offset``, or `now` if that has passed, and
    expires at ``starts_at``. Nothing is returned once the session has started
    (``now >= starts_at``). Offsets must be positive (ValueError otherwise; see
    `offsets_from_minutes`). The result is sorted by due time, then in `ReminderKind`
    order, so callers and tests see one deterministic order.
    """
    start = require_aware(starts_at).astimezone(UTC)
    current = require_aware(now).astimezone(UTC)
    planned: list[PlannedReminder] = []
    for kind in ReminderKind:
        offset = offsets.get(kind)
        if offset is None:
            continue
        if offset <= timedelta(0):
            raise ValueError(f"the {kind} reminder offset must be positive, not {offset}")
        if current >= start or (kind is ReminderKind.PRESENTER and presenter_id is None):
            continue
        planned.append(
            PlannedReminder(
                kind=kind,
                key=reminder_key(group_id, session_id, revision, kind, presenter_id),
                due_at=max(start - offset, current),
                expires_at=start,
            )
        )
    order = list(ReminderKind)
    planned.sort(key=lambda reminder: (reminder.due_at, order.index(reminder.kind)))
    return planned


def reminder_nonce(job_id: int, *, recipient_id: int | None = None) -> str:
    """A Discord message nonce for the message a reminder job sends.

    Sent with ``enforce_nonce`` (discord.py sets it whenever a nonce is given), Discord
    returns the earlier message instead of posting a second one when the same nonce is
    reused in the same channel within a few minutes. So a job re-run after a crash
    between sending and recording "done" does not post twice: the nonce depends only on
    the job. Pass `recipient_id` when one job sends several messages (the leaders'
    reminder goes to each leader, and a refused DM falls back to the home channel, where
    two fallbacks of one job must not collapse into one). At most 25 characters.
    """
    if job_id < 0:
        raise ValueError(f"job ids are never negative: {job_id}")
    if recipient_id is None:
        return f"r{job_id}"  # at most 20 characters for a 64-bit rowid
    # Two 64-bit numbers do not fit in 25 characters as text, so the pair is hashed;
    # 120 bits keep an accidental collision within Discord's window out of reach.
    digest = hashlib.blake2b(f"{job_id}:{recipient_id}".encode(), digest_size=15).digest()
    return "r-" + base64.urlsafe_b64encode(digest).decode("ascii")


__all__ = [
    "DEFAULT_CHANNEL_OFFSET",
    "DEFAULT_LEADERS_OFFSET",
    "DEFAULT_PRESENTER_OFFSET",
    "MAX_NONCE_LENGTH",
    "Offsets",
    "PlannedReminder",
    "ReminderKind",
    "default_offsets",
    "offsets_from_minutes",
    "plan_reminders",
    "reminder_key",
    "reminder_nonce",
    "session_key_prefix",
]
