"""/group end to end: create, add, remove, show, settings, delete and audit, as users see
them, with group resolution, autocomplete, permissions and bad input."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.kernel.clock import to_unix
from bot.sessions.store import add_sessions
from tests.double import INTENT_GUILDS, Channel, Guild, Interaction, Message, User
from tests.double.records import walk_components
from tests.e2e.conftest import START, Scene, handlers_done, reply_text

DATA_TABLES = ("groups", "members", "sessions", "rsvps", "absences", "swaps", "audit")


# -- helpers ---------------------------------------------------------------------------------


async def create(
    scene: Scene,
    name: str = "Tuesday",
    *,
    by: User | None = None,
    home: Channel | None = None,
    timezone: str = "Europe/London",
    leader: User | None = None,
) -> Interaction:
    options: dict[str, Any] = {"name": name, "timezone": timezone}
    if leader is not None:
        options["leader"] = leader
    return await scene.slash(
        "group create", by or scene.admin, channel=home or scene.home, **options
    )


async def rows(scene: Scene, sql: str, *parameters: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await scene.running.database.fetchall(sql, parameters)]


async def group_id(scene: Scene, name: str) -> int:
    found = await scene.running.database.scalar(
        "SELECT id FROM groups WHERE guild_id = ? AND name_key = ?",
        (scene.guild.id, name.casefold()),
    )
    assert found is not None, f"no group {name!r}"
    return int(found)


async def roster_of(scene: Scene, name: str) -> dict[int, str]:
    gid = await group_id(scene, name)
    return {
        row["user_id"]: row["role"]
        for row in await rows(scene, "SELECT user_id, role FROM members WHERE group_id = ?", gid)
    }


async def snapshot(scene: Scene) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a /group command could change."""
    database = scene.running.database
    return {
        table: [tuple(row) for row in await database.fetchall(f"SELECT * FROM {table}")]
        for table in DATA_TABLES
    }


def private(interaction: Interaction) -> str:
    """The reply's text, after checking only the user who ran the command sees it."""
    assert interaction.reply.ephemeral, f"{interaction.describe()} answered in public"
    return reply_text(interaction)


def refused(interaction: Interaction, *fragments: str) -> str:
    text = private(interaction)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in refusal {text!r}"
    return text


def button(message: Message, label: str) -> str:
    for component in walk_components(message.components):
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} on {message!r}")


def button_labels(message: Message) -> list[str]:
    return [c["label"] for c in walk_components(message.components) if c.get("type") == 2]


async def tuesday_with_members(scene: Scene) -> int:
    """The group "Tuesday" in the home channel, led by the leader, with alice and bob."""
    await create(scene, leader=scene.leader)
    for member in scene.members[:2]:
        await scene.slash("group add", scene.leader, member=member)
    return await group_id(scene, "Tuesday")


# -- create ----------------------------------------------------------------------------------


async def test_create_announces_the_group_and_stores_it_with_its_first_leader(
    scene: Scene,
) -> None:
    interaction = await create(scene, timezone="europe/london", leader=scene.leader)

    message = interaction.reply
    assert not message.ephemeral  # the group's creation is visible where it was run
    assert message.content.startswith(
        f"Created **Tuesday**: home channel <#{scene.home.id}>, time zone `Europe/London`, "
        f"leader <@{scene.leader.id}>."
    )
    assert "/group add" in message.content
    [group] = await rows(scene, "SELECT * FROM groups")
    assert (group["guild_id"], group["name"], group["channel_id"], group["timezone"]) == (
        scene.guild.id,
        "Tuesday",
        scene.home.id,
        "Europe/London",  # the canonical spelling, whatever was typed
    )
    assert await roster_of(scene, "Tuesday") == {scene.leader.id: "leader"}
    [entry] = await rows(scene, "SELECT * FROM audit")
    assert (entry["group_id"], entry["actor_id"], entry["action"], entry["at"]) == (
        group["id"],
        scene.admin.id,
        "group create",
        to_unix(START),
    )


async def test_create_without_leader_makes_the_creator_its_leader(scene: Scene) -> None:
    await create(scene, "  Thursday   evening ")
    assert await roster_of(scene, "Thursday evening") == {scene.admin.id: "leader"}


@pytest.mark.parametrize("who", ["leader", "outsider"])
async def test_create_needs_manage_server(scene: Scene, who: str) -> None:
    user = getattr(scene, who)
    interaction = await create(scene, by=user, leader=user)
    refused(interaction, "Creating a group needs the Manage Server permission.")
    assert await rows(scene, "SELECT * FROM groups") == []
    assert await rows(scene, "SELECT * FROM audit") == []


async def test_a_group_name_is_unique_in_the_server_whatever_its_case(scene: Scene) -> None:
    await create(scene, "Tuesday")
    before = await snapshot(scene)
    again = await create(scene, "  TUESDAY ", home=scene.other_channel)
    refused(again, "This server already has a group called **TUESDAY**.")
    assert await snapshot(scene) == before


