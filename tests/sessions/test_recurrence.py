"""Planning sessions in a group's time zone: parsing, series across DST, validation."""

from __future__ import annotations

import calendar
import functools
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bot.sessions.recurrence import (
    LOCAL_START_EXAMPLE,
    LOCAL_START_FORMAT,
    MAX_ZONE_SUGGESTIONS,
    InvalidCount,
    InvalidDuration,
    InvalidRepeat,
    InvalidTimeZone,
    MalformedLocalDate,
    MalformedLocalStart,
    NonexistentLocalTime,
    Repeat,
    SchedulingError,
    StartInPast,
    discord_timestamp,
    ensure_start_in_future,
    format_local_start,
    format_when,
    parse_local_date,
    parse_local_start,
    parse_repeat,
    parse_zone,
    plan_series,
    suggest_zones,
    validate_duration,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

# Zones with different DST habits: northern and southern hemisphere, a 30-minute DST shift
# (Lord Howe), odd offsets (St John's, Chatham, Kolkata), a midnight change (Santiago)
# and none at all (Kolkata, UTC).
SAMPLE_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _utc_offset(local: datetime) -> timedelta:
    offset = local.utcoffset()
    assert offset is not None
    return offset


def local_wall(instant: datetime, zone: ZoneInfo) -> tuple[date, time]:
    """The date and time `zone`'s clocks show at `instant`.

    The time is the reading alone, without PEP 495's fold (which says which run of a
    repeated hour it was): that is what a group meets at, and what is combined again
    with other dates.
    """
    local = instant.astimezone(zone)
    return local.date(), local.time().replace(fold=0)


DST_SAMPLE_ZONES = tuple(name for name in SAMPLE_ZONES if name not in {"Asia/Kolkata", "UTC"})


@functools.cache
def _clock_change_wall_times(zone_name: str, year: int) -> dict[str, tuple[tuple[date, time], ...]]:
    """Whole-minute local times in `year` that DST changes skip ("skipped") or repeat.

    Used to aim generated examples at the rare moments where time zones are tricky.
    """
    zone = ZoneInfo(zone_name)
    found: dict[str, list[tuple[date, time]]] = {"skipped": [], "repeated": []}
    day = date(year, 1, 1)
    while day.year == year:
        noon = datetime.combine(day, time(12), tzinfo=zone)
        if _utc_offset(noon) != _utc_offset(noon - timedelta(days=1)):  # a change since
            for minute_of_day in range(-24 * 60, 12 * 60):  # since yesterday noon
                wall = noon + timedelta(minutes=minute_of_day)  # wall-clock arithmetic
                wall_clock = (wall.date(), wall.time())
                if local_wall(wall.astimezone(UTC), zone) != wall_clock:
                    found["skipped"].append(wall_clock)
                elif _utc_offset(wall) != _utc_offset(wall.replace(fold=1)):
                    found["repeated"].append(wall_clock)
        day += timedelta(days=1)
    return {kind: tuple(times) for kind, times in found.items()}


def _nonexistent_wall_times(zone_name: str, year: int) -> tuple[tuple[date, time], ...]:
    return _clock_change_wall_times(zone_name, year)["skipped"]


def _repeated_wall_times(zone_name: str, year: int) -> tuple[tuple[date, time], ...]:
    return _clock_change_wall_times(zone_name, year)["repeated"]


# --- Repeat ----------------------------------------------------------------------------


def test_repeat_values_are_the_command_choices() -> None:
    assert [repeat.value for repeat in Repeat] == ["once", "weekly", "fortnightly", "monthly"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("weekly", Repeat.WEEKLY), (" Monthly ", Repeat.MONTHLY), ("ONCE", Repeat.ONCE)],
)
def test_parse_repeat_accepts_any_case(text: str, expected: Repeat) -> None:
    assert parse_repeat(text) is expected


def test_parse_repeat_refuses_unknown_and_lists_choices() -> None:
    with pytest.raises(InvalidRepeat, match="once, weekly, fortnightly, monthly"):
        parse_repeat("daily")


# --- time zones ------------------------------------------------------------------------


def test_parse_zone_accepts_exact_name() -> None:
    assert parse_zone("Europe/London").key == "Europe/London"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("europe/london", "Europe/London"),
        ("EUROPE/LONDON", "Europe/London"),
        ("  Europe/London  ", "Europe/London"),
        ("america/new york", "America/New_York"),
        ("utc", "UTC"),
    ],
)
def test_parse_zone_ignores_case_and_spaces_and_returns_canonical_key(
    typed: str, canonical: str
) -> None:
    # Accepted because there is exactly one zone meant; the canonical key is what is stored.
    assert parse_zone(typed).key == canonical


