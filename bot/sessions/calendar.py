"""A group's sessions as an iCalendar file (RFC 5545), for `/session calendar`.

Members import the file into whatever calendar they use, so it has to carry enough for
any client to show the right local time without knowing our database:

- Times are written on the group's wall clock with ``TZID=<zone>`` and the file carries a
  VTIMEZONE for that zone, because clients such as Outlook use the file's own definition
  rather than their own. A 19:00 session therefore reads 19:00 in the group's zone on
  both sides of a daylight-saving change. A zone that icalendar treats as UTC (UTC itself,
  and zones such as Atlantic/Reykjavik that have been UTC for decades) is written with the
  ``Z`` suffix and needs no VTIMEZONE (RFC 5545 3.2.19).
- The VTIMEZONE is built here from the zone's transitions (found by scanning `zoneinfo`'s
  UTC offsets), not by icalendar's ``Timezone.from_tzinfo``. RFC 5545 (3.6.5) reads an
  observance's DTSTART on the clock in force *before* it, TZOFFSETFROM: New York's
  DAYLIGHT onset is ``DTSTART:20260308T020000`` with ``TZOFFSETFROM:-0500``. icalendar
  writes the wall time after a gap (03:00), so libical and ical.js would start summer time
  an hour late (half an hour for Lord Howe) and misplace sessions near the change; its
  search, in jumps of up to 64 days, can also step over two changes weeks apart
  (Casablanca's Ramadan hour). Each onset here is the transition's instant plus
  TZOFFSETFROM, and each transition has an observance of its own (see `_vtimezone`).
- A wall-clock time that happens twice (the hour repeated when clocks go back) is written
  in UTC, whichever of the two it is. RFC 5545 (3.3.5) means the first occurrence, but
  libical and ical.js read it as the second, an hour later; UTC is exact for all of them.
  Everything else keeps its TZID.
- There is no METHOD: ``METHOD:PUBLISH`` is iTIP (RFC 5546), which requires an ORGANIZER,
  and the file is for importing, not a scheduling message; an import needs no method.
- Every session's UID is ``session-{id}@{domain}``, the same in every file generated, so
  importing the file again updates the events it imported before instead of
  duplicating them; a cancelled session stays in the file as ``STATUS:CANCELLED`` so that
  the update removes it from members' calendars.
- SEQUENCE grows with the moment the file was made. Several clients (Google Calendar's
  import among them) ignore an event whose UID they know unless its SEQUENCE is higher,
  and the database keeps no revision counter per session; a number derived from "now"
  is higher in every later file, which is exactly what an importer needs to accept a
  moved or cancelled session.
- The group name is user text. icalendar escapes commas, semicolons, backslashes and
  newlines in TEXT values; control characters (which RFC 5545 forbids in TEXT and which
  icalendar passes through) are replaced by spaces here, so a name can never add a line
  or a property to the file.
- A calendar must hold at least one component (RFC 5545 3.6), so a group without
  sessions has no file: the function refuses an empty list, and the caller answers
  "no sessions" instead of asking.

No clock is read here: "now" is passed in, so two files made with the same inputs are
byte for byte the same.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Component,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vText,
)
from icalendar.timezone import is_utc

from bot.kernel import zones
from bot.kernel.clock import require_aware

PRODUCT_ID: Final = "-//Balint bot//Session calendar//EN"
SUMMARY_PREFIX: Final = "Balint group: "
# SEQUENCE counts minutes from here: small enough for RFC 5545's 32-bit INTEGER for
# thousands of years, fine enough that a change and a re-export rarely share a minute
# (and when they do, the later DTSTAMP still marks the newer copy).
_SEQUENCE_EPOCH: Final = datetime(2024, 1, 1, tzinfo=UTC)
# A zone's clock changes are looked for a day apart, then pinned to the second. Changes
# weeks apart do happen (Casablanca's Ramadan hour); two within a day never have (every
# zone's transitions since 1900 were checked), so a day misses none.
_SCAN_STEP: Final = timedelta(days=1)
_SECOND: Final = timedelta(seconds=1)

# What a zone's clock says at an instant: UTC offset, daylight-saving part, abbreviation.
_Clock = tuple[timedelta, timedelta, str]


class CalendarSession(Protocol):
    """What the calendar needs of a session; `bot.sessions.store.Session` fits."""

    @property
    def id(self) -> int: ...

    @property
    def starts_at(self) -> datetime: ...

    @property
    def duration(self) -> timedelta: ...

    @property
    def cancelled(self) -> bool: ...


def session_calendar(
    group_name: str,
    zone_name: str,
    sessions: Iterable[CalendarSession],
    *,
    now: datetime,
    domain: str = "balint-bot",
) -> bytes:
    """The ``.ics`` file of `sessions` of the group `group_name` in zone `zone_name`.

    `zone_name` is the group's stored IANA zone (ZoneInfoNotFoundError if it is not one).
    Events come in start order, cancelled ones included as ``STATUS:CANCELLED``; which
    sessions to include is the caller's choice, but there must be at least one: a group
    with none has no calendar file (ValueError), so the caller must not ask for one and
    should say that no sessions are planned. `now` (aware) becomes every DTSTAMP and sets
    SEQUENCE.
    """
    zone = zones.zone(zone_name)
    stamp = require_aware(now).astimezone(UTC)
    ordered = sorted(sessions, key=lambda session: (session.starts_at, session.id))
    if not ordered:
        raise ValueError("a calendar file needs at least one session")
    title = SUMMARY_PREFIX + plain_line(group_name)
    written_as_utc = is_utc(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # No METHOD: PUBLISH would make the file an iTIP message, which needs an ORGANIZER.
    # The name clients show for the imported calendar (RFC 7986 and the older X- form).
    # Wrapped in vText: icalendar does not know these as TEXT and would otherwise leave
    # the name's commas and semicolons unescaped.
    calendar.add("name", vText(title))
    calendar.add("x-wr-calname", vText(title))
    if not written_as_utc:
        first, last = _zone_span(ordered, zone)
        calendar.add_component(_vtimezone(zone, zone_name, first, last))
    for session in ordered:
        calendar.add_component(
            _event(session, zone, zone_name, title, stamp, domain, written_as_utc=written_as_utc)
        )
    return bytes(calendar.to_ical())


def plain_line(text: str) -> str:
    """`text` as one line of printable text: control and line-separator characters
    (newlines, tabs, U+2028 ...) become spaces, runs of spaces collapse, ends are trimmed.
    """
    cleaned = "".join(
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char for char in text
    )
    return " ".join(cleaned.split())


def session_uid(session_id: int, domain: str = "balint-bot") -> str:
    """The UID of a session's event; stable so that a re-import updates, not duplicates."""
    return f"session-{session_id}@{domain}"


