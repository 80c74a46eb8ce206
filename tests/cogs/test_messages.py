"""Splitting what the bot says into Discord messages without breaking its markup (answers
and messages it sends on its own), refusals quoting user text short, and autocomplete
choice names within Discord's limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.errors import Refusal
from bot.reminders.rules import reminder_nonce
from bot.sessions.recurrence import format_when
from cogs._common.autocomplete import CHOICE_NAME_LIMIT, choice_name
from cogs._common.messages import (
    MESSAGE_LIMIT,
    NONCE_LIMIT,
    chunk_sections,
    part_nonce,
    plain,
    post,
    refusal_of,
    refusal_text,
)

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


# Discord renders <@id>, <@!id>, <@&id>, <#id> and </name:id> as mentions whatever the id's
# length (an unknown id shows as "@unknown-role"), and @everyone and @here as mass mentions.
RENDERED_MENTION = re.compile(r"<@[!&]?\d+>|<#\d+>|</[^\s:>]+:\d+>|@(everyone|here)")


@pytest.mark.parametrize(
    "typed",
    [
        "<@&1>",  # a role, by an id too short for discord.py's own escape
        "<@&123456789012345678>",
        "<@42>",
        "<@!42>",
        "<@123456789012345678>",
        "<#7>",
        "</help:1>",
        "@everyone and @here",
        "<<@&1>>",
    ],
)
def test_plain_text_never_renders_as_a_mention(typed: str) -> None:
    shown = plain(typed)
    assert RENDERED_MENTION.search(shown) is None, shown
    assert shown.replace("\u200b", "") == typed  # it reads the same


@given(st.text(st.sampled_from("<@&!#/:>0123 everyonhr*_\\`")))
def test_no_user_text_renders_as_a_mention(typed: str) -> None:
    assert RENDERED_MENTION.search(plain(typed)) is None


def test_plain_leaves_other_angle_brackets_and_timestamps_alone() -> None:
    assert plain("a <b> c, <t:0:R>, <https://example.com>") == (
        "a <b> c, <t:0:R>, <https://example.com>"
    )


# -- sending on the bot's own initiative: `post` and its nonces ------------------------------------


class Channel:
    """Records what `post` sends, as a Discord channel would receive it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str, **extra: Any) -> dict[str, Any]:
        message = {"content": content, **extra}
        self.sent.append(message)
        return message


def slot_notice(count: int) -> str:
    """A slot-change DM listing `count` slots (the one that used to pass 2,000 characters)."""
    first = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    lines = ["Your presenting slots in **Tuesday** changed (new sessions were planned):"]
    lines += [
        f"- You now present on {format_when(first + timedelta(weeks=week))}"
        for week in range(count)
    ]
    return "\n".join([*lines, "See `/rota me` for all your slots."])


async def test_a_long_message_goes_in_parts_with_the_view_on_the_last() -> None:
    channel = Channel()
    text = slot_notice(80)
    assert len(text) > 2 * MESSAGE_LIMIT
    view, mentions = object(), discord.AllowedMentions.none()

    last = await post(channel, text, allowed_mentions=mentions, view=view, nonce="r-abc")

    assert len(channel.sent) == 3
    assert last is channel.sent[-1]
    assert [part["content"] for part in channel.sent] == chunk_sections([text])
    assert "\n".join(part["content"] for part in channel.sent) == text
    for part in channel.sent:
        assert 0 < len(part["content"]) <= MESSAGE_LIMIT
        assert broken_markup(part["content"]) == ""
        assert part["allowed_mentions"] is mentions
    assert [("view" in part) for part in channel.sent] == [False, False, True]
    assert channel.sent[-1]["view"] is view
    assert [part["nonce"] for part in channel.sent] == ["r-abc", "r-abc.1", "r-abc.2"]


async def test_a_message_that_fits_is_sent_as_it_is() -> None:
    channel = Channel()
    mentions = discord.AllowedMentions.none()
    await post(channel, slot_notice(3), allowed_mentions=mentions, nonce="r12")
    assert channel.sent == [
        {"content": slot_notice(3), "allowed_mentions": mentions, "nonce": "r12"}
    ]
    await post(channel, "hello", allowed_mentions=mentions)
    assert channel.sent[-1] == {"content": "hello", "allowed_mentions": mentions}


async def test_nothing_to_post_is_an_error_not_an_empty_message() -> None:
    with pytest.raises(ValueError, match="something to show"):
        await post(Channel(), "  \n", allowed_mentions=discord.AllowedMentions.none())


@given(st.integers(min_value=0, max_value=2**63 - 1), st.integers(min_value=1, max_value=2**63 - 1))
def test_part_nonces_of_reminder_nonces_fit_and_never_collide(job_id: int, recipient: int) -> None:
    for nonce in (reminder_nonce(job_id), reminder_nonce(job_id, recipient_id=recipient)):
        parts = [part_nonce(nonce, index) for index in range(150)]
        assert parts[0] == nonce
        assert all(len(part) <= NONCE_LIMIT for part in parts), parts
        assert len(set(parts)) == len(parts)
        # no part nonce is another job's own nonce (those never have a ".")
        assert all("." in part for part in parts[1:])
        assert parts == [part_nonce(nonce, index) for index in range(150)]  # deterministic


def test_a_part_index_is_never_negative() -> None:
    with pytest.raises(ValueError, match="never negative"):
        part_nonce("r1", -1)


# -- refusals: a bad option value is quoted like any user text -------------------------------------


def test_a_bad_option_value_is_quoted_escaped_and_short() -> None:
    """discord.py's own "Failed to convert …" quotes the value raw."""
    typed = "@everyone **bold** " + "y" * 2500
    transformer = app_commands.transformers.MemberTransformer()
    error = app_commands.TransformerError(typed, discord.AppCommandOptionType.user, transformer)
    assert typed in str(error)  # discord.py's own text
    refusal = refusal_of(error)
    assert refusal is not None
    shown = refusal_text(refusal)
    assert shown.startswith("I could not use **@\u200beveryone \\*\\*bold\\*\\*")
    assert shown.endswith("…** as a user here.")
    assert len(shown) < 200
    assert refusal_of(ValueError("not a refusal")) is None


# -- autocomplete: choice names within Discord's 100 characters ------------------------------------


def test_a_choice_name_cuts_only_its_cuttable_part() -> None:
    assert choice_name("", "Tuesday") == "Tuesday"
    assert choice_name("Tuesday (", "Clinic", ")") == "Tuesday (Clinic)"
    server = "S" * 100
    name = choice_name("Tuesday (", server, ")")
    assert len(name) == CHOICE_NAME_LIMIT
    assert name == "Tuesday (" + "S" * 89 + "…)"
    dated = choice_name("", "G" * 50, " — 2026-12-01 19:00 (America/Argentina/Buenos_Aires)")
    assert len(dated) == CHOICE_NAME_LIMIT
    assert dated.endswith("G… — 2026-12-01 19:00 (America/Argentina/Buenos_Aires)")


@given(st.text(max_size=120), st.text(max_size=160), st.text(max_size=120))
def test_a_choice_name_always_fits(before: str, cut: str, after: str) -> None:
    name = choice_name(before, cut, after)
    assert len(name) <= CHOICE_NAME_LIMIT
    whole = before + cut + after
    if len(whole) <= CHOICE_NAME_LIMIT:
        assert name == whole
    elif len(before) + len(after) < CHOICE_NAME_LIMIT:
        assert name.startswith(before)
        assert name.endswith("…" + after)
    if whole:
        assert name