def test_parse_zone_typo_suggests_the_intended_zone_first() -> None:
    with pytest.raises(InvalidTimeZone) as caught:
        parse_zone("Europe/Londn")
    assert caught.value.suggestions[0] == "Europe/London"
    assert len(caught.value.suggestions) <= MAX_ZONE_SUGGESTIONS
    assert "Europe/London" in str(caught.value)
    assert caught.value.name == "Europe/Londn"


@pytest.mark.parametrize(
    ("typed", "expected_first"),
    [("London", "Europe/London"), ("new york", "America/New_York"), ("Sydny", "Australia/Sydney")],
)
def test_parse_zone_refuses_city_alone_but_suggests_its_zone(
    typed: str, expected_first: str
) -> None:
    with pytest.raises(InvalidTimeZone) as caught:
        parse_zone(typed)
    assert caught.value.suggestions[0] == expected_first


def test_parse_zone_nonsense_has_no_suggestions_but_gives_an_example() -> None:
    with pytest.raises(InvalidTimeZone) as caught:
        parse_zone("qqqqqqqq")
    assert caught.value.suggestions == ()
    assert "Europe/London" in str(caught.value)


@pytest.mark.parametrize("name", ["", "localtime", "Factory", "../../etc/passwd", "/etc/localtime"])
def test_parse_zone_refuses_names_that_are_not_places(name: str) -> None:
    with pytest.raises(InvalidTimeZone):
        parse_zone(name)


def test_invalid_time_zone_is_a_scheduling_error_and_a_value_error() -> None:
    with pytest.raises(SchedulingError):
        parse_zone("Nowhere/Atall")
    with pytest.raises(ValueError, match="Nowhere"):
        parse_zone("Nowhere/Atall")


@pytest.mark.parametrize(
    ("text", "expected_first"),
    [
        ("Europe/Lon", "Europe/London"),
        ("lond", "Europe/London"),
        ("york", "America/New_York"),
        ("new_y", "America/New_York"),
        ("europe/london", "Europe/London"),
    ],
)
def test_suggest_zones_ranks_the_obvious_match_first(text: str, expected_first: str) -> None:
    assert suggest_zones(text)[0] == expected_first


def test_suggest_zones_prefers_current_names_to_legacy_aliases() -> None:
    suggestions = suggest_zones("eastern")
    # Only legacy aliases contain "eastern", so they are offered, but "Area/Place" first.
    assert "US/Eastern" in suggestions
    names = suggest_zones("Europe")
    assert all(name.startswith("Europe/") for name in names)


def test_suggest_zones_with_empty_text_offers_common_zones() -> None:
    suggestions = suggest_zones("")
    assert "Europe/London" in suggestions
    assert "America/New_York" in suggestions
    assert len(suggestions) <= 25


def test_suggest_zones_respects_limit() -> None:
    assert len(suggest_zones("America", limit=25)) == 25
    assert len(suggest_zones("a", limit=3)) == 3
    assert suggest_zones("Europe", limit=0) == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=20), st.integers(min_value=0, max_value=25))
def test_suggested_zones_are_always_valid_distinct_and_within_limit(text: str, limit: int) -> None:
    suggestions = suggest_zones(text, limit=limit)
    assert len(suggestions) <= limit
    assert len(set(suggestions)) == len(suggestions)
    for name in suggestions:
        assert parse_zone(name).key == name


# --- parsing local start times ---------------------------------------------------------


def test_parse_local_start_in_winter_london_is_utc() -> None:
    assert parse_local_start("2026-12-01 19:00", LONDON) == utc(2026, 12, 1, 19)


def test_parse_local_start_in_summer_london_is_one_hour_ahead_of_utc() -> None:
    assert parse_local_start("2026-06-01 19:00", LONDON) == utc(2026, 6, 1, 18)


def test_parse_local_start_returns_utc_aware_instant() -> None:
    parsed = parse_local_start("2026-06-01 19:00", NEW_YORK)
    assert parsed.tzinfo is UTC
    assert parsed == utc(2026, 6, 1, 23)


