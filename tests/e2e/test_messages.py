"""What the bot says always fits Discord's limits, end to end through the double (which
refuses, and fails the test for, a message over 2,000 characters or a choice name over
100): a long DM arrives in several, a refusal quoting long input stays readable, and
autocomplete choices stay short whatever a server is called."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.double import Channel, Guild, Interaction, User
from tests.e2e.conftest import Scene, handlers_done, instant_pacer, reply_text
from tests.e2e.test_rota import dm_texts

LIMIT = 2000  # Discord's limit on a message's content
CHOICE_LIMIT = 100  # and on an autocomplete choice's name
GROUP = "Wednesday evening Balint group for GPs and nurses"  # 50 characters, the most
LONDON = ZoneInfo("Europe/London")
FIRST = datetime(2026, 12, 2, 19, 0, tzinfo=LONDON)  # a Wednesday
MARKUP = re.compile(r"<t:\d+:[tTdDfFR]>|<@!?\d+>")
SLOT_LINE = re.compile(r"^- You (now|no longer) present on <t:(\d+):F> \(<t:\2:R>\)$")


def broken_markup(text: str) -> str:
    """What is left of `<…>` markup once every whole timestamp and mention is removed:
    empty unless one was cut in two."""
    return "".join(re.findall(r"[<>]", MARKUP.sub("", text)))


def weekly(first: datetime, count: int) -> list[int]:
    """Weekly starts at the same wall-clock time (aware arithmetic keeps it), as Unix time."""
    return [int((first + timedelta(weeks=week)).timestamp()) for week in range(count)]


async def run(scene: Scene, command: str, user: User, **values: Any) -> Interaction:
    interaction = await scene.slash(command, user, **values)
    await handlers_done()
    return interaction


@pytest.fixture
async def fast(scene: Scene) -> Scene:
    """DMs paced on a clock that jumps: a year of notices takes no real time."""
    await scene.stop()
    await scene.start(dm_pacer=instant_pacer())
    return scene


async def group_of(scene: Scene, members: list[User], name: str = GROUP) -> None:
    created = await run(
        scene,
        "group create",
        scene.admin,
        name=name,
        channel=scene.home,
        timezone="Europe/London",
        leader=scene.leader,
    )
    assert "Created" in reply_text(created), reply_text(created)
    for member in members:
        assert "Added" in reply_text(await run(scene, "group add", scene.leader, member=member))


async def plan(scene: Scene, start: str, count: int = 52) -> None:
    planned = await run(
        scene,
        "session schedule",
        scene.leader,
        start=start,
        duration=90,
        repeat="weekly",
        count=count,
    )
    first = planned.messages[0].content or ""  # a long answer comes in several
    assert first.startswith(f"Planned {count} session"), first


def slot_notices(scene: Scene, user: User) -> list[list[str]]:
    """The slot-change DMs `user` received, each as the DMs it came in: a notice starts
    with its heading and ends with the pointer to `/rota me`."""
    notices: list[list[str]] = []
    for text in dm_texts(scene, user):
        if text.startswith("Your presenting slots in"):
            notices.append([text])
        elif notices and not notices[-1][-1].endswith("See `/rota me` for all your slots."):
            notices[-1].append(text)
    return notices


def assert_whole(parts: list[str], verb: str, starts: list[int]) -> None:
    """A notice in several DMs: each fits, none breaks a timestamp, and together they
    list exactly `starts`, in order, as slots the member now / no longer presents."""
    assert len(parts) > 1, "the notice was long enough to need several messages"
    for part in parts:
        assert 0 < len(part) <= LIMIT, len(part)
        assert broken_markup(part) == "", part
    lines = "\n".join(parts).split("\n")
    assert lines[0].startswith(f"Your presenting slots in **{GROUP}** changed")
    assert lines[-1] == "See `/rota me` for all your slots."
    listed = [SLOT_LINE.fullmatch(line) for line in lines[1:-1]]
    assert all(listed), [line for line, match in zip(lines[1:-1], listed, strict=True) if not match]
    assert {match[1] for match in listed if match} == {verb}
    assert [int(match[2]) for match in listed if match] == starts


# -- point 7: a long slot-change DM arrives whole, in several messages ---------------------------


async def test_a_year_of_new_slots_reaches_the_only_member_in_several_dms(fast: Scene) -> None:
    scene = fast
    alice = scene.members[0]
    await group_of(scene, [alice])
    await plan(scene, "2026-12-02 19:00")

    [notice] = slot_notices(scene, alice)
    assert_whole(notice, "now", weekly(FIRST, 52))
    scene.double.assert_no_errors()


async def test_removing_a_member_tells_both_of_a_year_of_slots_in_several_dms(
    fast: Scene,
) -> None:
    """Two members share 104 weekly sessions; bob leaves the roster: alice takes his 52
    slots and bob hears of all 52 he no longer presents, each in several DMs."""
    scene = fast
    alice, bob = scene.members[:2]
    await group_of(scene, [alice, bob])
    await plan(scene, "2026-12-02 19:00")
    await plan(scene, "2027-12-01 19:00")
    starts = weekly(FIRST, 52) + weekly(datetime(2027, 12, 1, 19, 0, tzinfo=LONDON), 52)
    bobs = starts[1::2]  # the rota alternates: alice, bob, alice, ...
    before_alice, before_bob = len(slot_notices(scene, alice)), len(slot_notices(scene, bob))

    removed = await run(scene, "group remove", scene.leader, member=bob)
    assert "Removed" in (removed.messages[0].content or "")

    [to_alice] = slot_notices(scene, alice)[before_alice:]
    assert_whole(to_alice, "now", bobs)
    [to_bob] = slot_notices(scene, bob)[before_bob:]
    assert_whole(to_bob, "no longer", bobs)


# -- point 8: a refusal quoting long input is short enough to send --------------------------------


LONG_START = "next Tuesday at seven, " + "please " * 354  # 2,501 characters


def assert_readable_refusal(interaction: Interaction) -> None:
    """One private message, well under Discord's limit, quoting the start cut short."""
    [message] = interaction.messages
    assert message.ephemeral
    text = message.content or ""
    assert len(text) < 300, len(text)
    assert text.startswith("'next Tuesday at seven, please please")
    assert "…' is not a start time I can read" in text
    assert "for example 2026-12-01 19:00" in text


