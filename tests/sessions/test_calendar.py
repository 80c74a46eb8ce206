"""The `.ics` file of a group's sessions, checked by parsing it back with icalendar."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event, Timezone

from bot.sessions.calendar import PRODUCT_ID, plain_line, session_calendar, session_uid
from bot.sessions.recurrence import Repeat, parse_local_start, plan_series
from bot.sessions.store import Session

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CONTENT_LINE = re.compile(r"[A-Z][A-Z0-9-]*(;[A-Z0-9-]+=[^;:]*)*:.*")
SAMPLE_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Kolkata",
    "Arctic/Longyearbyen",  # icalendar knows it as an alias of Europe/Berlin
    "Atlantic/Reykjavik",  # icalendar treats it as UTC
    "UTC",
)


@dataclass(frozen=True)
class FakeSession:
    """Only the four attributes the calendar reads, to show it needs no more."""

    id: int
    starts_at: datetime
    duration: timedelta
    cancelled: bool = False


def session(
    session_id: int, starts_at: datetime, minutes: int = 90, *, cancelled: bool = False
) -> Session:
    return Session(
        id=session_id,
        group_id=1,
        starts_at=starts_at,
        duration=timedelta(minutes=minutes),
        cancelled=cancelled,
        presenter_id=None,
        presenter_locked=False,
    )


def weekly_across_march_change() -> list[Session]:
    """19:00 London on four Tuesdays; the clocks go forward on Sunday 29 March 2026."""
    first = parse_local_start("2026-03-17 19:00", LONDON)
    starts = plan_series(first, LONDON, Repeat.WEEKLY, 4)
    return [session(index + 1, start) for index, start in enumerate(starts)]


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events(calendar: Calendar) -> list[Event]:
    return [component for component in calendar.walk("VEVENT") if isinstance(component, Event)]


def timezones(calendar: Calendar) -> list[Timezone]:
    return [
        component for component in calendar.walk("VTIMEZONE") if isinstance(component, Timezone)
    ]


def wall(event: Event, name: str) -> datetime:
    """The property's date-time as written: on the wall clock of its TZID, or UTC."""
    value: Any = event.decoded(name)
    assert isinstance(value, datetime)
    assert value.tzinfo is not None
    return value


def instant(event: Event, name: str) -> datetime:
    return wall(event, name).astimezone(UTC)


def sequence_of(event: Event) -> int:
    return int(str(event["SEQUENCE"]))


def unfolded_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    return text.replace("\r\n ", "").removesuffix("\r\n").split("\r\n")


# --- structure -------------------------------------------------------------------------


def test_calendar_header() -> None:
    data = session_calendar("Tuesday group", "Europe/London", [session(1, NOW)], now=NOW)
    calendar = parse(data)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODUCT_ID
    # No METHOD: PUBLISH is iTIP, which needs an ORGANIZER; an import file needs neither.
    assert "METHOD" not in calendar
    assert not any(line.startswith("METHOD") for line in unfolded_lines(data))


def test_calendar_is_named_after_the_group() -> None:
    data = session_calendar("Tuesday group", "Europe/London", [session(1, NOW)], now=NOW)
    lines = unfolded_lines(data)
    assert "NAME:Balint group: Tuesday group" in lines
    assert "X-WR-CALNAME:Balint group: Tuesday group" in lines


def test_no_sessions_no_file() -> None:
    # A VCALENDAR needs a component (RFC 5545 3.6): the caller says "no sessions" instead.
    with pytest.raises(ValueError, match="at least one session"):
        session_calendar("g", "Europe/London", [], now=NOW)
    with pytest.raises(ValueError, match="at least one session"):
        session_calendar("g", "UTC", iter([]), now=NOW)


def test_one_event_per_session_with_the_group_zone() -> None:
    sessions = weekly_across_march_change()
    calendar = parse(session_calendar("Tuesday group", "Europe/London", sessions, now=NOW))
    assert [tz.tz_name for tz in timezones(calendar)] == ["Europe/London"]
    assert calendar.get_missing_tzids() == set()
    found = events(calendar)
    assert len(found) == len(sessions)
    for event, planned in zip(found, sessions, strict=True):
        assert str(event["UID"]) == f"session-{planned.id}@balint-bot"
        assert str(event["SUMMARY"]) == "Balint group: Tuesday group"
        assert str(event["STATUS"]) == "CONFIRMED"
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event["DTEND"].params["TZID"] == "Europe/London"
        assert instant(event, "DTSTART") == planned.starts_at
        assert instant(event, "DTEND") == planned.ends_at
        assert instant(event, "DTSTAMP") == NOW