@pytest.mark.parametrize("text", ["2026-12-01T19:00", " 2026-12-01 19:00 ", "2026-12-1 9:00"])
def test_parse_local_start_accepts_iso_separator_and_loose_spacing(text: str) -> None:
    parsed = parse_local_start(text, LONDON)
    assert parsed.astimezone(LONDON).date() == date(2026, 12, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "19:00",
        "2026-12-01",
        "01/12/2026 19:00",
        "2026-12-01 19.00",
        "2026-12-01 19:00:30",
        "2026-12-01 19:00 +01:00",
        "2026-12-01 7pm",
    ],
)
def test_parse_local_start_refuses_other_formats_naming_the_expected_one(text: str) -> None:
    with pytest.raises(MalformedLocalStart) as caught:
        parse_local_start(text, LONDON)
    message = str(caught.value)
    assert LOCAL_START_FORMAT in message
    assert LOCAL_START_EXAMPLE in message


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30 19:00",
        "2026-13-01 19:00",
        "2026-12-01 24:00",
        "2026-12-01 19:60",
        "0000-01-01 10:00",
        "9999-12-31 23:00",
        "1969-12-31 23:00",
    ],
)
def test_parse_local_start_refuses_impossible_dates_and_times(text: str) -> None:
    with pytest.raises(MalformedLocalStart, match=LOCAL_START_FORMAT):
        parse_local_start(text, LONDON)


@pytest.mark.parametrize(
    ("text", "zone", "after_gap"),
    [
        ("2026-03-29 01:30", LONDON, "2026-03-29 02:30"),
        ("2026-03-29 01:00", LONDON, "2026-03-29 02:00"),
        ("2026-03-29 01:59", LONDON, "2026-03-29 02:59"),
        ("2026-03-08 02:30", NEW_YORK, "2026-03-08 03:30"),
    ],
)
def test_parse_local_start_refuses_time_in_spring_forward_gap(
    text: str, zone: ZoneInfo, after_gap: str
) -> None:
    with pytest.raises(NonexistentLocalTime) as caught:
        parse_local_start(text, zone)
    message = str(caught.value)
    assert "does not exist" in message
    assert zone.key in message
    assert after_gap in message
    assert caught.value.after_gap_text == after_gap


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-29 00:59", utc(2026, 3, 29, 0, 59)),
        ("2026-03-29 02:00", utc(2026, 3, 29, 1, 0)),
    ],
)
def test_parse_local_start_accepts_times_either_side_of_the_gap(
    text: str, expected: datetime
) -> None:
    assert parse_local_start(text, LONDON) == expected


@pytest.mark.parametrize(
    ("text", "zone", "first_occurrence"),
    [
        # 01:30 happens twice when clocks go back; the first is still on summer time.
        ("2026-10-25 01:30", LONDON, utc(2026, 10, 25, 0, 30)),
        ("2026-11-01 01:30", NEW_YORK, utc(2026, 11, 1, 5, 30)),
    ],
)
def test_parse_local_start_takes_first_occurrence_of_ambiguous_time(
    text: str, zone: ZoneInfo, first_occurrence: datetime
) -> None:
    parsed = parse_local_start(text, zone)
    assert parsed == first_occurrence
    assert format_local_start(parsed, zone) == text
    assert format_local_start(parsed + timedelta(hours=1), zone) == text  # the second one


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\A\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}\Z"),
    ),
    zone_name=st.sampled_from(SAMPLE_ZONES),
)
def test_parse_local_start_either_parses_or_explains(text: str, zone_name: str) -> None:
    """Any text gives an instant or a message a leader can act on, never a traceback."""
    outcome: datetime | str
    try:
        outcome = parse_local_start(text, ZoneInfo(zone_name))
    except SchedulingError as error:
        outcome = str(error)
    if isinstance(outcome, str):
        assert LOCAL_START_FORMAT in outcome or "does not exist" in outcome
    else:
        assert outcome.tzinfo is UTC


def test_format_local_start_shows_the_wall_clock() -> None:
    assert format_local_start(utc(2026, 6, 1, 18), LONDON) == "2026-06-01 19:00"


@st.composite
def zone_and_wall_time(draw: st.DrawFn) -> tuple[ZoneInfo, date, time]:
    """A zone and a local date and time in it; half of them skipped or repeated by DST."""
    if draw(st.booleans()):
        zone_name = draw(st.sampled_from(DST_SAMPLE_ZONES))
        year = draw(st.integers(2025, 2034))
        kind = draw(st.sampled_from(["skipped", "repeated"]))
        day, wall = draw(st.sampled_from(_clock_change_wall_times(zone_name, year)[kind]))
        return ZoneInfo(zone_name), day, wall
    zone = ZoneInfo(draw(st.sampled_from(SAMPLE_ZONES)))
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)))
    return zone, day, time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))