async def test_a_2500_character_start_gets_a_short_refusal(scene: Scene) -> None:
    assert len(LONG_START) > 2500
    await group_of(scene, scene.members)
    refused = await run(
        scene,
        "session schedule",
        scene.leader,
        start=LONG_START,
        duration=90,
        repeat="weekly",
        count=4,
    )
    assert_readable_refusal(refused)
    await plan(scene, "2026-12-02 19:00", count=1)
    choices = await scene.double.autocomplete(
        "session move", scene.leader, focused="session", guild=scene.guild, channel=scene.home
    )
    [session] = [int(choice["value"]) for choice in choices]
    moved = await run(scene, "session move", scene.leader, session=session, start=LONG_START)
    assert_readable_refusal(moved)
    scene.double.assert_no_errors()


async def test_a_refusal_about_forty_groups_names_a_few_in_one_message(scene: Scene) -> None:
    """Someone with Manage Server in a server of 40 groups with long names runs a command
    outside any group's channel: the refusal names the first ten (each quoted whole, up
    to 50 characters) and counts the others, in one message, rather than failing to send
    a list of all forty (over 2,000 characters)."""
    names = [f"Group {index:02d} " + "x" * 41 for index in range(40)]  # 50 characters each
    for name in names:
        created = await run(
            scene,
            "group create",
            scene.admin,
            name=name,
            channel=scene.home,
            timezone="Europe/London",
            leader=scene.leader,
        )
        assert "Created" in reply_text(created)

    asked = await run(scene, "session list", scene.admin, in_channel=scene.other_channel)

    [message] = asked.messages
    assert message.ephemeral
    listed = ", ".join(f"**{name}**" for name in names[:10])
    assert message.content == (
        f"This server has several groups ({listed} and 30 more): say which with the `group` option."
    )
    scene.double.assert_no_errors()


# -- point 9: choice names stay within 100 characters ----------------------------------------------

LONG_SERVER = (
    "The Northern Regional Association of General Practitioners, Nurses and Balint Group "
    "Leaders, Clinic B"
)[:100]  # Discord's longest server name
ZONE = "America/Argentina/Buenos_Aires"