def _event(
    session: CalendarSession,
    zone: ZoneInfo,
    zone_name: str,
    title: str,
    stamp: datetime,
    domain: str,
    *,
    written_as_utc: bool,
) -> Event:
    start = require_aware(session.starts_at)
    event = Event()
    event.add("uid", session_uid(session.id, domain))
    event.add("dtstamp", stamp)
    event.add("sequence", _sequence(stamp))
    _add_time(event, "dtstart", start, zone, zone_name, written_as_utc=written_as_utc)
    end = start + session.duration
    _add_time(event, "dtend", end, zone, zone_name, written_as_utc=written_as_utc)
    event.add("summary", title)
    event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
    # Cancelled sessions should not block time in anyone's calendar.
    event.add("transp", "TRANSPARENT" if session.cancelled else "OPAQUE")
    return event


def _add_time(
    event: Event,
    name: str,
    instant: datetime,
    zone: ZoneInfo,
    zone_name: str,
    *,
    written_as_utc: bool,
) -> None:
    """Add `instant` as the group's wall-clock time, or in UTC where that would mislead.

    A wall-clock time that happens twice (the hour repeated when clocks go back) is read
    as its first occurrence by RFC 5545 (3.3.5) and as its second by libical and ical.js,
    so an instant in either run of the repeated hour is written in UTC, which is exact;
    everything else keeps its TZID.
    """
    local = instant.astimezone(zone)
    if written_as_utc or _is_ambiguous(local):
        event.add(name, instant.astimezone(UTC))
        return
    event.add(name, local)
    # icalendar may name an equivalent zone (the first of its aliases); the TZID must be
    # exactly the VTIMEZONE's, so it is set to the group's own spelling.
    event[name.upper()].params["TZID"] = zone_name