def _instants_showing(zone: ZoneInfo, day: date, wall: time) -> set[datetime]:
    """Every instant at which `zone`'s clocks read `wall` on `day`, found by brute force.

    Tries each UTC offset the zone uses within a day either side and keeps the instants
    that really display that wall time: none in a gap, two in an overlap.
    """
    as_if_utc = datetime.combine(day, wall, tzinfo=UTC)
    offsets = {
        _utc_offset((as_if_utc + timedelta(hours=hours)).astimezone(zone))
        for hours in range(-26, 27)
    }
    candidates = {as_if_utc - offset for offset in offsets}
    return {instant for instant in candidates if local_wall(instant, zone) == (day, wall)}


@settings(max_examples=200, deadline=None)
@given(zone_and_wall_time())
def test_parse_local_start_is_the_first_instant_showing_that_time_or_refuses_a_gap(
    zone_day_wall: tuple[ZoneInfo, date, time],
) -> None:
    zone, day, wall = zone_day_wall
    text = f"{day.isoformat()} {wall:%H:%M}"
    instants = _instants_showing(zone, day, wall)
    if not instants:
        event("time in a DST gap")
        with pytest.raises(NonexistentLocalTime):
            parse_local_start(text, zone)
        return
    if len(instants) > 1:
        event("ambiguous time")
    parsed = parse_local_start(text, zone)
    assert parsed == min(instants)
    assert format_local_start(parsed, zone) == text


# --- series: examples across DST -------------------------------------------------------


def test_weekly_london_across_march_change_keeps_19_00_local() -> None:
    first = parse_local_start("2026-03-18 19:00", LONDON)
    starts = plan_series(first, LONDON, Repeat.WEEKLY, 3)
    # Clocks go forward on Sunday 29 March 2026.
    assert starts == [utc(2026, 3, 18, 19), utc(2026, 3, 25, 19), utc(2026, 4, 1, 18)]
    assert all(s.astimezone(LONDON).time() == time(19, 0) for s in starts)
    assert starts[0].astimezone(LONDON).utcoffset() == timedelta(0)
    assert starts[2].astimezone(LONDON).utcoffset() == timedelta(hours=1)


def test_weekly_london_across_october_change_keeps_19_00_local() -> None:
    first = parse_local_start("2026-10-14 19:00", LONDON)
    starts = plan_series(first, LONDON, Repeat.WEEKLY, 3)
    # Clocks go back on Sunday 25 October 2026.
    assert starts == [utc(2026, 10, 14, 18), utc(2026, 10, 21, 18), utc(2026, 10, 28, 19)]


def test_weekly_new_york_across_march_and_november_changes() -> None:
    march = plan_series(parse_local_start("2026-03-01 19:00", NEW_YORK), NEW_YORK, Repeat.WEEKLY, 2)
    # 8 March 2026 clocks go forward: 19:00 EST is 00:00 UTC, 19:00 EDT is 23:00 UTC.
    assert march == [utc(2026, 3, 2, 0), utc(2026, 3, 8, 23)]
    november = plan_series(
        parse_local_start("2026-10-28 19:00", NEW_YORK), NEW_YORK, Repeat.WEEKLY, 2
    )
    # 1 November 2026 clocks go back.
    assert november == [utc(2026, 10, 28, 23), utc(2026, 11, 5, 0)]


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        (LONDON, "2026-03-18 19:00", [utc(2026, 3, 18, 19), utc(2026, 4, 1, 18)]),
        (LONDON, "2026-10-14 19:00", [utc(2026, 10, 14, 18), utc(2026, 10, 28, 19)]),
        (NEW_YORK, "2026-02-26 19:30", [utc(2026, 2, 27, 0, 30), utc(2026, 3, 12, 23, 30)]),
        (NEW_YORK, "2026-10-22 19:30", [utc(2026, 10, 22, 23, 30), utc(2026, 11, 6, 0, 30)]),
    ],
)
def test_fortnightly_across_dst_changes_keeps_local_time(
    zone: ZoneInfo, text: str, expected: list[datetime]
) -> None:
    assert plan_series(parse_local_start(text, zone), zone, Repeat.FORTNIGHTLY, 2) == expected


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        (
            LONDON,
            "2026-02-15 19:00",
            [utc(2026, 2, 15, 19), utc(2026, 3, 15, 19), utc(2026, 4, 15, 18)],
        ),
        (
            LONDON,
            "2026-09-20 19:00",
            [utc(2026, 9, 20, 18), utc(2026, 10, 20, 18), utc(2026, 11, 20, 19)],
        ),
        (
            NEW_YORK,
            "2026-02-10 18:45",
            [utc(2026, 2, 10, 23, 45), utc(2026, 3, 10, 22, 45), utc(2026, 4, 10, 22, 45)],
        ),
        (
            NEW_YORK,
            "2026-10-05 18:45",
            [utc(2026, 10, 5, 22, 45), utc(2026, 11, 5, 23, 45), utc(2026, 12, 5, 23, 45)],
        ),
    ],
)
def test_monthly_across_dst_changes_keeps_local_time(
    zone: ZoneInfo, text: str, expected: list[datetime]
) -> None:
    starts = plan_series(parse_local_start(text, zone), zone, Repeat.MONTHLY, 3)
    assert starts == expected
    offsets = {s.astimezone(zone).utcoffset() for s in starts}
    assert len(offsets) == 2  # the UTC offset changed, the wall clock did not
    assert len({s.astimezone(zone).time() for s in starts}) == 1


