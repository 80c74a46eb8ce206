"""The attendance rules, directly: reading `present`, when a record closes, who missed
two in a row, the answers' threshold, the keys; and the leaders' log as a CSV file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.attendance.log import HEADER, LedSession, leader_log_csv, spreadsheet_safe
from bot.attendance.rules import (
    RecordedSession,
    answers_checked_at,
    answers_key,
    attending_threshold,
    editing_closed,
    missed_in_a_row,
    missed_key,
    parse_present,
    too_few_attending,
)
from bot.groups.rules import MeetingFormat, Role
from bot.kernel.errors import Refusal

T0 = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)


# -- present ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("<@11>", [11]),
        ("<@11> <@12>", [11, 12]),
        ("<@!11>,<@12>;  <@13>", [11, 12, 13]),
        ("<@12> <@11> <@12>", [12, 11]),  # once each, in the order given
        ("  <@1234567890123456789>\n", [1234567890123456789]),
    ],
)
def test_present_reads_mentions(text: str, ids: list[int]) -> None:
    assert parse_present(text) == ids


@pytest.mark.parametrize(
    "text", ["@zebedee", "<@11> zebedee", "<@&99>", "<@11> <#5>", "11 12", "<@11><@x>"]
)
def test_present_refuses_anything_but_mentions_without_quoting_it(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_present(text)
    assert "mentions only" in refused.value.message
    assert not refused.value.quoted
    assert "zebedee" not in str(refused.value)


@pytest.mark.parametrize("text", ["", "  ", ", ;"])
def test_present_refuses_naming_nobody(text: str) -> None:
    with pytest.raises(Refusal, match="names nobody"):
        parse_present(text)


@given(st.lists(st.integers(min_value=1, max_value=2**63), min_size=1, max_size=30))
def test_any_list_of_mentions_reads_back(ids: list[int]) -> None:
    text = " ".join(f"<@{user}>" for user in ids)
    assert parse_present(text) == list(dict.fromkeys(ids))


# -- editing and the two in a row -----------------------------------------------------------


def test_a_record_closes_when_the_next_session_starts() -> None:
    assert not editing_closed(None, T0)
    assert not editing_closed(T0 + WEEK, T0 + WEEK - timedelta(seconds=1))
    assert editing_closed(T0 + WEEK, T0 + WEEK)


def recorded(days: int, *present: int) -> RecordedSession:
    return RecordedSession(days, T0 + timedelta(days=days), frozenset(present))


MEMBERS = {11: T0 - WEEK, 12: T0 - WEEK, 13: T0 + timedelta(days=3)}


def test_missed_two_in_a_row_needs_two_records_without_them() -> None:
    latest = [recorded(7, 11), recorded(0, 11)]
    # 13 joined after the earlier session: it did not miss it
    assert missed_in_a_row(latest, MEMBERS) == [12]
    assert missed_in_a_row([recorded(7, 11)], MEMBERS) == []  # one record: nothing yet
    assert missed_in_a_row([recorded(7), recorded(0, 12)], MEMBERS) == [11]
    # only the two newest count (13 had joined by the earlier of them)
    assert missed_in_a_row([recorded(14, 11, 12), recorded(7), recorded(0)], MEMBERS) == [13]


def test_a_member_who_joined_before_both_counts() -> None:
    latest = [recorded(14), recorded(7)]
    assert missed_in_a_row(latest, MEMBERS) == [11, 12, 13]


# -- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "threshold"), [(0, 0), (1, 1), (5, 5), (6, 6), (7, 6), (12, 6)]
)
def test_the_threshold_is_six_or_the_groups_size(members: int, threshold: int) -> None:
    assert attending_threshold(members) == threshold
    assert not too_few_attending(threshold, members)
    if threshold:
        assert too_few_attending(threshold - 1, members)


def test_the_check_is_due_a_day_before_and_keys_are_distinct() -> None:
    assert answers_checked_at(T0) == T0 - timedelta(hours=12)
    assert answers_key(1, 2, 0) != answers_key(1, 2, 1)
    assert answers_key(1, 2, 0).startswith("attendance:group:1:session:2:")
    assert missed_key(1, 2, 11) == "attendance:group:1:session:2:missed:11"
    assert missed_key(1, 2, 11) != missed_key(1, 21, 1)


# -- the leaders' log -----------------------------------------------------------------------


def led(group: str, *, present: int | None = 4, role: Role = Role.LEADER) -> LedSession:
    return LedSession(
        starts_at=datetime(2026, 7, 7, 18, 30, tzinfo=UTC),  # 19:30 in London (BST)
        timezone="Europe/London",
        group=group,
        role=role,
        minutes=90,
        meeting_format=MeetingFormat.ONLINE,
        present=present,
    )


def read_back(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel looks for
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_log_is_a_csv_with_a_header_in_the_groups_time() -> None:
    rows = read_back(leader_log_csv([led('Zoë\'s, "Tuesday"\ngroup'), led("B", present=None)]))
    assert rows == [
        list(HEADER),
        ["2026-07-07 19:30", 'Zoë\'s, "Tuesday"\ngroup', "leader", "90", "online", "4"],
        ["2026-07-07 19:30", "B", "leader", "90", "online", ""],
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_shown_as_text(start: str) -> None:
    name = f'{start}HYPERLINK("x")'
    assert spreadsheet_safe(name) == "'" + name
    [_, row] = read_back(leader_log_csv([led(name, role=Role.CO_LEADER)]))
    assert row[1] == "'" + name
    assert row[2] == "co-leader"


def test_ordinary_cells_are_left_alone() -> None:
    assert spreadsheet_safe("Tuesday = good") == "Tuesday = good"
    assert spreadsheet_safe("") == ""
