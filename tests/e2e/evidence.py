"""Shared evidence for the bad-input, forged-interaction and permission tests: a realistic
clinic to run them in, a logical dump of the database (to show that a refusal changed
nothing), a record of the refusals the bot rendered, and the per-action checks every
one of those tests makes (answered within Discord's 3 seconds, no crash, no ERROR, no
unsafe mention).

The autouse guards of `conftest.py` check mentions and ERROR logs for a whole test; the
checks here make the same checks after each action, so a failure names the action.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from bot.kernel.errors import Refusal
from cogs._common import messages
from cogs._common.messages import GENERIC_FAILURE
from tests.double import Channel, DiscordDouble, Guild, Interaction, Request, Role, User
from tests.e2e.conftest import (
    Guards,
    Scene,
    handlers_done,
    instant_pacer,
    mention_problems,
    sent_message_bodies,
)

GUILD_ANNOUNCEMENT = 5  # a channel type the double has no name for
ANSWER_DEADLINE = 3.0  # seconds: Discord forgets an interaction not answered by then
ROLE_MENTION = re.compile(r"<@&\d+>")
"""A role mention that would render (user text is escaped: a zero-width space after <)."""

# The clinic's calendar (the scene's clock starts on Monday 23 November 2026, 09:00 UTC).
TUESDAY_START = "2026-11-24 19:00"  # weekly, 90 minutes, London (GMT: 19:00 UTC)
THURSDAY_START = "2026-11-26 18:00"
RSVP_TIME = datetime.fromisoformat("2026-11-23T19:30:00+00:00")  # the first reminders are out
FIRST_ENDED = datetime.fromisoformat("2026-11-24T21:00:00+00:00")  # its window is open
NOW = datetime.fromisoformat("2026-11-26T21:00:00+00:00")  # released; Thursday's window open


async def quiet(scene: Scene) -> None:
    """Wait until the bot has finished every handler and the scheduled work due now."""
    await handlers_done()
    await scene.settle()
    await handlers_done()


async def barrier(scene: Scene) -> None:
    """Make sure the bot has read every interaction sent so far, and finished with it,
    even those it ignores: the gateway delivers events in order, so once a later command
    is answered the earlier ones have been dispatched."""
    await scene.slash("about", scene.admin)
    await quiet(scene)


# -- the commands, as Discord offers them -------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A slash command a user can run (a subcommand, or a command without any), as the
    bot registered it with Discord."""

    path: str  # "group add"
    options: tuple[dict[str, Any], ...]
    contexts: frozenset[int]  # 0: in a server, 1: in a DM with the bot

    @property
    def in_dm(self) -> bool:
        return 1 in self.contexts


def leaf_commands(double: DiscordDouble, guild: Guild) -> list[Leaf]:
    """Every slash command the bot registered (for `guild` and globally), by path: what
    a test of every command runs, so a new command is covered without editing it."""
    leaves: dict[str, Leaf] = {}

    def walk(path: str, options: list[dict[str, Any]], contexts: frozenset[int]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]
        if not subs:
            leaves.setdefault(path, Leaf(path, tuple(options), contexts))
        for sub in subs:
            walk(f"{path} {sub['name']}", list(sub.get("options") or []), contexts)

    for command in double.commands(guild) + double.commands():
        if command.type != 1:
            continue
        contexts = frozenset(command.data.get("contexts") or (0, 1))
        if command.data.get("dm_permission") is False:
            contexts -= {1}
        walk(command.name, command.options, contexts)
    return sorted(leaves.values(), key=lambda leaf: leaf.path)


# -- the database, dumped ----------------------------------------------------------------------


class Dumper:
    """A logical dump of the bot's database, through a read-only connection of its own
    (SQLite's `iterdump`: the schema and every row, as SQL)."""

    def __init__(self, scene: Scene) -> None:
        path = scene.settings.database_path
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def dump(self) -> list[str]:
        # outside a transaction, each read sees the latest commit
        return list(self._connection.iterdump())

    def close(self) -> None:
        self._connection.close()