def test_monthly_on_the_31st_uses_the_last_day_of_shorter_months() -> None:
    starts = plan_series(parse_local_start("2026-01-31 19:00", LONDON), LONDON, Repeat.MONTHLY, 5)
    assert [s.astimezone(LONDON).date() for s in starts] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),  # back to the 31st: counted from the first session
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_monthly_on_the_30th_in_a_leap_year_gives_29_february() -> None:
    starts = plan_series(parse_local_start("2028-01-30 10:00", LONDON), LONDON, Repeat.MONTHLY, 3)
    assert [s.astimezone(LONDON).date() for s in starts] == [
        date(2028, 1, 30),
        date(2028, 2, 29),
        date(2028, 3, 30),
    ]


def test_monthly_crosses_the_year_end() -> None:
    starts = plan_series(parse_local_start("2026-11-15 19:00", LONDON), LONDON, Repeat.MONTHLY, 3)
    assert [s.astimezone(LONDON).date() for s in starts] == [
        date(2026, 11, 15),
        date(2026, 12, 15),
        date(2027, 1, 15),
    ]


def test_weekly_time_in_gap_moves_forward_by_the_gap_that_week_only() -> None:
    first = parse_local_start("2026-03-01 02:30", NEW_YORK)
    starts = plan_series(first, NEW_YORK, Repeat.WEEKLY, 3)
    assert [format_local_start(s, NEW_YORK) for s in starts] == [
        "2026-03-01 02:30",
        "2026-03-08 03:30",  # 02:30 does not exist that night
        "2026-03-15 02:30",
    ]


def test_weekly_london_early_morning_time_in_gap_moves_forward() -> None:
    first = parse_local_start("2026-03-22 01:30", LONDON)
    starts = plan_series(first, LONDON, Repeat.WEEKLY, 3)
    assert [format_local_start(s, LONDON) for s in starts] == [
        "2026-03-22 01:30",
        "2026-03-29 02:30",
        "2026-04-05 01:30",
    ]
    assert starts[1] == utc(2026, 3, 29, 1, 30)


def test_lord_howe_half_hour_gap_moves_forward_half_an_hour() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    first = parse_local_start("2026-09-27 02:10", lord_howe)
    starts = plan_series(first, lord_howe, Repeat.WEEKLY, 2)
    assert format_local_start(starts[1], lord_howe) == "2026-10-04 02:40"


def test_weekly_series_landing_on_ambiguous_time_takes_first_occurrence() -> None:
    first = parse_local_start("2026-10-25 01:30", NEW_YORK)
    starts = plan_series(first, NEW_YORK, Repeat.WEEKLY, 2)
    assert starts[1] == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST


# A first start may be any instant (a stored one, say), including the second run of a
# repeated hour: London's 01:30 GMT on 25 October 2026, after 01:30 BST an hour before.
LONDON_SECOND_0130 = utc(2026, 10, 25, 1, 30)


def test_first_start_in_the_second_run_of_a_repeated_hour_is_kept() -> None:
    assert LONDON_SECOND_0130.astimezone(LONDON).fold == 1
    starts = plan_series(LONDON_SECOND_0130, LONDON, Repeat.WEEKLY, 2)
    assert starts == [LONDON_SECOND_0130, utc(2026, 11, 1, 1, 30)]


def test_second_run_first_start_does_not_move_a_later_gap_session_an_hour_early() -> None:
    starts = plan_series(LONDON_SECOND_0130, LONDON, Repeat.WEEKLY, 23)
    # 01:30 does not exist on 28 March 2027 (01:00 GMT jumps to 02:00 BST): like every
    # series at 01:30, the session moves forward by the gap, to 02:30 BST (01:30 UTC),
    # not back to 00:30 GMT (00:30 UTC), which an inherited fold=1 would give.
    assert starts[22] == utc(2027, 3, 28, 1, 30)
    assert format_local_start(starts[22], LONDON) == "2027-03-28 02:30"
    assert all(format_local_start(s, LONDON).endswith(" 01:30") for s in starts[:22])
    # Later sessions are the same whichever run of 01:30 the series started in.
    first_run = parse_local_start("2026-10-25 01:30", LONDON)
    assert first_run == utc(2026, 10, 25, 0, 30)
    assert starts[1:] == plan_series(first_run, LONDON, Repeat.WEEKLY, 23)[1:]