async def test_an_unknown_time_zone_is_refused_with_suggestions(scene: Scene) -> None:
    interaction = await create(scene, timezone="Europe/Londn")
    refused(interaction, "**Europe/Londn** is not a time zone I know.", "`Europe/London`")
    assert await rows(scene, "SELECT * FROM groups") == []


async def test_create_refuses_a_bot_or_a_stranger_as_leader(scene: Scene) -> None:
    refused(await create(scene, leader=scene.robot), "Bots cannot be members of a Balint group.")
    stranger = scene.double.add_user("stranger")  # not in the server
    refused(
        await create(scene, leader=stranger), f"<@{stranger.id}> is not a member of this server."
    )
    assert await rows(scene, "SELECT * FROM groups") == []


async def test_markdown_and_mass_mentions_in_a_name_are_shown_literally(scene: Scene) -> None:
    name = "@everyone **Tue** _x_ @here"
    created = await create(scene, name, leader=scene.leader)
    assert [r["name"] for r in await rows(scene, "SELECT name FROM groups")] == [name]
    shown = reply_text(created)
    assert "@\u200beveryone \\*\\*Tue\\*\\* \\_x\\_ @\u200bhere" in shown
    # The same escaping wherever the name comes back: roster, settings, audit, deletion.
    texts = [
        reply_text(await scene.slash("group add", scene.leader, member=scene.members[0])),
        reply_text(await scene.slash("group show", scene.members[0])),
        reply_text(await scene.slash("group settings", scene.leader, reflection_threshold=5)),
        reply_text(await scene.slash("group audit", scene.leader)),
        refused(await create(scene, name.replace("Tue", "TUE")), "already has a group called"),
    ]
    for text in texts:
        assert "@\u200beveryone" in text, text
        assert "@\u200bhere" in text, text
    prompt = await scene.slash("group delete", scene.admin, group=name)
    confirmed = await scene.double.click(
        prompt.reply, button(prompt.reply, "Delete the group and all its data"), scene.admin
    )
    assert "@\u200beveryone" in confirmed.reply.content
    # (the shared guard, `_e2e_guards` in conftest.py, checks every body the bot sent)


# -- resolution and autocomplete ---------------------------------------------------------------


async def two_groups(scene: Scene) -> tuple[Channel, int, int]:
    """Tuesday in the home channel (led by the leader) and Thursday in its own channel (led
    by carol); alice is in both, bob only in Tuesday."""
    thursday_home = scene.double.add_channel(scene.guild, "balint-thursday")
    alice, bob, carol, _ = scene.members
    await create(scene, "Tuesday", leader=scene.leader)
    await create(scene, "Thursday", home=thursday_home, leader=carol)
    await scene.slash("group add", scene.leader, member=alice)
    await scene.slash("group add", scene.leader, member=bob)
    await scene.slash("group add", carol, member=alice, in_channel=thursday_home)
    return thursday_home, await group_id(scene, "Tuesday"), await group_id(scene, "Thursday")


def shown_group(interaction: Interaction) -> str:
    first_line = private(interaction).splitlines()[0]
    match = re.match(r"\*\*(.+?)\*\*: \d+ people", first_line)
    assert match, first_line
    return match[1]


async def test_group_resolution_option_then_channel_then_only_group_then_ask(
    scene: Scene,
) -> None:
    thursday_home, tuesday, thursday = await two_groups(scene)
    alice, bob, *_ = scene.members
    general = scene.other_channel

    # The option wins, by id (what autocomplete sends) or by name, in any channel.
    assert shown_group(await scene.slash("group show", alice, group=str(thursday))) == "Thursday"
    assert shown_group(await scene.slash("group show", alice, group="thursday")) == "Thursday"
    # No option: the group whose home channel this is.
    assert shown_group(await scene.slash("group show", alice)) == "Tuesday"
    here = await scene.slash("group show", alice, in_channel=thursday_home)
    assert shown_group(here) == "Thursday"
    # Elsewhere: the user's only group...
    assert shown_group(await scene.slash("group show", bob, in_channel=general)) == "Tuesday"
    # ... or an ephemeral question.
    refused(
        await scene.slash("group show", alice, in_channel=general),
        "You are in several groups (**Thursday**, **Tuesday**)",
        "`group` option",
    )
    refused(
        await scene.slash("group show", scene.outsider, in_channel=general),
        "You are not in any Balint group in this server.",
    )
    # Manage Server leads every group without being on a roster: every group is "theirs".
    refused(
        await scene.slash("group settings", scene.admin, in_channel=general),
        "This server has several groups (**Thursday**, **Tuesday**): say which",
    )
    refused(
        await scene.slash("group show", alice, group="Wednesday"),
        "I don't know a group called **Wednesday** here.",
    )
    # The option also wins over the channel's own group.
    chosen = await scene.slash("group show", alice, group=str(tuesday), in_channel=thursday_home)
    assert shown_group(chosen) == "Tuesday"