def changes(before: list[str], after: list[str], limit: int = 12) -> str:
    """What differs between two dumps, as a short unified diff."""
    lines = list(difflib.unified_diff(before, after, "before", "after", lineterm="", n=0))
    shown = lines[: limit + 2]
    more = f"\n... and {len(lines) - len(shown)} more lines" if len(lines) > len(shown) else ""
    return "\n".join(shown) + more


# -- refusals ----------------------------------------------------------------------------------


class Refusals:
    """Every refusal text the bot rendered: a spy on `Refusal.render`, the one place
    that turns a refusal into what the user reads. A reply that is one of them is a
    refusal (an ephemeral error answer, which must change nothing)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = Refusal.render

        def render(refusal: Refusal, escape: Any) -> str:
            text = original(refusal, escape)
            self.texts.append(text)
            return text

        monkeypatch.setattr(Refusal, "render", render)

    def mark(self) -> int:
        return len(self.texts)

    def answered_with_one(self, interaction: Interaction, since: int) -> bool:
        """Whether the interaction was answered with a refusal rendered after `since`."""
        rendered = set(self.texts[since:])
        return any(message.content in rendered for message in interaction.messages)


def refused_privately(interaction: Interaction) -> bool:
    """Whether the bot answered, and only privately: every message it showed for the
    interaction is ephemeral, or is an edit of a message only this user sees (a DM)."""
    shown = interaction.messages
    if not shown:
        return False
    return all(m.ephemeral or m.guild_id is None for m in shown)


def without_deferral(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot defers a command still busy after 2 s ("thinking…"), which would pass
    Discord's 3 s and hide the slowness: the evidence wants the answer itself in time."""
    monkeypatch.setattr(messages, "DEFER_AFTER_SECONDS", 60.0)


def answered_in(interaction: Interaction) -> float | None:
    """Seconds from the interaction to the bot's first callback (None: no callback)."""
    if not interaction.attempts:
        return None
    return interaction.attempts[0].at - interaction.sent_at


# -- the checks after every action ---------------------------------------------------------------


@dataclass
class _Since:
    """The requests a double recorded after some point: what `mention_problems` and
    `sent_message_bodies` read of a double, so they check only those."""

    requests: list[Request]


@dataclass
class Watch:
    """The per-action checks: what is new since `mark()` in the double's protocol
    errors, the bodies the bot sent and the ERROR records the guards collected."""

    double: DiscordDouble
    guards: Guards
    _marks: tuple[int, int, int] = (0, 0, 0)

    def mark(self) -> None:
        double = self.double
        self._marks = (len(double.errors), len(double.requests), len(self.guards.errors.records))

    def problems(self, *interactions: Interaction, answered: bool = True) -> list[str]:
        """Everything wrong since `mark()`; `answered`: each interaction must have been
        answered, in time."""
        errors, requests, records = self._marks
        found = [f"protocol: {e}" for e in self.double.errors[errors:]]
        since: Any = _Since(self.double.requests[requests:])
        for _, body in sent_message_bodies(since):
            content = str(body.get("content") or "")
            if ROLE_MENTION.search(content):
                found.append(f"a role mention renders in {content[:200]!r}")
            if content == GENERIC_FAILURE:
                found.append("the bot answered with its generic failure (it crashed)")
        found += mention_problems(since)[1]
        found += [
            f"{r.name} logged an ERROR: {r.getMessage()[:300]}"
            for r in self.guards.errors.records[records:]
        ]
        found += [problem for i in interactions for problem in _timing(i, answered)]
        return found


def _timing(interaction: Interaction, answered: bool) -> list[str]:
    took = answered_in(interaction)
    if took is None:
        return [f"{interaction.describe()} was never answered"] if answered else []
    if took > ANSWER_DEADLINE:
        return [f"{interaction.describe()} answered after {took:.2f} s"]
    if interaction.attempts[0].status >= 300:
        return [f"{interaction.describe()}: its answer was rejected"]
    return []


def guards_of(request: pytest.FixtureRequest) -> Guards:
    guards = request.getfixturevalue("_e2e_guards")
    assert isinstance(guards, Guards)
    return guards


# -- the clinic ----------------------------------------------------------------------------------


