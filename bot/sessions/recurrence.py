"""Planning sessions in a group's time zone.

A Balint group meets at a fixed local time ("Tuesdays at 19:00 in London"), so every
recurrence here is computed on the group's wall clock and only then turned into UTC
instants for storage. Computing in UTC instead would move the meeting by an hour twice a
year, which is exactly the kind of disruption to a group's rhythm the bot exists to avoid.

Rules decided here (and tested in tests/sessions/test_recurrence.py):

- Time zones are IANA names. A name that differs only in letter case or uses spaces for
  underscores ("europe/london", "america/new york") is accepted and normalised to the
  canonical spelling; anything else is refused with up to five suggestions.
- A typed local start inside a spring-forward gap does not exist and is refused, with the
  time after the gap offered instead: a leader should choose, not be surprised.
- A typed local start inside a fall-back overlap happens twice; the first occurrence
  (PEP 495 ``fold=0``, still on summer time) is taken, because that is the moment the
  wall clock first shows the typed time.
- Monthly series keep the first session's day of the month; in a shorter month the last
  day of that month is used (31 January, 28 February, 31 March, 30 April ...).
- A generated session whose local time falls in a spring-forward gap is moved forward by
  the length of the gap (02:30 becomes 03:30 when clocks jump from 02:00 to 03:00): the
  session still happens on its day, as close as possible to its usual time.

No clock is read here: "now" is always passed in.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.kernel.clock import require_aware
from bot.kernel.zones import (
    MAX_ZONE_SUGGESTIONS,
    InvalidTimeZone,
    SchedulingError,
    parse_zone,
    suggest_zones,
)

MIN_DURATION_MINUTES: Final = 15
MAX_DURATION_MINUTES: Final = 480
MIN_COUNT: Final = 1
MAX_COUNT: Final = 52
LOCAL_START_FORMAT: Final = "YYYY-MM-DD HH:MM"
LOCAL_START_EXAMPLE: Final = "2026-12-01 19:00"

TimestampStyle = Literal["t", "T", "d", "D", "f", "F", "R"]
_TIMESTAMP_STYLES: Final = frozenset({"t", "T", "d", "D", "f", "F", "R"})

# Years a session can be typed for. Far outside this is a typo, and refusing it here
# keeps UTC conversion and monthly arithmetic clear of datetime's year 1 to 9999 limits.
_EARLIEST_YEAR: Final = 1970
_LATEST_YEAR: Final = 2999
_LOCAL_START_PATTERN: Final = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})",
    re.ASCII,
)


class Repeat(StrEnum):
    """How a planned series of sessions recurs; the values are the command's choices."""

    ONCE = "once"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class MalformedLocalStart(SchedulingError):
    """The start text is not a date and time in the expected format, or not a real date."""

    def __init__(self, text: str, reason: str | None = None) -> None:
        self.text = text
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"'{{text}}' is not a start time I can read{detail}. "
            f"Write it as {LOCAL_START_FORMAT} in the group's time zone, "
            f"for example {LOCAL_START_EXAMPLE}.",
            text=text,
        )


class MalformedLocalDate(SchedulingError):
    """A date typed by a user (an absence, a term start) is not YYYY-MM-DD."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        super().__init__(
            f"'{{text}}' is not a date I can read: write {what} as YYYY-MM-DD, "
            "for example 2026-09-01.",
            text=text,
        )


class NonexistentLocalTime(SchedulingError):
    """The local time falls in a spring-forward gap: the wall clock never shows it."""

    def __init__(self, local_text: str, zone_name: str, after_gap_text: str) -> None:
        self.local_text = local_text
        self.zone_name = zone_name
        self.after_gap_text = after_gap_text
        super().__init__(
            f"{local_text} does not exist in {zone_name}: the clocks go forward at that "
            f"moment. Choose another time, for example {after_gap_text}."
        )


class InvalidRepeat(SchedulingError):
    """The repeat text is not one of the supported recurrences."""

    def __init__(self, text: str) -> None:
        self.text = text
        choices = ", ".join(repeat.value for repeat in Repeat)
        super().__init__(
            f"'{{text}}' is not a way to repeat sessions. Choose one of: {choices}.", text=text
        )


class InvalidCount(SchedulingError):
    """The number of sessions to plan is out of range or contradicts the repeat."""

    def __init__(self, count: int, repeat: Repeat) -> None:
        self.count = count
        self.repeat = repeat
        if repeat is Repeat.ONCE and MIN_COUNT <= count <= MAX_COUNT:
            message = (
                f"Repeat 'once' plans a single session, but count is {count}. "
                "Use weekly, fortnightly or monthly to plan a series, or set count to 1."
            )
        else:
            message = f"Count must be a whole number from {MIN_COUNT} to {MAX_COUNT}, not {count}."
        super().__init__(message)


class InvalidDuration(SchedulingError):
    """The session length is outside what a Balint session can reasonably be."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        super().__init__(
            f"Duration must be whole minutes from {MIN_DURATION_MINUTES} to "
            f"{MAX_DURATION_MINUTES}, not {minutes}."
        )