def test_second_run_first_start_takes_the_first_run_of_a_later_repeated_hour() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    # 01:45 on 5 April 2026 happens twice (02:00 +11:00 goes back to 01:30 +10:30);
    # this is the second, and 4 April 2027, 26 fortnights on, repeats it again.
    first = utc(2026, 4, 4, 15, 15)
    assert first.astimezone(lord_howe).fold == 1
    starts = plan_series(first, lord_howe, Repeat.FORTNIGHTLY, 27)
    assert starts[0] == first
    assert starts[26] == utc(2027, 4, 3, 14, 45)  # 01:45 +11:00, not 01:45 +10:30
    assert starts[26].astimezone(lord_howe).fold == 0


def test_once_plans_the_single_given_start() -> None:
    first = utc(2026, 12, 1, 19)
    assert plan_series(first, LONDON, Repeat.ONCE, 1) == [first]


def test_once_with_a_count_above_one_is_refused_rather_than_ignored() -> None:
    with pytest.raises(InvalidCount, match="once"):
        plan_series(utc(2026, 12, 1, 19), LONDON, Repeat.ONCE, 3)


@pytest.mark.parametrize("count", [0, -1, 53, 100])
def test_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(InvalidCount, match="1 to 52"):
        plan_series(utc(2026, 12, 1, 19), LONDON, Repeat.WEEKLY, count)


def test_count_bounds_are_accepted() -> None:
    assert len(plan_series(utc(2026, 12, 1, 19), LONDON, Repeat.WEEKLY, 52)) == 52


def test_plan_series_accepts_repeat_as_its_string_value() -> None:
    starts = plan_series(utc(2026, 12, 1, 19), LONDON, Repeat("fortnightly"), 2)
    assert starts[1] - starts[0] == timedelta(days=14)


def test_plan_series_refuses_naive_start() -> None:
    naive = utc(2026, 12, 1, 19).replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        plan_series(naive, LONDON, Repeat.WEEKLY, 2)


def test_plan_series_normalises_a_start_given_in_another_zone_to_utc() -> None:
    first = datetime(2026, 12, 1, 19, 0, tzinfo=LONDON)
    starts = plan_series(first, LONDON, Repeat.WEEKLY, 2)
    assert all(s.tzinfo is UTC for s in starts)
    assert starts[0] == first


# --- series: properties ----------------------------------------------------------------


@st.composite
def series_inputs(draw: st.DrawFn) -> tuple[datetime, ZoneInfo, Repeat, int]:
    """A first session, zone, repeat and count, anywhere in 2024 to 2035."""
    zone = ZoneInfo(draw(st.sampled_from(SAMPLE_ZONES)))
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)))
    wall = time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
    first = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    repeat = draw(st.sampled_from(Repeat))
    count = 1 if repeat is Repeat.ONCE else draw(st.integers(1, 52))
    return first, zone, repeat, count


@st.composite
def series_through_a_gap(draw: st.DrawFn) -> tuple[datetime, ZoneInfo, Repeat, int]:
    """A weekly or fortnightly series whose wall time is skipped on one of its dates.

    Random series rarely land in a gap (an hour a year), so this aims at one: it picks a
    skipped local time and starts the series a few steps earlier on the same weekday.
    """
    zone_name = draw(st.sampled_from(DST_SAMPLE_ZONES))
    gap_day, wall = draw(
        st.sampled_from(_nonexistent_wall_times(zone_name, draw(st.integers(2025, 2034))))
    )
    repeat = draw(st.sampled_from([Repeat.WEEKLY, Repeat.FORTNIGHTLY]))
    steps_before = draw(st.integers(1, 20))
    step = timedelta(days=7 if repeat is Repeat.WEEKLY else 14)
    zone = ZoneInfo(zone_name)
    first = datetime.combine(gap_day - steps_before * step, wall, tzinfo=zone).astimezone(UTC)
    count = draw(st.integers(steps_before + 1, 52))
    return first, zone, repeat, count