async def test_group_resolution_never_reaches_another_servers_group(scene: Scene) -> None:
    await create(scene, "Tuesday", leader=scene.leader)
    elsewhere = scene.double.add_guild("Elsewhere", owner=scene.leader)
    room = scene.double.add_channel(elsewhere, "room")
    created = await scene.double.slash(
        "group create",
        scene.leader,
        guild=elsewhere,
        channel=room,
        options={"name": "Tuesday", "channel": room, "timezone": "Europe/Paris"},
    )
    assert "Created **Tuesday**" in reply_text(created)  # names are unique per server only
    [other] = await rows(scene, "SELECT id FROM groups WHERE guild_id = ?", elsewhere.id)
    # Its id, typed in this server, names nothing here (the leader leads both groups).
    asked = await scene.slash("group show", scene.leader, group=str(other["id"]))
    refused(asked, f"I don't know a group called **{other['id']}** here.")
    before = await snapshot(scene)
    refused(
        await scene.slash(
            "group settings", scene.leader, group=str(other["id"]), reflection_threshold=9
        ),
        "I don't know a group called",
    )
    assert await snapshot(scene) == before
    # By name, each server's own Tuesday.
    here = await scene.slash("group show", scene.leader, group="Tuesday")
    assert f"Home channel: <#{scene.home.id}>" in private(here)


async def test_group_autocomplete_offers_the_users_groups_or_all_to_managers(
    scene: Scene,
) -> None:
    _, tuesday, thursday = await two_groups(scene)
    alice, bob, *_ = scene.members

    async def offered(user: User, typed: str = "", command: str = "group show") -> list[Any]:
        return await scene.double.autocomplete(
            command, user, focused="group", guild=scene.guild, channel=scene.home, group=typed
        )

    both = [
        {"name": "Thursday", "value": str(thursday)},
        {"name": "Tuesday", "value": str(tuesday)},
    ]
    assert await offered(alice) == both
    assert await offered(alice, "THU") == both[:1]
    assert await offered(bob) == both[1:]
    assert await offered(scene.outsider) == []
    assert await offered(scene.admin) == both  # Manage Server: every group, though in none
    assert await offered(scene.admin, "tue", "group delete") == both[1:]


async def test_time_zone_autocomplete_suggests_iana_names(scene: Scene) -> None:
    async def offered(typed: str) -> list[str]:
        choices = await scene.double.autocomplete(
            "group create",
            scene.admin,
            focused="timezone",
            guild=scene.guild,
            channel=scene.home,
            timezone=typed,
        )
        assert all(c["name"] == c["value"] for c in choices)
        return [c["value"] for c in choices]

    assert (await offered("londo"))[0] == "Europe/London"
    assert "Europe/London" in await offered("Europe/Londn")
    assert "America/New_York" in await offered("new york")
    common = await offered("")
    assert 0 < len(common) <= 25
    assert "Europe/London" in common


# -- permissions -------------------------------------------------------------------------------


async def test_members_and_outsiders_are_refused_leader_commands_and_nothing_changes(
    scene: Scene,
) -> None:
    gid = await tuesday_with_members(scene)
    alice, _, carol, _ = scene.members
    before = await snapshot(scene)
    for user in (alice, scene.outsider):
        attempts = [
            await scene.slash("group add", user, member=carol),
            await scene.slash("group add", user, member=user, role="leader"),
            await scene.slash("group remove", user, member=scene.leader),
            await scene.slash("group settings", user, reflection_threshold=3),
            await scene.slash("group settings", user),
            await scene.slash("group audit", user),
            await scene.slash("group add", user, member=carol, group=str(gid)),
        ]
        for attempt in attempts:
            refused(
                attempt,
                "Only the leaders of **Tuesday** (or someone with Manage Server) can do that.",
            )
        for manager_only in (
            await create(scene, "Mine", by=user),
            await scene.slash("group delete", user, group="Tuesday"),
        ):
            refused(manager_only, "needs the Manage Server permission.")
            assert manager_only.reply.components == []  # no confirmation button offered
    refused(
        await scene.slash("group show", scene.outsider),
        "Only members of **Tuesday** can see or do that.",
    )
    assert await snapshot(scene) == before


async def test_a_leader_refused_for_lack_of_manage_server_cannot_delete(scene: Scene) -> None:
    await tuesday_with_members(scene)
    before = await snapshot(scene)
    refused(
        await scene.slash("group delete", scene.leader, group="Tuesday"),
        "Deleting a group needs the Manage Server permission.",
    )
    assert await snapshot(scene) == before


async def test_members_see_the_group_and_co_leaders_lead_it(scene: Scene) -> None:
    await tuesday_with_members(scene)
    alice, bob, carol, dave = scene.members
    shown = private(await scene.slash("group show", bob))
    assert shown.startswith("**Tuesday**: 3 people")
    promoted = await scene.slash("group add", scene.leader, member=bob, role="co-leader")
    assert private(promoted) == f"<@{bob.id}> is now a co-leader of **Tuesday** (was member)."
    private(await scene.slash("group add", bob, member=carol))
    private(await scene.slash("group settings", bob, presenter_mode="on-deck"))
    private(await scene.slash("group remove", bob, member=alice))
    assert await roster_of(scene, "Tuesday") == {
        scene.leader.id: "leader",
        bob.id: "co-leader",
        carol.id: "member",
    }
    refused(await scene.slash("group add", carol, member=dave), "Only the leaders of **Tuesday**")