async def server_named(scene: Scene, name: str, members: list[User]) -> tuple[Guild, Channel]:
    """A second server called `name`, with a group called GROUP (in a long time zone)
    led by dr-lead, `members` on its roster and three sessions, set up through the
    commands."""
    server = scene.double.add_guild(name)
    room = scene.double.add_channel(server, "balint")
    for user in (scene.leader, *members):
        scene.double.add_member(server, user)
    owner = scene.double.users[server.owner_id]
    created = await scene.double.slash(
        "group create",
        owner,
        guild=server,
        channel=room,
        options={"channel": room},
        name=GROUP,
        timezone=ZONE,
        leader=scene.leader,
    )
    assert "Created" in reply_text(created), reply_text(created)
    for member in members:
        await scene.double.slash(
            "group add", scene.leader, guild=server, channel=room, member=member
        )
    planned = await scene.double.slash(
        "session schedule",
        scene.leader,
        guild=server,
        channel=room,
        start="2026-12-02 19:00",
        duration=90,
        repeat="weekly",
        count=3,
    )
    assert "Planned 3 sessions" in reply_text(planned), reply_text(planned)
    await handlers_done()
    return server, room


def fitting(choices: list[dict[str, Any]]) -> list[str]:
    """The choices' names, each checked to be 1 to 100 characters."""
    names = [str(choice["name"]) for choice in choices]
    assert names, "autocomplete offered nothing"
    assert all(1 <= len(name) <= CHOICE_LIMIT for name in names), [len(n) for n in names]
    return names


def labelled(server_name: str) -> str:
    """The group's choice in a DM: its name whole, the server's shortened visibly."""
    room = CHOICE_LIMIT - len(f"{GROUP} ()")
    return f"{GROUP} ({server_name[: room - 1]}…)"


@pytest.mark.parametrize("length", [98, 100])
async def test_group_choices_in_a_dm_fit_whatever_the_server_is_called(
    fast: Scene, length: int
) -> None:
    scene = fast
    alice = scene.members[0]
    server_name = LONG_SERVER[:length]
    await server_named(scene, server_name, [alice])
    await group_of(scene, [alice], name="Tuesday")  # and a group in the first server

    choices = await scene.double.autocomplete("rota show", alice, focused="group", group="")

    assert sorted(fitting(choices)) == ["Tuesday (Clinic)", labelled(server_name)]
    scene.double.assert_no_errors()


async def test_every_autocomplete_fits_with_the_longest_names(fast: Scene) -> None:
    """Group, session, own-slot and time-zone choices, in a DM and in the server with the
    longest name, for the longest group name in a long time zone."""
    scene = fast
    alice = scene.members[0]
    server, room = await server_named(scene, LONG_SERVER, [alice])
    assert len(server.name) == CHOICE_LIMIT

    in_dm = await scene.double.autocomplete("rota swap", alice, focused="session", session="")
    # the date is the choice: it stays whole, and the group's name gives way
    dates = [f" — 2026-12-{day:02d} 19:00 ({ZONE})" for day in (2, 9, 16)]
    left = CHOICE_LIMIT - len(dates[0])
    assert len(GROUP) > left
    assert fitting(in_dm) == [f"{GROUP[: left - 1]}…{date}" for date in dates]
    offered = await scene.double.autocomplete("rota show", alice, focused="group", group="wed")
    assert fitting(offered) == [labelled(LONG_SERVER)]
    here = await scene.double.autocomplete(
        "session move", scene.leader, focused="session", guild=server, channel=room
    )
    assert fitting(here) == [f"2026-12-{day:02d} 19:00 ({ZONE})" for day in (2, 9, 16)]
    groups_here = await scene.double.autocomplete(
        "group show", scene.leader, focused="group", guild=server, channel=room, group=""
    )
    assert fitting(groups_here) == [GROUP]
    zones = await scene.double.autocomplete(
        "group create",
        scene.admin,
        focused="timezone",
        guild=scene.guild,
        channel=scene.home,
        timezone="america/argentina",
    )
    assert ZONE in fitting(zones)
    scene.double.assert_no_errors()
