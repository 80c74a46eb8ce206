"""The `.ics` files as another engine reads them, across the clock changes of 2026 and 2027.

icalendar writes the files; vobject reads them here, each time with its VTIMEZONE read by
dateutil's ``tzical``, as a client that trusts the file (Outlook, libical, ical.js) would.
A member's calendar must show every session at its stored instant, so each DTSTART and
DTEND is read both as the first and as the second occurrence of its wall time: RFC 5545
means the first, libical and ical.js take the second, and a time that reads two ways
shows the wrong time in one of them.

A reader that compares wall times (as dateutil does) cannot tell an onset written after
the spring gap from one written before it; libical and ical.js convert each onset to UTC
with its TZOFFSETFROM, as RFC 5545 says. So the VTIMEZONE is also checked strictly here:
every observance's DTSTART minus TZOFFSETFROM is the instant `zoneinfo` changes the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st
from vobject.icalendar import TimezoneComponent, stringToDateTime

from bot.sessions.calendar import session_calendar, session_uid
from bot.sessions.store import Session
from tests.sessions.test_calendar import NOW, SAMPLE_ZONES, clock_changes, session, starts_in

# London and New York change by an hour at different moments, Lord Howe by half an hour;
# Chatham keeps a 45-minute offset; Casablanca has changed twice within five weeks
# (its Ramadan hour), which a search in long jumps steps over.
ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Africa/Casablanca",
)
SECOND = timedelta(seconds=1)
UTC_OFFSET = re.compile(r"([+-])(\d\d)(\d\d)(\d\d)?")


def around_every_change(zone_name: str) -> list[Session]:
    """Hour-long sessions starting every 15 minutes from 3 hours before to 3 hours after
    each clock change of 2026 and 2027: before, in and after every gap and repeated hour.
    """
    starts = [
        change + timedelta(minutes=minutes)
        for change in clock_changes(zone_name)
        for minutes in range(-180, 181, 15)
    ]
    return [session(index, start, 60) for index, start in enumerate(starts)]


def parsed(data: bytes) -> Any:
    """The file as vobject's parser reads it, values left as written."""
    return vobject.readOne(data.decode("utf-8"), transform=False)


def vobject_readings(data: bytes) -> dict[str, dict[str, set[datetime]]]:
    """Per UID, the UTC instants vobject reads from DTSTART and DTEND, as the first and as
    the second occurrence of the wall time (one instant when the time is unambiguous).

    vobject keeps the first VTIMEZONE it meets under a TZID for the whole process, so each
    file's own VTIMEZONE is turned into a tzinfo here (by vobject's `gettzinfo`, which
    hands it to dateutil's tzical), and the values are read by vobject's DATE-TIME parser.
    """
    calendar = parsed(data)
    own_zones = {
        str(vtimezone.tzid.value): TimezoneComponent.gettzinfo(vtimezone)
        for vtimezone in calendar.contents.get("vtimezone", [])
    }
    readings: dict[str, dict[str, set[datetime]]] = {}
    for event in calendar.contents.get("vevent", []):
        times: dict[str, set[datetime]] = {}
        for name in ("dtstart", "dtend"):
            (line,) = event.contents[name]
            tzids = line.params.get("TZID", [])
            value = stringToDateTime(line.value, own_zones[tzids[0]] if tzids else None)
            assert value.tzinfo is not None, f"floating time {line.value}"
            times[name] = {value.replace(fold=fold).astimezone(UTC) for fold in (0, 1)}
        readings[str(event.uid.value)] = times
    return readings


def utc_offset(text: str) -> timedelta:
    match = UTC_OFFSET.fullmatch(text)
    assert match is not None, text
    sign, hours, minutes, seconds = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
    return -offset if sign == "-" else offset


def observances(data: bytes) -> list[Any]:
    (vtimezone,) = parsed(data).contents["vtimezone"]
    return [
        component
        for component in vtimezone.getChildren()
        if getattr(component, "name", None) in {"STANDARD", "DAYLIGHT"}
    ]


def onsets(data: bytes) -> list[tuple[datetime, timedelta, timedelta]]:
    """Every onset in the file's VTIMEZONE read by RFC 5545 (3.6.5): its DTSTART, and each
    RDATE, is a local time on the TZOFFSETFROM clock. As (UTC instant, from, to), sorted.
    """
    found = []
    for observance in observances(data):
        assert "rrule" not in observance.contents, "RRULE onsets are not checked here"
        offset_from = utc_offset(observance.tzoffsetfrom.value)
        offset_to = utc_offset(observance.tzoffsetto.value)
        written = [observance.dtstart.value]
        written += [
            text for line in observance.contents.get("rdate", []) for text in line.value.split(",")
        ]
        for text in written:
            wall = datetime.strptime(text, "%Y%m%dT%H%M%S")  # noqa: DTZ007 - a local time
            found.append(((wall - offset_from).replace(tzinfo=UTC), offset_from, offset_to))
    return sorted(found)


@pytest.mark.parametrize("zone_name", ZONES)
def test_a_member_s_calendar_shows_every_session_at_its_instant(zone_name: str) -> None:
    sessions = around_every_change(zone_name)
    readings = vobject_readings(session_calendar("g", zone_name, sessions, now=NOW))
    assert len(readings) == len(sessions)
    for planned in sessions:
        read = readings[session_uid(planned.id)]
        assert read["dtstart"] == {planned.starts_at}, planned
        assert read["dtend"] == {planned.ends_at}, planned


@pytest.mark.parametrize("zone_name", ZONES)
def test_vtimezone_onsets_are_the_zone_s_transitions(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)

    def offset(instant: datetime) -> timedelta | None:
        return instant.astimezone(zone).utcoffset()

    data = session_calendar("g", zone_name, around_every_change(zone_name), now=NOW)
    # The file covers 2026 and 2027: first the clock at local midnight of 1 January 2026,
    # then one onset at the very instant of each change.
    start = datetime(2026, 1, 1, tzinfo=zone).astimezone(UTC)
    expected = [(start, offset(start), offset(start))]
    for change in clock_changes(zone_name):
        assert offset(change - SECOND) != offset(change)  # the change's exact instant
        expected.append((change, offset(change - SECOND), offset(change)))
    assert onsets(data) == expected


@pytest.mark.parametrize("zone_name", ZONES[:3])
def test_every_observance_has_one_onset(zone_name: str) -> None:
    # ical.js ignores the DTSTART of an observance that has RDATEs, so an observance
    # written as "DTSTART plus RDATE for later years" loses its first change there.
    data = session_calendar("g", zone_name, around_every_change(zone_name), now=NOW)
    found = observances(data)
    assert len(found) == 1 + len(clock_changes(zone_name))
    for observance in found:
        assert "rdate" not in observance.contents
        assert "rrule" not in observance.contents


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    zone_name=st.sampled_from(SAMPLE_ZONES),
    minutes=st.integers(min_value=15, max_value=480),
)
def test_any_session_reads_back_in_vobject(
    data: st.DataObject, zone_name: str, minutes: int
) -> None:
    starts = data.draw(st.lists(starts_in(zone_name), min_size=1, max_size=6), label="starts")
    sessions = [session(index, start, minutes) for index, start in enumerate(starts)]
    readings = vobject_readings(session_calendar("g", zone_name, sessions, now=NOW))
    for planned in sessions:
        read = readings[session_uid(planned.id)]
        assert read["dtstart"] == {planned.starts_at}
        assert read["dtend"] == {planned.ends_at}