def test_weekly_series_stays_at_19_local_across_the_march_change() -> None:
    sessions = weekly_across_march_change()
    # The UTC instants do move (19:00 GMT, then 18:00 UTC once summer time begins) ...
    assert [s.starts_at.hour for s in sessions] == [19, 19, 18, 18]
    data = session_calendar("g", "Europe/London", sessions, now=NOW)
    # ... but the file says 19:00 on the wall clock every week.
    starts = [line for line in unfolded_lines(data) if line.startswith("DTSTART;")]
    assert starts == [
        "DTSTART;TZID=Europe/London:20260317T190000",
        "DTSTART;TZID=Europe/London:20260324T190000",
        "DTSTART;TZID=Europe/London:20260331T190000",
        "DTSTART;TZID=Europe/London:20260407T190000",
    ]
    for event in events(parse(data)):
        start, end = wall(event, "DTSTART"), wall(event, "DTEND")
        assert (start.hour, start.minute) == (19, 0)
        assert (end.hour, end.minute) == (20, 30)


def test_the_file_s_own_vtimezone_gives_the_right_instants() -> None:
    # Clients such as Outlook use the VTIMEZONE in the file, not their own zone data, so
    # read the wall-clock times through it alone (lookup_tzid=False ignores zoneinfo).
    sessions = weekly_across_march_change()
    calendar = parse(session_calendar("g", "Europe/London", sessions, now=NOW))
    (vtimezone,) = timezones(calendar)
    own_zone = vtimezone.to_tz(lookup_tzid=False)
    assert isinstance(own_zone, tzinfo)
    for event, planned in zip(events(calendar), sessions, strict=True):
        local = wall(event, "DTSTART").replace(tzinfo=own_zone)
        assert local.astimezone(UTC) == planned.starts_at


def test_vtimezone_covers_sessions_that_end_in_the_next_year() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    new_years_eve = parse_local_start("2026-12-31 23:00", sydney)
    data = session_calendar("g", "Australia/Sydney", [session(1, new_years_eve, 120)], now=NOW)
    (vtimezone,) = timezones(parse(data))
    comment = str(vtimezone["COMMENT"])
    assert "2026-01-01 to 2028-01-01" in comment


def test_uids_are_stable_across_generations_and_sequence_grows() -> None:
    sessions = weekly_across_march_change()
    first = parse(session_calendar("g", "Europe/London", sessions, now=NOW))
    # A week later one session has moved and the list arrives in another order.
    moved = [*sessions[:2], session(3, sessions[2].starts_at + timedelta(hours=1)), sessions[3]]
    later = parse(
        session_calendar("g", "Europe/London", reversed(moved), now=NOW + timedelta(days=7))
    )
    assert [str(e["UID"]) for e in events(first)] == [str(e["UID"]) for e in events(later)]
    for before, after in zip(events(first), events(later), strict=True):
        assert sequence_of(after) > sequence_of(before)


def test_sequence_grows_even_a_minute_later() -> None:
    def sequence(now: datetime) -> int:
        data = session_calendar("g", "UTC", [session(1, NOW + timedelta(days=1))], now=now)
        return sequence_of(events(parse(data))[0])

    assert sequence(NOW) < sequence(NOW + timedelta(minutes=1))
    assert 0 <= sequence(NOW) < 2**31


def test_uid_uses_the_domain() -> None:
    data = session_calendar("g", "UTC", [session(5, NOW)], now=NOW, domain="example.org")
    assert str(events(parse(data))[0]["UID"]) == "session-5@example.org"
    assert session_uid(5, "example.org") == "session-5@example.org"


def test_cancelled_session_is_marked_cancelled_and_free() -> None:
    sessions = weekly_across_march_change()
    sessions[1] = session(2, sessions[1].starts_at, cancelled=True)
    found = events(parse(session_calendar("g", "Europe/London", sessions, now=NOW)))
    assert [str(e["STATUS"]) for e in found] == ["CONFIRMED", "CANCELLED", "CONFIRMED", "CONFIRMED"]
    assert [str(e["TRANSP"]) for e in found] == ["OPAQUE", "TRANSPARENT", "OPAQUE", "OPAQUE"]