class StartInPast(SchedulingError):
    """The session would start at or before the current moment."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        super().__init__(
            f"That start time ({format_when(start)}) is in the past. Choose a later time."
        )


# --- local start times -----------------------------------------------------------------


def parse_local_date(text: str, zone: ZoneInfo, what: str = "the date") -> datetime:
    """The first instant (local midnight) of a `YYYY-MM-DD` date in `zone`, as UTC.

    Midnight exists in every zone this bot is likely to meet; where a zone skips it
    (a few change their clocks at 00:00), the first instant after the gap is taken.
    """
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MalformedLocalDate(text, what) from None
    if len(text.strip()) != len("YYYY-MM-DD"):
        raise MalformedLocalDate(text, what)
    if not _EARLIEST_YEAR <= day.year <= _LATEST_YEAR:
        raise MalformedLocalDate(text, what)
    return _instant_of_wall_time(day, time(0, 0), zone)


def parse_local_start(text: str, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time typed as ``YYYY-MM-DD HH:MM`` in `zone`.

    ``YYYY-MM-DDTHH:MM`` (ISO 8601) is accepted too. A time inside a spring-forward gap
    is refused (`NonexistentLocalTime`) rather than silently shifted, because the leader
    typed a time that no clock in the group will show. A time inside a fall-back overlap
    is the first of its two occurrences (``fold=0``, still on summer time).
    """
    match = _LOCAL_START_PATTERN.fullmatch(text.strip())
    if match is None:
        raise MalformedLocalStart(text)
    fields = {key: int(value) for key, value in match.groupdict().items()}
    if not _EARLIEST_YEAR <= fields["year"] <= _LATEST_YEAR:
        raise MalformedLocalStart(
            text, reason=f"the year must be from {_EARLIEST_YEAR} to {_LATEST_YEAR}"
        )
    try:
        local = datetime(
            fields["year"],
            fields["month"],
            fields["day"],
            fields["hour"],
            fields["minute"],
            tzinfo=zone,
        )
    except ValueError as error:
        raise MalformedLocalStart(text, reason=str(error)) from None
    instant = local.astimezone(UTC)
    if not _wall_clock_exists(local):
        raise NonexistentLocalTime(_format_wall(local), zone.key, format_local_start(instant, zone))
    return instant


def format_local_start(instant: datetime, zone: ZoneInfo) -> str:
    """`instant` as ``YYYY-MM-DD HH:MM`` on the wall clock of `zone`.

    The inverse of `parse_local_start`, for labels where a Discord timestamp cannot be
    used (autocomplete choices are plain text).
    """
    return _format_wall(require_aware(instant).astimezone(zone))


