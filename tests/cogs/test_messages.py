"""Splitting what the bot says into Discord messages without breaking its markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.errors import Refusal
from bot.sessions.recurrence import format_when
from cogs._common.messages import MESSAGE_LIMIT, chunk_sections, refusal_text

# Discord markup that shows as raw text when cut in two: timestamps and mentions.
MARKUP = re.compile(r"<t:-?\d+(:[tTdDfFR])?>|<@!?\d+>")


def broken_markup(message: str) -> str:
    """What is left of `<…>` markup once every whole timestamp and mention is removed:
    empty unless a piece of one was cut off at the start or end of the message."""
    return "".join(re.findall(r"[<>]", MARKUP.sub("", message)))


def session_list(count: int) -> list[str]:
    """The sections of `/session list` for a group with `count` upcoming sessions."""
    first = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    lines = [
        f"- {format_when(first + timedelta(weeks=week))}, 90 min, "
        f"presenter: <@{412345678901234567 + week}>; 3 attending, 1 can't make it"
        for week in range(count)
    ]
    return ["**Tuesday**: upcoming sessions", "\n".join(lines)]


def lines_of(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.split("\n") if line.strip()]


# -- examples ------------------------------------------------------------------------------------


def test_a_list_of_25_sessions_splits_between_lines_and_keeps_its_markup_whole() -> None:
    sections = session_list(25)
    assert len("\n\n".join(sections)) > MESSAGE_LIMIT  # the case that used to break

    messages = chunk_sections(sections)

    assert len(messages) == 2
    for message in messages:
        assert 0 < len(message) <= MESSAGE_LIMIT
        assert broken_markup(message) == "", message
        assert not message.startswith(("t:", "@")), message
    # the heading shares the first message with the first sessions
    heading, first_session = messages[0].split("\n\n")[0], messages[0].split("\n\n")[1]
    assert heading == "**Tuesday**: upcoming sessions"
    assert first_session.startswith("- <t:")
    # every session line arrives whole and in order
    assert lines_of(messages) == lines_of(sections)
    assert len(MARKUP.findall("".join(messages))) == 25 * 3


def test_short_sections_share_a_message_separated_by_a_blank_line() -> None:
    assert chunk_sections(["**Heading**", "one\ntwo", "three"]) == [
        "**Heading**\n\none\ntwo\n\nthree"
    ]


def test_a_section_that_fits_a_message_is_not_split_but_moves_to_the_next() -> None:
    assert chunk_sections(["a" * 7, "bb\ncc"], limit=10) == ["a" * 7, "bb\ncc"]


def test_a_long_section_fills_the_current_message_line_by_line() -> None:
    long_section = "\n".join(["1111", "2222", "3333", "4444"])
    assert chunk_sections(["head", long_section], limit=16) == [
        "head\n\n1111\n2222",
        "3333\n4444",
    ]


def test_only_a_line_longer_than_a_message_is_cut_after_a_space_where_possible() -> None:
    mention = "<@412345678901234567>"
    line = " ".join([mention] * 150)  # 3,299 characters on one line
    messages = chunk_sections([line])
    assert all(len(message) <= MESSAGE_LIMIT for message in messages)
    assert all(broken_markup(message) == "" for message in messages)
    assert "".join(messages) == line

    assert chunk_sections(["x" * 25], limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_nothing_to_say_gives_no_message_and_blank_lines_never_open_or_close_one() -> None:
    assert chunk_sections([]) == []
    assert chunk_sections(["", "  ", "\n\n"]) == []
    assert chunk_sections(["", "text", ""]) == ["text"]
    assert chunk_sections(["a" * 10 + "\n\n\n" + "b" * 10], limit=10) == ["a" * 10, "b" * 10]


def test_a_limit_must_leave_room_for_text() -> None:
    with pytest.raises(ValueError, match="limit"):
        chunk_sections(["text"], limit=0)


# -- properties ------------------------------------------------------------------------------------

# Text with the characters the splitting cares about: newlines, spaces and markup.
TEXT = st.text(alphabet=st.sampled_from("ab <@t:>\n"), max_size=120)
SECTIONS = st.lists(TEXT, max_size=8)
LIMITS = st.integers(min_value=1, max_value=40)


@given(SECTIONS, LIMITS)
def test_every_message_fits_and_has_something_to_show(sections: list[str], limit: int) -> None:
    for message in chunk_sections(sections, limit):
        assert 0 < len(message) <= limit
        assert message.strip()


@given(SECTIONS, LIMITS)
def test_no_character_is_lost_or_reordered(sections: list[str], limit: int) -> None:
    """Only line breaks and blank lines change: every other character arrives in order."""
    messages = chunk_sections(sections, limit)
    assert re.sub(r"\s", "", "".join(messages)) == re.sub(r"\s", "", "".join(sections))


@given(SECTIONS, LIMITS)
def test_lines_that_fit_arrive_whole_and_in_order(sections: list[str], limit: int) -> None:
    messages = chunk_sections(sections, limit)
    shown = lines_of(messages)
    short = [line for line in lines_of(sections) if len(line) <= limit]
    # every line that fits in a message is one line of a message, in the input's order
    remaining = iter(shown)
    assert all(any(line == other for other in remaining) for line in short), (short, shown)
    if all(len(line) <= limit for line in lines_of(sections)):
        assert shown == lines_of(sections)


@given(st.lists(TEXT.map(lambda text: text.strip()), max_size=8), LIMITS)
def test_a_section_that_fits_stays_in_one_message(sections: list[str], limit: int) -> None:
    messages = chunk_sections(sections, limit)
    for section in sections:
        if section and len(section) <= limit:
            assert any(section in message for message in messages), (section, messages)


def test_a_refusal_shows_quoted_user_text_escaped_and_short() -> None:
    """The one place refusals are escaped: markdown and mentions in what a user typed
    show literally, and a long input is cut so the refusal itself fits."""
    typed = "@everyone **Tue** " + "x" * 3000
    shown = refusal_text(Refusal("I don't know a group called **{name}** here.", name=typed))
    assert shown.startswith("I don't know a group called **@\u200beveryone \\*\\*Tue\\*\\*")
    assert len(shown) < 200