@st.composite
def series_from_a_repeated_hour(draw: st.DrawFn) -> tuple[datetime, ZoneInfo, Repeat, int]:
    """A series whose first session is in an hour a clock change repeats, in either run
    of it (PEP 495 fold 0 or 1), as a stored instant can be. Later dates then meet
    spring gaps and repeated hours at that wall time, where an inherited fold shows."""
    zone_name = draw(st.sampled_from(DST_SAMPLE_ZONES))
    day, wall = draw(
        st.sampled_from(_repeated_wall_times(zone_name, draw(st.integers(2025, 2034))))
    )
    zone = ZoneInfo(zone_name)
    fold = draw(st.integers(0, 1))
    first = datetime.combine(day, wall, tzinfo=zone).replace(fold=fold).astimezone(UTC)
    repeat = draw(st.sampled_from([Repeat.WEEKLY, Repeat.FORTNIGHTLY, Repeat.MONTHLY]))
    return first, zone, repeat, draw(st.integers(1, 52))


any_series = st.one_of(series_inputs(), series_through_a_gap(), series_from_a_repeated_hour())

# Series from the second run of a repeated hour that meet a gap (London, March 2027)
# and another repeated hour (Lord Howe, April 2027) at their wall time.
SECOND_RUN_EXAMPLES = (
    (LONDON_SECOND_0130, LONDON, Repeat.WEEKLY, 23),
    (utc(2026, 4, 4, 15, 15), ZoneInfo("Australia/Lord_Howe"), Repeat.FORTNIGHTLY, 27),
)


def _intended_date(first: date, repeat: Repeat, index: int) -> date:
    """Independent restatement of the recurrence rules, for checking plan_series."""
    if index == 0:
        return first
    if repeat is Repeat.WEEKLY:
        return first + timedelta(days=7 * index)
    if repeat is Repeat.FORTNIGHTLY:
        return first + timedelta(days=14 * index)
    assert repeat is Repeat.MONTHLY
    year = first.year + (first.month - 1 + index) // 12
    month = (first.month - 1 + index) % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


@settings(max_examples=150, deadline=None)
@given(any_series)
def test_series_has_count_increasing_utc_instants_starting_at_first(
    inputs: tuple[datetime, ZoneInfo, Repeat, int],
) -> None:
    first, zone, repeat, count = inputs
    starts = plan_series(first, zone, repeat, count)
    assert len(starts) == count
    assert starts[0] == first
    assert all(start.tzinfo is UTC for start in starts)
    assert all(earlier < later for earlier, later in itertools.pairwise(starts))


@settings(max_examples=150, deadline=None)
@given(any_series)
@example(SECOND_RUN_EXAMPLES[0])
@example(SECOND_RUN_EXAMPLES[1])
def test_series_keeps_wall_clock_time_unless_shifted_out_of_a_gap(
    inputs: tuple[datetime, ZoneInfo, Repeat, int],
) -> None:
    first, zone, repeat, count = inputs
    first_date, wall_time = local_wall(first, zone)
    for index, start in enumerate(plan_series(first, zone, repeat, count)):
        intended_date = _intended_date(first_date, repeat, index)
        actual_date, actual_time = local_wall(start, zone)
        requested = datetime.combine(intended_date, wall_time, tzinfo=zone)
        if local_wall(requested.astimezone(UTC), zone) == (intended_date, wall_time):
            assert (actual_date, actual_time) == (intended_date, wall_time)
            continue
        # The wall time does not exist that day: moved forward by exactly the gap.
        event("moved out of a DST gap")
        gap = _utc_offset(start.astimezone(zone)) - _utc_offset(requested)
        assert gap > timedelta(0)
        as_if_utc = datetime.combine(intended_date, wall_time, tzinfo=UTC) + gap
        assert (as_if_utc.date(), as_if_utc.time()) == (actual_date, actual_time)


@settings(max_examples=150, deadline=None)
@given(any_series)
@example(SECOND_RUN_EXAMPLES[0])
@example(SECOND_RUN_EXAMPLES[1])
def test_later_sessions_never_repeat_a_second_run_of_a_repeated_hour(
    inputs: tuple[datetime, ZoneInfo, Repeat, int],
) -> None:
    """Only the first session may be in the second run of a repeated hour (it is the
    instant given); every later one at an ambiguous wall time takes its first run."""
    first, zone, repeat, count = inputs
    starts = plan_series(first, zone, repeat, count)
    assert starts[0] == first
    first_date, wall_time = local_wall(first, zone)
    for index, start in enumerate(starts[1:], start=1):
        local = start.astimezone(zone)
        if local.fold == 0 and local.replace(fold=1).utcoffset() != local.utcoffset():
            event("later session in a repeated hour")
        assert local.fold == 0, f"session {index} at {local} is a second run"
        # ... and it is the first instant that shows the wall time (or, in a gap, the
        # instant read with the offset before the gap), never an hour earlier or later.
        requested = datetime.combine(_intended_date(first_date, repeat, index), wall_time)
        assert start == requested.replace(tzinfo=zone).astimezone(UTC)