async def test_a_leader_of_one_group_has_no_power_over_another(scene: Scene) -> None:
    thursday_home, _, thursday = await two_groups(scene)
    alice, bob, carol, dave = scene.members
    before = await snapshot(scene)
    attempts = [
        await scene.slash("group add", scene.leader, member=dave, group="Thursday"),
        await scene.slash("group add", scene.leader, member=dave, group=str(thursday)),
        await scene.slash("group add", scene.leader, member=dave, in_channel=thursday_home),
        await scene.slash("group remove", scene.leader, member=alice, group="Thursday"),
        await scene.slash("group settings", scene.leader, in_channel=thursday_home),
        await scene.slash(
            "group settings", scene.leader, group="Thursday", case_retention_hours=168
        ),
        await scene.slash("group audit", scene.leader, group="Thursday"),
    ]
    for attempt in attempts:
        refused(attempt, "Only the leaders of **Thursday**")
    refused(
        await scene.slash("group show", scene.leader, group="Thursday"),
        "Only members of **Thursday**",
    )
    assert await snapshot(scene) == before
    # ... while carol leads Thursday only, and Manage Server rescues any group.
    refused(await scene.slash("group add", carol, member=dave), "Only the leaders of **Tuesday**")
    private(await scene.slash("group add", scene.admin, member=dave, group="Thursday"))
    assert (await roster_of(scene, "Thursday"))[dave.id] == "member"
    assert bob.id not in await roster_of(scene, "Thursday")


# -- roster ------------------------------------------------------------------------------------


async def test_add_sets_roles_and_refuses_what_is_already_so(scene: Scene) -> None:
    await create(scene, leader=scene.leader)
    alice, bob, *_ = scene.members
    added = await scene.slash("group add", scene.leader, member=alice)
    assert private(added) == f"Added <@{alice.id}> to **Tuesday** as member."
    co = await scene.slash("group add", scene.leader, member=bob, role="co-leader")
    assert private(co) == f"Added <@{bob.id}> to **Tuesday** as co-leader."
    up = await scene.slash("group add", scene.leader, member=alice, role="leader")
    assert private(up) == f"<@{alice.id}> is now a leader of **Tuesday** (was member)."
    refused(
        await scene.slash("group add", scene.leader, member=alice, role="leader"),
        f"<@{alice.id}> is already a leader of **Tuesday**.",
    )
    assert await roster_of(scene, "Tuesday") == {
        scene.leader.id: "leader",
        alice.id: "leader",
        bob.id: "co-leader",
    }


async def test_add_refuses_bots_and_people_outside_the_server(scene: Scene) -> None:
    await tuesday_with_members(scene)
    before = await snapshot(scene)
    refused(
        await scene.slash("group add", scene.leader, member=scene.robot),
        "Bots cannot be members of a Balint group.",
    )
    stranger = scene.double.add_user("stranger")  # a Discord user, not in this server
    refused(
        await scene.slash("group add", scene.leader, member=stranger),
        f"<@{stranger.id}> is not a member of this server.",
    )
    refused(
        await scene.slash("group remove", scene.leader, member=stranger),
        f"<@{stranger.id}> is not in **Tuesday**.",
    )
    assert await snapshot(scene) == before


async def test_adding_a_thirteenth_person_warns_about_the_groups_size(scene: Scene) -> None:
    await create(scene, leader=scene.leader)
    extras = []
    for index in range(8):
        extra = scene.double.add_user(f"extra{index}")
        scene.double.add_member(scene.guild, extra)
        extras.append(extra)
    people = [*scene.members, *extras[:7]]  # with the leader: 12
    for person in people:
        text = private(await scene.slash("group add", scene.leader, member=person))
        assert "Note:" not in text
    thirteenth = private(await scene.slash("group add", scene.leader, member=extras[7]))
    assert thirteenth == (
        f"Added <@{extras[7].id}> to **Tuesday** as member.\n"
        "Note: the group now has 13 people; Balint groups work best with 6 to 12."
    )
    assert len(await roster_of(scene, "Tuesday")) == 13


async def test_remove_takes_someone_off_the_roster(scene: Scene) -> None:
    await tuesday_with_members(scene)
    alice, bob, carol, _ = scene.members
    removed = await scene.slash("group remove", scene.leader, member=alice)
    assert private(removed) == f"Removed <@{alice.id}> from **Tuesday**."
    assert await roster_of(scene, "Tuesday") == {scene.leader.id: "leader", bob.id: "member"}
    refused(
        await scene.slash("group remove", scene.leader, member=carol),
        f"<@{carol.id}> is not in **Tuesday**.",
    )
    # alice no longer sees the group
    refused(await scene.slash("group show", alice), "Only members of **Tuesday**")


