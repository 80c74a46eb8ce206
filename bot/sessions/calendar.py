"""A group's sessions as an iCalendar file (RFC 5545), for `/session calendar`.

Members import the file into whatever calendar they use, so it has to carry enough for
any client to show the right local time without knowing our database:

- Times are written on the group's wall clock with ``TZID=<zone>`` and the file carries a
  VTIMEZONE for that zone (generated from the zone database by icalendar), because
  clients such as Outlook use the file's own definition rather than their own. A 19:00
  session therefore reads 19:00 in the group's zone on both sides of a daylight-saving
  change. A zone that icalendar treats as UTC (UTC itself, and zones such as
  Atlantic/Reykjavik that have been UTC for decades) is written with the ``Z`` suffix and
  needs no VTIMEZONE (RFC 5545 3.2.19).
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

No clock is read here: "now" is passed in, so two files made with the same inputs are
byte for byte the same.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import MAXYEAR, UTC, date, datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vText
from icalendar.timezone import is_utc

from bot.kernel.clock import require_aware

PRODUCT_ID: Final = "-//Balint bot//Session calendar//EN"
SUMMARY_PREFIX: Final = "Balint group: "
# SEQUENCE counts minutes from here: small enough for RFC 5545's 32-bit INTEGER for
# thousands of years, fine enough that a change and a re-export rarely share a minute
# (and when they do, the later DTSTAMP still marks the newer copy).
_SEQUENCE_EPOCH: Final = datetime(2024, 1, 1, tzinfo=UTC)


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
    sessions to include is the caller's choice. `now` (aware) becomes every DTSTAMP and
    sets SEQUENCE.
    """
    zone = ZoneInfo(zone_name)
    stamp = require_aware(now).astimezone(UTC)
    ordered = sorted(sessions, key=lambda session: (session.starts_at, session.id))
    title = SUMMARY_PREFIX + plain_line(group_name)
    written_as_utc = is_utc(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # The name clients show for the imported calendar (RFC 7986 and the older X- form).
    # Wrapped in vText: icalendar does not know these as TEXT and would otherwise leave
    # the name's commas and semicolons unescaped.
    calendar.add("name", vText(title))
    calendar.add("x-wr-calname", vText(title))
    if not written_as_utc:
        first, last = _zone_span(ordered, zone, stamp)
        calendar.add_component(
            Timezone.from_tzinfo(zone, tzid=zone_name, first_date=first, last_date=last)
        )
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

    RFC 5545 (3.3.5) reads a wall-clock time that happens twice (the hour repeated when
    clocks go back) as its first occurrence. An instant in the repeated hour's second
    run, such as the end of a session that straddles the change, would be read an hour
    early, so it is written in UTC, which is exact; everything else keeps its TZID.
    """
    local = instant.astimezone(zone)
    if written_as_utc or _is_second_occurrence(local):
        event.add(name, instant.astimezone(UTC))
        return
    event.add(name, local)
    # icalendar may name an equivalent zone (the first of its aliases); the TZID must be
    # exactly the VTIMEZONE's, so it is set to the group's own spelling.
    event[name.upper()].params["TZID"] = zone_name


def _is_second_occurrence(local: datetime) -> bool:
    """Whether `local` is the second time its zone's wall clock shows that time (PEP 495)."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _zone_span(
    sessions: list[CalendarSession], zone: ZoneInfo, stamp: datetime
) -> tuple[date, date]:
    """The whole years the VTIMEZONE must cover: from the first session's year to the
    year after the last one ends (now's year when there are none).

    icalendar's default span (1970 to 2038) would put fifty years of transitions in every
    file and miss sessions after 2037; whole years keep the file the same all year long.
    """
    instants = [session.starts_at for session in sessions]
    instants += [session.starts_at + session.duration for session in sessions]
    years = [instant.astimezone(zone).year for instant in instants or [stamp]]
    last_year = max(years) + 1
    last = date(last_year, 1, 1) if last_year <= MAXYEAR else date(MAXYEAR, 12, 31)
    return date(min(years), 1, 1), last


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