@dataclass
class Clinic:
    """One server with two groups in a term under way, and everyone who can act there.

    - "Tuesday group" (`tuesday`) in the home channel, led by `leader`, with alice, bob,
      carol and dave; 8 weekly sessions from Tuesday 24 November 19:00 London. The first
      (`ended`) is over: its four reflections were released to the leaders. One later
      session (`cancelled`) was cancelled. A swap request (`swap`) waits for its answer.
    - "Thursday group" (`thursday`) in `scene.other_channel`, led by `other_leader`, with
      carol and dave; 4 weekly sessions from Thursday 26 November 18:00. Its first
      (`thursday_ended`) is over and its reflection window is open; carol wrote one.
    - `outsider` is in the server and in no group; `stranger` is not in the server.
    - The clock stands at Thursday 26 November 21:00 UTC.
    """

    scene: Scene
    other_leader: User
    stranger: User
    spare: Channel  # a text channel no group lives in
    news: Channel  # an announcement channel
    role: Role  # a mentionable role
    tuesday: int = 0
    thursday: int = 0
    ended: int = 0
    cancelled: int = 0
    thursday_ended: int = 0
    swap: int = 0
    swap_requester: User | None = None
    swap_asked: User | None = None
    upcoming: list[int] = field(default_factory=list)
    thursday_upcoming: list[int] = field(default_factory=list)

    @property
    def members(self) -> list[User]:
        return self.scene.members

    @property
    def alice(self) -> User:
        return self.scene.members[0]

    @property
    def bob(self) -> User:
        return self.scene.members[1]

    @property
    def carol(self) -> User:
        return self.scene.members[2]

    @property
    def dave(self) -> User:
        return self.scene.members[3]

    def people(self) -> list[User]:
        """Everyone who can act in the server, plus the stranger (for user options)."""
        scene = self.scene
        return [
            scene.leader,
            *scene.members,
            self.other_leader,
            scene.outsider,
            scene.admin,
            scene.robot,
            self.stranger,
        ]

    def user(self, user_id: int) -> User:
        return next(user for user in self.people() if user.id == user_id)

    async def session_ids(self, group_id: int) -> list[int]:
        rows = await self.scene.running.database.fetchall(
            "SELECT id FROM sessions WHERE group_id = ? ORDER BY starts_at", (group_id,)
        )
        return [int(row["id"]) for row in rows]


async def open_clinic(scene: Scene) -> Clinic:
    """Build the clinic (see `Clinic`) through the commands, buttons and forms people use."""
    double = scene.double
    other_leader = double.add_user("dr-thursday")
    double.add_member(scene.guild, other_leader)
    clinic = Clinic(
        scene=scene,
        other_leader=other_leader,
        stranger=double.add_user("not-in-the-server"),
        spare=double.add_channel(scene.guild, "random"),
        news=double.add_channel(scene.guild, "news", type=GUILD_ANNOUNCEMENT),
        role=double.add_role(scene.guild, "Clinicians", mentionable=True),
    )
    await scene.restart(dm_pacer=instant_pacer())
    clinic.tuesday = await scene.create_group("Tuesday group")
    clinic.thursday = await _thursday_group(clinic)
    await _plan(scene, scene.leader, TUESDAY_START, 8, scene.home)
    await _plan(scene, other_leader, THURSDAY_START, 4, scene.other_channel)
    tuesday = await clinic.session_ids(clinic.tuesday)
    thursday = await clinic.session_ids(clinic.thursday)
    clinic.ended, clinic.thursday_ended = tuesday[0], thursday[0]

    await _at(scene, RSVP_TIME)
    await _rsvp(clinic, tuesday[0])
    await _at(scene, FIRST_ENDED)
    for member in scene.members:
        await write_reflection(scene, member, clinic.ended, f"What {member.name} took home.")
    await _at(scene, NOW)  # Tuesday's window closes and is released; Thursday's opens
    await write_reflection(scene, clinic.carol, clinic.thursday_ended, "Carol's thoughts.")

    clinic.cancelled = tuesday[3]
    cancelled = await scene.slash("session cancel", scene.leader, session=clinic.cancelled)
    assert "Cancelled" in (cancelled.reply.content or ""), cancelled.reply.content
    await _swap(clinic, tuesday[1])
    await quiet(scene)
    clinic.upcoming = [s for s in tuesday[1:] if s != clinic.cancelled]
    clinic.thursday_upcoming = thursday[1:]
    return clinic