async def test_the_last_leader_can_be_neither_removed_nor_demoted(scene: Scene) -> None:
    await tuesday_with_members(scene)
    alice, *_ = scene.members
    before = await snapshot(scene)
    last = "A group needs at least one leader: make someone else leader first."
    refused(await scene.slash("group remove", scene.admin, member=scene.leader), last)
    refused(await scene.slash("group remove", scene.leader, member=scene.leader), last)
    for role in ("member", "co-leader"):
        refused(await scene.slash("group add", scene.admin, member=scene.leader, role=role), last)
    assert await snapshot(scene) == before
    # With a second leader, the first may step down.
    await scene.slash("group add", scene.leader, member=alice, role="leader")
    stepped = await scene.slash("group add", alice, member=scene.leader, role="co-leader")
    assert "is now a co-leader of **Tuesday** (was leader)" in private(stepped)
    refused(await scene.slash("group remove", scene.leader, member=alice), last)
    assert (await roster_of(scene, "Tuesday"))[alice.id] == "leader"


# -- show and settings ---------------------------------------------------------------------------


async def test_show_lists_roster_leaders_first_settings_and_next_session(scene: Scene) -> None:
    gid = await tuesday_with_members(scene)
    alice, bob, *_ = scene.members
    await scene.slash("group add", scene.leader, member=bob, role="co-leader")
    text = private(await scene.slash("group show", alice))
    lines = text.splitlines()
    assert lines[0] == "**Tuesday**: 3 people"
    assert lines[2:5] == [
        f"- <@{scene.leader.id}> (leader)",
        f"- <@{bob.id}> (co-leader)",
        f"- <@{alice.id}> (member)",
    ]
    assert f"Home channel: <#{scene.home.id}>" in lines
    assert "Time zone: `Europe/London`" in lines
    assert lines[-1] == "No session planned yet."

    start = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    async with scene.running.database.transaction() as tx:
        await add_sessions(
            tx, gid, [start + timedelta(weeks=1), start], timedelta(minutes=90), START
        )
    # A manager not on the roster may look too (leader powers everywhere); with one group
    # in the server, it is the one meant wherever they ask.
    again = private(await scene.slash("group show", scene.admin, in_channel=scene.other_channel))
    unix = int(start.timestamp())
    assert again.splitlines()[-1] == f"Next session: <t:{unix}:F> (<t:{unix}:R>)"


async def test_settings_without_options_shows_the_current_settings(scene: Scene) -> None:
    await tuesday_with_members(scene)
    before = await snapshot(scene)
    text = private(await scene.slash("group settings", scene.leader))
    assert text.splitlines() == [
        "**Tuesday** settings:",
        f"Home channel: <#{scene.home.id}>",
        "Time zone: `Europe/London`",
        "Presenter mode: assigned (the presenter is expected to bring a case)",
        "Reminders: channel 24 h before, presenter 72 h before, leaders 24 h before",
        "Reflections: released from 4 reflections, window 48 h, released to leaders",
        "Case notes kept 0 h after the session",
        "Leaders' channel: none",
        "Sessions shown in the server's Events: no",
        "Term started: not set",
        "Meets: in person (a series can differ: `/session schedule format`)",
    ]
    assert await snapshot(scene) == before  # looking is not a change: no audit entry


async def test_settings_change_is_stored_shown_and_audited(scene: Scene) -> None:
    gid = await tuesday_with_members(scene)
    scene.clock.advance(timedelta(minutes=30))
    changed = await scene.slash(
        "group settings",
        scene.leader,
        presenter_mode="on-deck",
        channel_reminder_hours=0,
        presenter_reminder_hours=48,
        leaders_reminder_hours=12,
        reflection_threshold=3,
        reflection_window_hours=24,
        reflection_release="channel",
        case_retention_hours=168,
        leaders_channel=scene.other_channel,
        term_start="2026-09-01",
        scheduled_events=True,
    )
    text = private(changed)
    assert text.startswith("Updated **Tuesday**:")
    term = datetime(2026, 9, 1, tzinfo=ZoneInfo("Europe/London"))  # local midnight (BST)
    for line in (
        "Presenter mode: on-deck (anyone may volunteer; the on-deck member is the fallback)",
        "Reminders: channel off, presenter 48 h before, leaders 12 h before",
        "Reflections: released from 3 reflections, window 24 h, released to channel",
        "Case notes kept 168 h after the session",
        f"Leaders' channel: <#{scene.other_channel.id}>",
        "Sessions shown in the server's Events: yes",
        f"Term started: <t:{int(term.timestamp())}:F>",
    ):
        assert line in text, line
    [group] = await rows(scene, "SELECT * FROM groups WHERE id = ?", gid)
    assert {key: group[key] for key in group if key not in ("id", "created_at")} == {
        "guild_id": scene.guild.id,
        "name": "Tuesday",
        "name_key": "tuesday",
        "channel_id": scene.home.id,
        "timezone": "Europe/London",
        "presenter_mode": "on-deck",
        "remind_channel_min": None,  # 0 turns the reminder off
        "remind_presenter_min": 48 * 60,
        "remind_leaders_min": 12 * 60,
        "reflection_threshold": 3,
        "reflection_window_h": 24,
        "reflection_release": "channel",
        "case_retention_h": 168,
        "leaders_channel_id": scene.other_channel.id,
        "term_start": int(term.timestamp()),
        "mirror_events": 1,
        "meeting_format": "in person",
    }
    [entry] = await rows(
        scene, "SELECT * FROM audit WHERE group_id = ? AND action = 'settings'", gid
    )
    assert entry["actor_id"] == scene.leader.id
    assert entry["at"] == to_unix(START + timedelta(minutes=30))
    assert "reflection_threshold=3" in entry["detail"]
    assert "remind_channel_min=None" in entry["detail"]

    # One setting at a time leaves the others alone.
    await scene.slash("group settings", scene.leader, channel_reminder_hours=6)
    [group] = await rows(scene, "SELECT * FROM groups WHERE id = ?", gid)
    assert (group["remind_channel_min"], group["remind_presenter_min"]) == (360, 48 * 60)