def test_same_inputs_give_the_same_bytes() -> None:
    sessions = weekly_across_march_change()
    assert session_calendar("g", "Europe/London", sessions, now=NOW) == session_calendar(
        "g", "Europe/London", list(reversed(sessions)), now=NOW
    )


def test_accepts_any_object_with_the_four_attributes() -> None:
    fake = FakeSession(9, NOW + timedelta(days=2), timedelta(hours=1), cancelled=True)
    (event,) = events(parse(session_calendar("g", "Europe/London", [fake], now=NOW)))
    assert str(event["UID"]) == "session-9@balint-bot"
    assert str(event["STATUS"]) == "CANCELLED"


# --- zones -----------------------------------------------------------------------------


def test_utc_group_uses_z_times_and_needs_no_vtimezone() -> None:
    data = session_calendar("g", "UTC", [session(1, NOW)], now=NOW)
    calendar = parse(data)
    assert timezones(calendar) == []
    assert calendar.get_missing_tzids() == set()
    assert "DTSTART:20260201T120000Z" in unfolded_lines(data)


def test_tzid_keeps_the_group_s_spelling_for_an_alias_zone() -> None:
    # icalendar considers Arctic/Longyearbyen equivalent to Europe/Berlin and others; the
    # event's TZID must still match the VTIMEZONE written for the group's own zone.
    data = session_calendar("g", "Arctic/Longyearbyen", [session(1, NOW)], now=NOW)
    calendar = parse(data)
    assert [tz.tz_name for tz in timezones(calendar)] == ["Arctic/Longyearbyen"]
    assert events(calendar)[0]["DTSTART"].params["TZID"] == "Arctic/Longyearbyen"
    assert calendar.get_missing_tzids() == set()


def test_an_end_in_the_repeated_hour_is_written_in_utc() -> None:
    # 00:30 BST on 25 October 2026 for 90 minutes ends at the second 01:00 (GMT); written
    # as local 01:00 it would be read as the first one, making the session 30 minutes.
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    data = session_calendar("g", "Europe/London", [session(1, start, 90)], now=NOW)
    lines = unfolded_lines(data)
    assert "DTSTART;TZID=Europe/London:20261025T003000" in lines
    assert "DTEND:20261025T010000Z" in lines
    (event,) = events(parse(data))
    assert instant(event, "DTEND") - instant(event, "DTSTART") == timedelta(minutes=90)


# A start in the repeated hour, as its first and as its second occurrence (UTC instants).
REPEATED_HOUR_STARTS = {
    "Europe/London": ("20261025T003000Z", "20261025T013000Z"),  # 01:30 BST, then GMT
    "America/New_York": ("20261101T053000Z", "20261101T063000Z"),  # 01:30 EDT, then EST
    "Australia/Lord_Howe": ("20260404T144500Z", "20260404T151500Z"),  # 01:45 +11, +1030
}


@pytest.mark.parametrize("zone_name", sorted(REPEATED_HOUR_STARTS))
def test_a_start_in_the_repeated_hour_is_written_in_utc(zone_name: str) -> None:
    # RFC 5545 reads a repeated wall time as its first occurrence, libical and ical.js as
    # the second: either occurrence, written on the wall clock, would be wrong somewhere.
    zone = ZoneInfo(zone_name)
    written = REPEATED_HOUR_STARTS[zone_name]
    starts = [datetime.strptime(text, "%Y%m%dT%H%M%S%z") for text in written]
    assert starts[0].astimezone(zone).replace(tzinfo=None) == (
        starts[1].astimezone(zone).replace(tzinfo=None)
    )
    sessions = [session(index, start, 30) for index, start in enumerate(starts)]
    data = session_calendar("g", zone_name, sessions, now=NOW)
    lines = unfolded_lines(data)
    in_events = lines[lines.index("BEGIN:VEVENT") :]
    assert [line for line in in_events if line.startswith("DTSTART")] == [
        f"DTSTART:{text}" for text in written
    ]
    for event, planned in zip(events(parse(data)), sessions, strict=True):
        assert instant(event, "DTSTART") == planned.starts_at


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        session_calendar("g", "Mars/Olympus_Mons", [session(1, NOW)], now=NOW)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        session_calendar("g", "UTC", [session(1, NOW)], now=NOW.replace(tzinfo=None))