def _format_wall(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M")


def _wall_clock_exists(local: datetime) -> bool:
    """Whether the wall clock of ``local.tzinfo`` ever shows ``local``'s date and time.

    A time in a spring-forward gap does not survive a round trip through UTC (PEP 495);
    every other time, including both readings of an ambiguous one, does.
    """
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return (round_trip.date(), round_trip.time()) == (local.date(), local.time())


# --- series ----------------------------------------------------------------------------


def parse_repeat(text: str) -> Repeat:
    """The `Repeat` named by `text` (any letter case), or `InvalidRepeat`."""
    try:
        return Repeat(text.strip().casefold())
    except ValueError:
        raise InvalidRepeat(text) from None


def plan_series(
    first_start: datetime, zone: ZoneInfo, repeat: Repeat, count: int
) -> list[datetime]:
    """The UTC start instants of `count` sessions, the first at `first_start`.

    Dates advance on the group's wall clock, so every session starts at the first one's
    local time whatever the daylight-saving changes in between. Monthly sessions keep the
    first session's day of the month, or take the month's last day when it is shorter.
    A local time that falls in a spring-forward gap moves forward by the gap's length.
    A second occurrence of an ambiguous local time is not repeated: later sessions at
    that time take the first occurrence, as `parse_local_start` does.
    """
    repeat = Repeat(repeat)
    if isinstance(count, bool) or not MIN_COUNT <= count <= MAX_COUNT:
        raise InvalidCount(count, repeat)
    if repeat is Repeat.ONCE and count != 1:
        raise InvalidCount(count, repeat)
    first_local = require_aware(first_start).astimezone(zone)
    # `time()` keeps PEP 495's fold: a first start in the second run of a repeated hour
    # has fold=1, which would put later sessions at second occurrences and read a gap
    # with the offset after it (an hour early). The wall time alone is what repeats.
    first_date, wall_time = first_local.date(), first_local.time().replace(fold=0)
    starts = [first_start.astimezone(UTC)]
    for index in range(1, count):
        local_date = _nth_date(first_date, repeat, index)
        starts.append(_instant_of_wall_time(local_date, wall_time, zone))
    return starts


def _nth_date(first: date, repeat: Repeat, index: int) -> date:
    """The local date of the session `index` steps after the one on `first`."""
    if repeat is Repeat.WEEKLY:
        return first + timedelta(weeks=index)
    if repeat is Repeat.FORTNIGHTLY:
        return first + timedelta(weeks=2 * index)
    if repeat is Repeat.MONTHLY:
        return _add_months(first, index)
    raise ValueError(f"{repeat} does not recur")


def _add_months(first: date, months: int) -> date:
    """`first` moved by whole months, clamped to the target month's last day.

    Always counted from the first session rather than from the previous one, so that a
    series on the 31st returns to the 31st after passing through a short month.
    """
    month_index = first.year * 12 + (first.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(first.day, last_day))


def _instant_of_wall_time(local_date: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `zone`'s clocks show `wall_time` on `local_date`.

    With ``fold=0`` an ambiguous time resolves to its first occurrence, and a time in a
    gap is read with the offset in force before the gap (PEP 495), which lands exactly
    the gap's length later on the wall clock: 02:30 in a 02:00 to 03:00 jump is 03:30.
    """
    local = datetime.combine(local_date, wall_time, tzinfo=zone)
    return local.astimezone(UTC)


# --- validation for the session command ------------------------------------------------


def validate_duration(minutes: int) -> timedelta:
    """The session length for a duration in whole minutes (15 to 480), or `InvalidDuration`.

    A quarter of an hour is the least that makes a session; eight hours covers a day
    workshop. Anything outside is far more likely a typo than a plan.
    """
    if isinstance(minutes, bool) or not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise InvalidDuration(minutes)
    return timedelta(minutes=minutes)


def ensure_start_in_future(start: datetime, now: datetime) -> None:
    """Raise `StartInPast` unless `start` is strictly after `now`.

    Planning a session that has already begun would fire its reminders at once and
    confuse the rota, so it is refused rather than quietly accepted.
    """
    if require_aware(start) <= require_aware(now):
        raise StartInPast(start)


# --- showing times ---------------------------------------------------------------------


def discord_timestamp(instant: datetime, style: TimestampStyle = "F") -> str:
    """A Discord timestamp markup such as ``<t:1796151600:F>``.

    Discord renders it in each reader's own time zone and language, which is why every
    time shown to users goes through here instead of being formatted by the bot.
    """
    if style not in _TIMESTAMP_STYLES:
        raise ValueError(f"unknown Discord timestamp style {style!r}")
    unix_seconds = math.floor(require_aware(instant).timestamp())
    return f"<t:{unix_seconds}:{style}>"


@functools.lru_cache(maxsize=4096)  # the same few sessions, shown again and again
def format_when(instant: datetime) -> str:
    """Full date and time plus relative time: ``<t:UNIX:F> (<t:UNIX:R>)``."""
    return f"{discord_timestamp(instant, 'F')} ({discord_timestamp(instant, 'R')})"


__all__ = [
    "LOCAL_START_EXAMPLE",
    "LOCAL_START_FORMAT",
    "MAX_COUNT",
    "MAX_DURATION_MINUTES",
    "MAX_ZONE_SUGGESTIONS",
    "MIN_COUNT",
    "MIN_DURATION_MINUTES",
    "InvalidCount",
    "InvalidDuration",
    "InvalidRepeat",
    "InvalidTimeZone",
    "MalformedLocalDate",
    "MalformedLocalStart",
    "NonexistentLocalTime",
    "Repeat",
    "SchedulingError",
    "StartInPast",
    "TimestampStyle",
    "discord_timestamp",
    "ensure_start_in_future",
    "format_local_start",
    "format_when",
    "parse_local_date",
    "parse_local_start",
    "parse_repeat",
    "parse_zone",
    "plan_series",
    "suggest_zones",
    "validate_duration",
]