async def test_settings_refuses_a_term_start_that_is_not_a_date(scene: Scene) -> None:
    await tuesday_with_members(scene)
    before = await snapshot(scene)
    for bad in ("2026-13-01", "1 September", "2026-02-30"):
        attempt = await scene.slash(
            "group settings", scene.leader, term_start=bad, reflection_threshold=5
        )
        refused(attempt, "is not a date I can read: write `term_start` as YYYY-MM-DD")
    assert await snapshot(scene) == before  # the valid option in the same command neither


async def test_settings_declares_the_bounds_discord_enforces(scene: Scene) -> None:
    await tuesday_with_members(scene)
    [group_command] = [c for c in scene.double.commands() if c.name == "group"]
    subcommands = {o["name"]: o for o in group_command.options}
    options = {o["name"]: o for o in subcommands["settings"]["options"]}
    bounds = {
        name: (option.get("min_value"), option.get("max_value"))
        for name, option in options.items()
        if option["type"] == 4
    }
    assert bounds == {
        "channel_reminder_hours": (0, 336),
        "presenter_reminder_hours": (0, 336),
        "leaders_reminder_hours": (0, 336),
        "reflection_threshold": (3, 12),  # never below 3: anonymity needs a crowd
        "reflection_window_hours": (1, 336),
        "case_retention_hours": (0, 168),  # at most 7 days
    }
    assert [c["value"] for c in options["presenter_mode"]["choices"]] == ["assigned", "on-deck"]
    assert [c["value"] for c in options["reflection_release"]["choices"]] == [
        "leaders",
        "channel",
    ]
    assert options["leaders_channel"]["type"] == 7
    assert not any(option.get("required") for option in options.values())
    add_roles = {o["name"]: o for o in subcommands["add"]["options"]}["role"]["choices"]
    assert [c["value"] for c in add_roles] == ["member", "co-leader", "leader"]
    name = subcommands["create"]["options"][0]
    assert (name["name"], name["min_length"], name["max_length"]) == ("name", 1, 50)
    assert {o["name"] for o in subcommands["delete"]["options"] if o.get("required")} == {"group"}

    # The Discord client refuses an out-of-range value before anything is sent.
    with pytest.raises(AssertionError, match=r"2 is outside 3\.\.12"):
        await scene.slash("group settings", scene.leader, reflection_threshold=2)
    with pytest.raises(AssertionError, match=r"169 is outside 0\.\.168"):
        await scene.slash("group settings", scene.leader, case_retention_hours=169)


# -- delete ------------------------------------------------------------------------------------


async def test_delete_asks_first_and_keep_it_deletes_nothing(scene: Scene) -> None:
    await tuesday_with_members(scene)
    before = await snapshot(scene)
    prompt = await scene.slash("group delete", scene.admin, group="Tuesday")
    message = prompt.reply
    assert message.ephemeral  # only the requester sees it, so only they can press
    assert message.content == (
        "Delete **Tuesday**, its roster, sessions, rota and all its data? This cannot be undone."
    )
    assert button_labels(message) == ["Delete the group and all its data", "Keep it"]
    with pytest.raises(AssertionError, match="only its user sees an ephemeral message"):
        await scene.double.click(message, button(message, "Keep it"), scene.leader)
    assert await snapshot(scene) == before  # asking changes nothing

    kept = await scene.double.click(message, button(message, "Keep it"), scene.admin)
    assert kept.response is not None
    assert kept.response.type == 7  # the prompt itself is updated
    assert message.content == "Nothing was deleted."
    assert message.components == []  # no button left to press
    assert await snapshot(scene) == before