@functools.cache
def clock_changes(zone_name: str) -> tuple[datetime, ...]:
    """The instants in 2026 and 2027 at which `zone_name`'s UTC offset changes."""
    zone = ZoneInfo(zone_name)
    changes = []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year < 2028:
        after = moment + timedelta(minutes=30)
        if moment.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            changes.append(after)
        moment = after
    return tuple(changes)


def starts_in(zone_name: str) -> st.SearchStrategy[datetime]:
    """Any start from 2025 to 2035, or one within four hours of a clock change."""
    anywhere = st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2035, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(second=0, microsecond=0))
    changes = clock_changes(zone_name)
    if not changes:
        return anywhere
    near_a_change = st.builds(
        lambda change, minutes: change + timedelta(minutes=minutes),
        st.sampled_from(changes),
        st.integers(min_value=-240, max_value=240),
    )
    return anywhere | near_a_change


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    zone_name=st.sampled_from(SAMPLE_ZONES),
    minutes=st.integers(min_value=15, max_value=480),
)
def test_every_session_round_trips_to_its_exact_instants(
    data: st.DataObject, zone_name: str, minutes: int
) -> None:
    starts = data.draw(st.lists(starts_in(zone_name), min_size=1, max_size=6), label="starts")
    sessions = [session(index, start, minutes) for index, start in enumerate(starts)]
    calendar = parse(session_calendar("g", zone_name, sessions, now=NOW))
    assert calendar.get_missing_tzids() == set()
    own_zones = {tz.tz_name: tz.to_tz(lookup_tzid=False) for tz in timezones(calendar)}
    by_uid = {str(event["UID"]): event for event in events(calendar)}
    assert len(by_uid) == len(sessions)
    for planned in sessions:
        event = by_uid[session_uid(planned.id)]
        assert instant(event, "DTSTART") == planned.starts_at
        assert instant(event, "DTEND") == planned.ends_at
        for name, expected in (("DTSTART", planned.starts_at), ("DTEND", planned.ends_at)):
            tzid = event[name].params.get("TZID")
            if tzid is not None:
                assert tzid == zone_name
                # The file's own VTIMEZONE agrees with the zone database.
                local = wall(event, name).replace(tzinfo=own_zones[tzid])
                assert local.astimezone(UTC) == expected


# --- user text -------------------------------------------------------------------------

HOSTILE_NAME = "Tuesday\r\nBEGIN:VEVENT\nUID:evil;x=1,y\\z\rEND:VEVENT\u2028\x0bgroup"


def test_group_name_cannot_add_lines_or_properties() -> None:
    sessions = weekly_across_march_change()
    data = session_calendar(HOSTILE_NAME, "Europe/London", sessions, now=NOW)
    lines = unfolded_lines(data)
    assert all(CONTENT_LINE.fullmatch(line) for line in lines), lines
    assert lines.count("BEGIN:VEVENT") == len(sessions)
    assert sum(line.startswith("UID:") for line in lines) == len(sessions)
    found = events(parse(data))
    assert len(found) == len(sessions)
    expected = "Balint group: Tuesday BEGIN:VEVENT UID:evil;x=1,y\\z END:VEVENT group"
    assert all(str(event["SUMMARY"]) == expected for event in found)
    escaped = expected.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    assert "SUMMARY:" + escaped in lines


def test_plain_line_flattens_control_and_separator_characters() -> None:
    assert plain_line("  a\tb\r\nc\x00d\u2028e\u2029f\x85g  ") == "a b c d e f g"
    assert plain_line("Zoë's group, Leeds; Tuesdays") == "Zoë's group, Leeds; Tuesdays"


@settings(max_examples=80, deadline=None)
@given(name=st.text(max_size=60))
def test_any_group_name_round_trips_as_one_summary(name: str) -> None:
    sessions = [session(1, NOW + timedelta(days=1)), session(2, NOW + timedelta(days=8))]
    data = session_calendar(name, "Europe/London", sessions, now=NOW)
    lines = unfolded_lines(data)
    assert all(CONTENT_LINE.fullmatch(line) for line in lines), lines
    assert all(
        char == "\t" or not (ord(char) < 0x20 or ord(char) == 0x7F)
        for line in lines
        for char in line
    )
    found = events(parse(data))
    assert [str(event["UID"]) for event in found] == [session_uid(1), session_uid(2)]
    assert all(str(event["SUMMARY"]) == "Balint group: " + plain_line(name) for event in found)