@settings(max_examples=100, deadline=None)
@given(any_series)
def test_weekly_and_fortnightly_local_dates_are_exactly_7_or_14_days_apart(
    inputs: tuple[datetime, ZoneInfo, Repeat, int],
) -> None:
    first, zone, repeat, count = inputs
    step = {Repeat.WEEKLY: 7, Repeat.FORTNIGHTLY: 14}.get(repeat)
    if step is None:
        return
    dates = [local_wall(start, zone)[0] for start in plan_series(first, zone, repeat, count)]
    assert all((later - earlier).days == step for earlier, later in itertools.pairwise(dates))


@settings(max_examples=100, deadline=None)
@given(any_series)
def test_monthly_sessions_fall_in_consecutive_months_on_the_same_or_last_day(
    inputs: tuple[datetime, ZoneInfo, Repeat, int],
) -> None:
    first, zone, _, count = inputs
    dates = [local_wall(s, zone)[0] for s in plan_series(first, zone, Repeat.MONTHLY, count)]
    first_day = dates[0].day
    for earlier, later in itertools.pairwise(dates):
        assert (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month) == 1
    for day in dates:
        assert day.day == min(first_day, calendar.monthrange(day.year, day.month)[1])


# --- validation for the session command ------------------------------------------------


@pytest.mark.parametrize("minutes", [15, 90, 480])
def test_duration_in_range_becomes_a_timedelta(minutes: int) -> None:
    assert validate_duration(minutes) == timedelta(minutes=minutes)


@pytest.mark.parametrize("minutes", [-5, 0, 14, 481, 10_000])
def test_duration_out_of_range_is_refused(minutes: int) -> None:
    with pytest.raises(InvalidDuration, match="15 to 480"):
        validate_duration(minutes)


def test_start_after_now_is_accepted() -> None:
    ensure_start_in_future(utc(2026, 12, 1, 19), now=utc(2026, 12, 1, 18, 59))


@pytest.mark.parametrize(
    "start", [utc(2026, 12, 1, 19), utc(2026, 12, 1, 18), utc(2025, 12, 1, 19)]
)
def test_start_at_or_before_now_is_refused_as_in_the_past(start: datetime) -> None:
    with pytest.raises(StartInPast, match="in the past") as caught:
        ensure_start_in_future(start, now=utc(2026, 12, 1, 19))
    assert format_when(start) in str(caught.value)


def test_start_check_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_start_in_future(utc(2026, 12, 1, 19), now=utc(2026, 1, 1, 0).replace(tzinfo=None))


# --- showing times ---------------------------------------------------------------------


def test_discord_timestamp_styles() -> None:
    instant = utc(2026, 12, 1, 19)
    assert discord_timestamp(instant) == "<t:1796151600:F>"
    assert discord_timestamp(instant, "R") == "<t:1796151600:R>"
    assert discord_timestamp(instant, "d") == "<t:1796151600:d>"


def test_discord_timestamp_is_the_same_for_the_same_instant_in_any_zone() -> None:
    instant = utc(2026, 6, 1, 18)
    assert discord_timestamp(instant.astimezone(LONDON)) == discord_timestamp(instant)


def test_discord_timestamp_drops_fractions_of_a_second() -> None:
    assert discord_timestamp(utc(2026, 12, 1, 19) + timedelta(milliseconds=999)) == (
        "<t:1796151600:F>"
    )


def test_discord_timestamp_refuses_unknown_style_and_naive_instant() -> None:
    with pytest.raises(ValueError, match="style"):
        discord_timestamp(utc(2026, 12, 1, 19), "X")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        discord_timestamp(utc(2026, 12, 1, 19).replace(tzinfo=None))


def test_format_when_shows_full_and_relative_time() -> None:
    assert format_when(utc(2026, 12, 1, 19)) == "<t:1796151600:F> (<t:1796151600:R>)"


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2026-02-30", "01/12/2026"])
def test_parse_local_date_refuses_unreadable_and_extreme_dates(text: str) -> None:
    with pytest.raises(MalformedLocalDate, match="YYYY-MM-DD"):
        parse_local_date(text, ZoneInfo("Asia/Tokyo"), "`to`")


def test_parse_local_date_is_local_midnight() -> None:
    assert parse_local_date("2026-07-01", ZoneInfo("Europe/London")) == datetime(
        2026, 6, 30, 23, 0, tzinfo=UTC
    )