async def test_confirmed_delete_removes_the_group_and_all_its_data(scene: Scene) -> None:
    gid = await tuesday_with_members(scene)
    thursday_home = scene.double.add_channel(scene.guild, "balint-thursday")
    await create(scene, "Thursday", home=thursday_home, leader=scene.members[2])
    other = await group_id(scene, "Thursday")
    alice = scene.members[0]
    start = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    database = scene.running.database
    async with database.transaction() as tx:
        sessions = await add_sessions(tx, gid, [start], timedelta(minutes=90), START)
        [kept_session] = await add_sessions(tx, other, [start], timedelta(minutes=90), START)
        for session in (sessions[0], kept_session):
            await tx.execute(
                "INSERT INTO rsvps (session_id, user_id, attending) VALUES (?, ?, 1)",
                (session, alice.id),
            )
        await tx.execute(
            "INSERT INTO absences (group_id, user_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
            (gid, alice.id, to_unix(start), to_unix(start + timedelta(days=1))),
        )
        await tx.execute(
            "INSERT INTO swaps (session_id, requester_id, target_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (sessions[0], alice.id, scene.members[1].id, to_unix(START)),
        )
        for group in (gid, other):
            await tx.execute(
                "INSERT INTO jobs (kind, key, due_at, group_id) VALUES ('test', ?, ?, ?)",
                (f"group:{group}:session:1:channel", to_unix(start), group),
            )
    stale = await scene.slash("group delete", scene.admin, group=str(gid))
    prompt = await scene.slash("group delete", scene.admin, group="tuesday")
    scene.clock.advance(timedelta(minutes=5))
    confirmed = await scene.double.click(
        prompt.reply, button(prompt.reply, "Delete the group and all its data"), scene.admin
    )
    await handlers_done()  # it acknowledges first, then cancels any Events and deletes
    assert confirmed.reply is prompt.reply
    assert prompt.reply.content == "Deleted **Tuesday** and all its data."
    assert prompt.reply.components == []

    for table, column in (
        ("groups", "id"),
        ("members", "group_id"),
        ("sessions", "group_id"),
        ("absences", "group_id"),
        ("audit", "group_id"),
    ):
        assert await rows(scene, f"SELECT * FROM {table} WHERE {column} = ?", gid) == [], table
    assert await rows(scene, "SELECT * FROM rsvps WHERE session_id = ?", sessions[0]) == []
    assert await rows(scene, "SELECT * FROM swaps") == []
    assert [j["key"] for j in await rows(scene, "SELECT key FROM jobs WHERE kind = 'test'")] == [
        f"group:{other}:session:1:channel"
    ]
    # The other group and its data are untouched.
    assert await roster_of(scene, "Thursday") == {scene.members[2].id: "leader"}
    assert len(await rows(scene, "SELECT * FROM rsvps WHERE session_id = ?", kept_session)) == 1
    # The deletion itself stays on record at server level: who, what, when.
    [entry] = await rows(scene, "SELECT * FROM audit WHERE action = 'group delete'")
    assert (entry["guild_id"], entry["group_id"], entry["actor_id"], entry["detail"]) == (
        scene.guild.id,
        None,
        scene.admin.id,
        "Tuesday",
    )
    assert entry["at"] == to_unix(START + timedelta(minutes=5))
    shown = private(await scene.slash("group audit", scene.admin, group="Thursday"))
    assert "Server-wide changes:" in shown
    assert f"<t:{entry['at']}:f> <@{scene.admin.id}> group delete: Tuesday" in shown
    carol_sees = private(await scene.slash("group audit", scene.members[2]))
    assert "group delete" not in carol_sees  # a group's leader sees only their group

    refused(
        await scene.slash("group show", alice, group="Tuesday"),
        "I don't know a group called **Tuesday** here.",
    )
    # A second prompt for the same group finds it gone.
    await scene.double.click(
        stale.reply, button(stale.reply, "Delete the group and all its data"), scene.admin
    )
    assert stale.reply.content == "That group is already gone."
    assert len(await rows(scene, "SELECT * FROM audit WHERE action = 'group delete'")) == 1


# -- audit -------------------------------------------------------------------------------------