def _is_ambiguous(local: datetime) -> bool:
    """Whether its zone's wall clock shows `local` twice: the other fold (PEP 495) of the
    same wall time has another offset. (An aware instant's wall time is never in a gap.)
    """
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _zone_span(sessions: list[CalendarSession], zone: ZoneInfo) -> tuple[date, date]:
    """The whole years the VTIMEZONE must cover: from the first session's year to the
    year after the last one ends.

    A fixed span (icalendar's default is 1970 to 2038) would put decades of transitions
    in every file and miss later sessions; whole years keep the file the same all year.
    """
    instants = [session.starts_at for session in sessions]
    instants += [session.starts_at + session.duration for session in sessions]
    years = [instant.astimezone(zone).year for instant in instants]
    last_year = max(years) + 1
    last = date(last_year, 1, 1) if last_year <= MAXYEAR else date(MAXYEAR, 12, 31)
    return date(min(years), 1, 1), last


def _vtimezone(zone: ZoneInfo, zone_name: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE of `zone` from local midnight of `first` to that of `last`.

    The first observance states the clock in force at the start (TZOFFSETFROM equal to
    TZOFFSETTO); each later one is a transition, with its DTSTART on the clock before it
    (see the module doc). Every transition has an observance of its own rather than an
    RDATE of an earlier one: ical.js ignores the DTSTART of an observance with RDATEs,
    which would drop the first change of each kind.
    """
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last, time(), zone).astimezone(UTC)
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    timezone.add("comment", f"This timezone only works from {first} to {last}.")
    before = _clock(zone, start)
    timezone.add_component(_observance(start, before, before))
    for change in _transitions(zone, start, end):
        after = _clock(zone, change)
        timezone.add_component(_observance(change, before, after))
        before = after
    return timezone


def _observance(instant: datetime, before: _Clock, after: _Clock) -> Component:
    """The STANDARD or DAYLIGHT observance that starts at `instant` (UTC), going from the
    clock `before` to the clock `after`: its DTSTART is `instant` on the clock before.
    """
    offset_from, (offset_to, daylight, name) = before[0], after
    observance = TimezoneDaylight() if daylight else TimezoneStandard()
    observance.add("dtstart", (instant + offset_from).replace(tzinfo=None))
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    observance.add("tzname", name)
    return observance


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """The instants in (`start`, `end`] at which `zone`'s clock changes (offset, daylight
    saving or name), each the first second of the new observance; aware, in UTC.
    """
    moment, current = start, _clock(zone, start)
    while moment < end:
        later = moment + min(_SCAN_STEP, end - moment)
        if _clock(zone, later) == current:
            moment = later
            continue
        # Bisect: `moment` shows the current clock and `later` does not.
        while later - moment > _SECOND:
            middle = moment + (later - moment) // _SECOND // 2 * _SECOND
            if _clock(zone, middle) == current:
                moment = middle
            else:
                later = middle
        yield later
        moment, current = later, _clock(zone, later)


def _clock(zone: ZoneInfo, instant: datetime) -> _Clock:
    """What `zone`'s clock says at `instant`: UTC offset, daylight-saving part, name."""
    local = instant.astimezone(zone)
    offset, daylight = local.utcoffset(), local.dst()
    assert offset is not None  # a ZoneInfo always knows both
    return offset, daylight or timedelta(), local.tzname() or str(offset)


def _sequence(stamp: datetime) -> int:
    """Minutes since `_SEQUENCE_EPOCH`: higher in every later file (see the module doc)."""
    return max(0, int((stamp - _SEQUENCE_EPOCH) // timedelta(minutes=1)))


__all__ = [
    "PRODUCT_ID",
    "SUMMARY_PREFIX",
    "CalendarSession",
    "plain_line",
    "session_calendar",
    "session_uid",
]