async def _thursday_group(clinic: Clinic) -> int:
    scene = clinic.scene
    channel = scene.other_channel
    created = await scene.slash(
        "group create",
        scene.admin,
        name="Thursday group",
        channel=channel,
        timezone="Europe/London",
        leader=clinic.other_leader,
        in_channel=channel,
    )
    assert "Created" in (created.reply.content or ""), created.reply.content
    for member in (clinic.carol, clinic.dave):
        await scene.slash("group add", clinic.other_leader, member=member, in_channel=channel)
    found = await scene.running.database.scalar(
        "SELECT id FROM groups WHERE name = 'Thursday group'"
    )
    return int(found)


async def _plan(scene: Scene, leader: User, start: str, count: int, channel: Channel) -> None:
    planned = await scene.slash(
        "session schedule",
        leader,
        start=start,
        duration=90,
        repeat="weekly",
        count=count,
        in_channel=channel,
    )
    assert "Planned" in (planned.reply.content or ""), planned.reply.content
    await quiet(scene)


async def _at(scene: Scene, instant: datetime) -> None:
    scene.clock.set(instant)
    await quiet(scene)


async def _rsvp(clinic: Clinic, session_id: int) -> None:
    """alice and bob answer Attending on the first reminder, dave Can't make it."""
    scene = clinic.scene
    [reminder] = [m for m in scene.home_messages() if f"rsvp:{session_id}:yes" in m.custom_ids()]
    for user, answer in ((clinic.alice, "yes"), (clinic.bob, "yes"), (clinic.dave, "no")):
        await scene.double.click(reminder, f"rsvp:{session_id}:{answer}", user)
    await quiet(scene)


async def write_reflection(scene: Scene, user: User, session_id: int, text: str) -> Interaction:
    """`user` presses "Write an anonymous reflection" on the session's invitation in the
    home channels, and submits the form with `text`."""
    invitation = next(
        m
        for channel in (scene.home, scene.other_channel)
        for m in scene.double.messages(channel)
        if f"reflect:{session_id}" in m.custom_ids()
    )
    opened = await scene.double.click(invitation, f"reflect:{session_id}", user)
    written = await scene.double.submit_modal(opened, user, {"text": text, "rating": "4"})
    await quiet(scene)
    return written


async def presenter_of(scene: Scene, session_id: int) -> int | None:
    found = await scene.running.database.scalar(
        "SELECT presenter_id FROM sessions WHERE id = ?", (session_id,)
    )
    return None if found is None else int(found)


async def _swap(clinic: Clinic, session_id: int) -> None:
    """The presenter of `session_id` asks another member of Tuesday to take it."""
    scene = clinic.scene
    presenter = await presenter_of(scene, session_id)
    assert presenter is not None, "the rota gave the session no presenter"
    requester = clinic.user(presenter)
    asked = next(m for m in scene.members if m is not requester)
    asking = await scene.slash("rota swap", requester, session=session_id, options={"with": asked})
    assert "I asked" in (asking.reply.content or ""), asking.reply.content
    found = await scene.running.database.scalar(
        "SELECT id FROM swaps WHERE session_id = ? ORDER BY id DESC LIMIT 1", (session_id,)
    )
    clinic.swap, clinic.swap_requester, clinic.swap_asked = int(found), requester, asked


# -- the evidence fixture --------------------------------------------------------------------------


@dataclass
class Evidence:
    """What a test of refusals needs: the clinic, the database dump, the refusals
    rendered, and the per-action checks."""

    clinic: Clinic
    dumper: Dumper
    refusals: Refusals
    watch: Watch
    log: list[str] = field(default_factory=list)  # one line per action, for the figures

    @property
    def scene(self) -> Scene:
        return self.clinic.scene


@contextlib.contextmanager
def evidence_for(
    clinic: Clinic, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Evidence]:
    without_deferral(monkeypatch)
    dumper = Dumper(clinic.scene)
    try:
        yield Evidence(
            clinic=clinic,
            dumper=dumper,
            refusals=Refusals(monkeypatch),
            watch=Watch(clinic.scene.double, guards_of(request)),
        )
    finally:
        dumper.close()