async def test_every_leader_change_is_audited_and_shown_newest_first(scene: Scene) -> None:
    alice, bob, *_ = scene.members
    await create(scene, leader=scene.leader)
    steps = [
        ("group add", scene.leader, {"member": alice}),
        ("group add", scene.leader, {"member": bob, "role": "co-leader"}),
        ("group add", bob, {"member": alice, "role": "leader"}),
        ("group remove", scene.admin, {"member": bob}),
        ("group settings", alice, {"presenter_mode": "on-deck"}),
    ]
    for command, user, options in steps:
        scene.clock.advance(timedelta(minutes=10))
        private(await scene.slash(command, user, **options))
    gid = await group_id(scene, "Tuesday")
    recorded = await rows(
        scene, "SELECT actor_id, action, detail, at FROM audit WHERE group_id = ? ORDER BY id", gid
    )
    at = [to_unix(START + timedelta(minutes=10 * n)) for n in range(6)]
    assert recorded == [
        {
            "actor_id": scene.admin.id,
            "action": "group create",
            "detail": f"Tuesday in #{scene.home.id}, Europe/London, leader {scene.leader.id}",
            "at": at[0],
        },
        {
            "actor_id": scene.leader.id,
            "action": "roster add",
            "detail": f"{alice.id} as member",
            "at": at[1],
        },
        {
            "actor_id": scene.leader.id,
            "action": "roster add",
            "detail": f"{bob.id} as co-leader",
            "at": at[2],
        },
        {
            "actor_id": bob.id,
            "action": "roster role",
            "detail": f"{alice.id} as leader",
            "at": at[3],
        },
        {"actor_id": scene.admin.id, "action": "roster remove", "detail": str(bob.id), "at": at[4]},
        {
            "actor_id": alice.id,
            "action": "settings",
            "detail": "presenter_mode=on-deck",
            "at": at[5],
        },
    ]
    refused(await scene.slash("group audit", bob), "Only the leaders of **Tuesday**")
    shown = private(await scene.slash("group audit", alice)).split("\n")
    assert shown[0] == "**Tuesday**: recent changes"
    entries = [line for line in shown if line.startswith("- ")]
    assert entries == [
        f"- <t:{at[5]}:f> <@{alice.id}> settings: presenter\\_mode=on-deck",
        f"- <t:{at[4]}:f> <@{scene.admin.id}> roster remove: {bob.id}",
        f"- <t:{at[3]}:f> <@{bob.id}> roster role: {alice.id} as leader",
        f"- <t:{at[2]}:f> <@{scene.leader.id}> roster add: {bob.id} as co-leader",
        f"- <t:{at[1]}:f> <@{scene.leader.id}> roster add: {alice.id} as member",
        f"- <t:{at[0]}:f> <@{scene.admin.id}> group create: Tuesday in #{scene.home.id}, "
        f"Europe/London, leader {scene.leader.id}",
    ]
    # Refused attempts leave no trace.
    refused(await scene.slash("group add", bob, member=alice), "Only the leaders")
    assert len(await rows(scene, "SELECT * FROM audit WHERE group_id = ?", gid)) == 6


async def test_leaving_a_server_deletes_that_servers_data(scene: Scene) -> None:
    """PRODUCT.md: when the bot leaves a server, that server's data is deleted (and only
    that server's)."""
    other_guild = scene.double.add_guild("Other clinic")
    other_home = scene.double.add_channel(other_guild, "balint")
    scene.double.add_member(other_guild, scene.leader)
    await scene.create_group("Tuesday")
    await scene.slash(
        "session schedule",
        scene.leader,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=3,
    )
    other = await scene.double.slash(
        "group create",
        other_guild_owner(scene, other_guild),
        guild=other_guild,
        channel=other_home,
        options={"channel": other_home},
        name="Elsewhere",
        timezone="Europe/Paris",
        leader=scene.leader,
    )
    assert "Created" in reply_text(other)
    database = scene.running.database
    assert await database.scalar("SELECT count(*) FROM jobs") > 0

    scene.double.gateway.dispatch("GUILD_DELETE", {"id": str(scene.guild.id)}, INTENT_GUILDS)
    here = (scene.guild.id,)
    for _ in range(100):
        if not await database.scalar("SELECT count(*) FROM groups WHERE guild_id = ?", here):
            break
        await asyncio.sleep(0.02)
    assert await database.scalar("SELECT count(*) FROM groups WHERE guild_id = ?", here) == 0
    assert await database.scalar("SELECT count(*) FROM members") == 1  # the other group's
    assert await database.scalar("SELECT count(*) FROM sessions") == 0
    assert await database.scalar("SELECT count(*) FROM jobs WHERE state = 'pending'") == 0
    assert await database.scalar("SELECT count(*) FROM audit WHERE guild_id = ?", here) == 0
    # the other server's group is untouched
    assert await database.scalar("SELECT name FROM groups") == "Elsewhere"
    there = (other_guild.id,)
    assert await database.scalar("SELECT count(*) FROM audit WHERE guild_id = ?", there) == 1


def other_guild_owner(scene: Scene, guild: Guild) -> User:
    return scene.double.users[guild.owner_id]


async def test_data_of_a_server_that_removed_the_bot_while_it_was_offline_is_deleted(
    scene: Scene,
) -> None:
    await scene.create_group("Tuesday")
    async with scene.running.database.transaction() as tx:
        # A server that removed the bot while it was down: its GUILD_DELETE never came.
        await tx.execute(
            "INSERT INTO groups (guild_id, name, name_key, channel_id, timezone, created_at)"
            " VALUES (4242, 'Gone', 'gone', 1, 'Europe/London', 0)"
        )
        await tx.execute(
            "INSERT INTO audit (guild_id, actor_id, action, at) VALUES (4242, 1, 'x', 0)"
        )
    await scene.restart()
    await handlers_done()
    database = scene.running.database
    assert await database.scalar("SELECT count(*) FROM groups WHERE guild_id = 4242") == 0
    assert await database.scalar("SELECT count(*) FROM audit WHERE guild_id = 4242") == 0
    assert await database.scalar("SELECT name FROM groups") == "Tuesday"  # still here
