"""Who may run what (issue 12, point 3; PRODUCT.md "Who uses it"), table-driven.

Every leader-only command is run, on Tuesday group, by one of its members, by an
outsider and by the leader of Thursday group (the second group of the same server);
every Manage Server command by those and by Tuesday's own leader; every member command
by the outsider and by Thursday's leader. Each runs both with the group implied (in
Tuesday's home channel) and named in the `group` option from elsewhere (where the
command has one). Each must be refused with a clear private answer that shows nothing
of the group (no member, no session time), and leave the database as it was, row for
row.

The commands come from what the bot registered with Discord; `AUDIENCES` says who may
run each (README "What it does"). A command missing from it fails the test, so a new
command must be classified, and the table must agree with what each command declares
for `/help` (`extras["audience"]`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cogs._common.audience import Audience
from tests.double import Channel, User
from tests.e2e.conftest import Scene
from tests.e2e.evidence import (
    Clinic,
    Evidence,
    changes,
    evidence_for,
    leaf_commands,
    open_clinic,
    quiet,
)

log = logging.getLogger(__name__)

Values = Callable[[Clinic], dict[str, Any]]


def nothing(clinic: Clinic) -> dict[str, Any]:
    return {}


AUDIENCES: dict[str, tuple[Audience, Values]] = {
    # everyone (nothing to refuse)
    "about": (Audience.ANYONE, nothing),
    "help": (Audience.ANYONE, nothing),
    "privacy": (Audience.ANYONE, nothing),
    "preferences": (Audience.ANYONE, nothing),
    "mydata export": (Audience.ANYONE, nothing),
    "mydata delete": (Audience.ANYONE, nothing),
    # Manage Server
    "group create": (
        Audience.MANAGE_SERVER,
        lambda c: {"name": "Friday group", "channel": c.spare, "timezone": "Europe/London"},
    ),
    "group delete": (Audience.MANAGE_SERVER, lambda c: {"group": str(c.tuesday)}),
    # the group's leaders
    "attendance mark": (Audience.LEADER, lambda c: {"session": c.ended}),
    "leader log": (Audience.LEADER, nothing),
    "group add": (Audience.LEADER, lambda c: {"member": c.scene.outsider}),
    "group remove": (Audience.LEADER, lambda c: {"member": c.alice}),
    "group settings": (Audience.LEADER, lambda c: {"reflection_threshold": 5}),
    "group audit": (Audience.LEADER, nothing),
    "session schedule": (
        Audience.LEADER,
        lambda c: {"start": "2027-01-05 19:00", "duration": 90, "repeat": "once", "count": 1},
    ),
    "session cancel": (Audience.LEADER, lambda c: {"session": c.upcoming[1]}),
    "session move": (
        Audience.LEADER,
        lambda c: {"session": c.upcoming[1], "start": "2026-12-09 20:00"},
    ),
    "rota generate": (Audience.LEADER, nothing),
    "rota assign": (Audience.LEADER, lambda c: {"session": c.upcoming[1], "member": c.alice}),
    "case view": (Audience.LEADER, nothing),
    "reflections show": (Audience.LEADER, nothing),
    "reflections hide": (Audience.LEADER, lambda c: {"number": 1}),
    # the group's members
    "group show": (Audience.MEMBER, nothing),
    "session list": (Audience.MEMBER, nothing),
    "session calendar": (Audience.MEMBER, nothing),
    "rota show": (Audience.MEMBER, nothing),
    "rota me": (Audience.MEMBER, nothing),
    "rota swap": (Audience.MEMBER, lambda c: {"session": c.upcoming[0], "with": c.carol}),
    "rota away": (Audience.MEMBER, lambda c: {"from": "2026-12-01", "to": "2026-12-02"}),
    "rota history": (Audience.MEMBER, nothing),
    "case submit": (Audience.MEMBER, nothing),
    "case flag": (Audience.MEMBER, nothing),
    "case withdraw": (Audience.MEMBER, nothing),
    "reflect": (Audience.MEMBER, nothing),
}
"""Who may run each command (README "What it does"), and the option values to run it
with (on Tuesday group: a session of its, one of its members...)."""

REFUSALS = {
    Audience.MANAGE_SERVER: r"needs the Manage Server permission",
    Audience.LEADER: r"^Only the leaders (and co-leaders )?of \*\*Tuesday group\*\*"
    r"|^You are not a leader or co-leader of",  # /leader log
    Audience.MEMBER: r"^Only members of \*\*Tuesday group\*\*"
    r"|^I can't find that session",  # /rota swap: the session is no slot of the caller's
}
"""The clear refusal each audience gives the others."""

OWN_ANSWERS = {
    "leader log": r"^The \d+ sessions? you led",
    "rota me": r"You have no presenting slot planned",
}
"""Commands about the caller's own data, in every group: they answer with that (none of
it Tuesday's) rather than refuse."""


@dataclass
class Case:
    command: str
    user: User
    who: str  # how the user stands to Tuesday group
    channel: Channel
    values: dict[str, Any]

    def describe(self) -> str:
        named = "named" if "group" in self.values else "implied"
        return f"/{self.command} by {self.who} ({self.user.name}), group {named}"


def strangers(clinic: Clinic, audience: Audience) -> list[tuple[str, User]]:
    """Who must be refused a command of `audience` on Tuesday group."""
    scene = clinic.scene
    outsiders = [("an outsider", scene.outsider), ("Thursday's leader", clinic.other_leader)]
    if audience is Audience.MEMBER:
        return outsiders
    members = [("a member", clinic.alice), *outsiders]
    if audience is Audience.LEADER:
        return members
    return [("Tuesday's leader", scene.leader), *members]


def cases(clinic: Clinic, commands: dict[str, bool]) -> list[Case]:
    """Every refusal to check: `commands` says, for each command, whether it has a
    `group` option."""
    scene = clinic.scene
    found = []
    for command, has_group in commands.items():
        audience, values = AUDIENCES[command]
        if audience is Audience.ANYONE:
            continue
        for who, user in strangers(clinic, audience):
            found.append(Case(command, user, who, scene.home, values(clinic)))
            if has_group and command != "group delete":
                elsewhere = scene.other_channel if user is clinic.other_leader else clinic.spare
                named = {**values(clinic), "group": str(clinic.tuesday)}
                found.append(Case(command, user, who, elsewhere, named))
    return found


def private_to_the_group(clinic: Clinic, text: str) -> list[str]:
    """What a refusal shows of Tuesday group that an outsider must not see."""
    scene = clinic.scene
    shown = [f"<@{user.id}>" for user in (scene.leader, *scene.members) if f"<@{user.id}>" in text]
    if "<t:" in text:
        shown.append("a session time")
    return shown


async def check(evidence: Evidence, case: Case) -> list[str]:
    scene, clinic = evidence.scene, evidence.clinic
    audience, _ = AUDIENCES[case.command]
    before = evidence.dumper.dump()
    evidence.watch.mark()
    interaction = await scene.slash(
        case.command, case.user, in_channel=case.channel, options=case.values
    )
    await quiet(scene)
    found = evidence.watch.problems(interaction)
    text = interaction.reply.content or ""
    evidence.log.append(f"{case.describe()}: {text[:120]!r}")
    if not interaction.reply.ephemeral:
        found.append(f"the refusal is public: {text!r}")
    own = OWN_ANSWERS.get(case.command)
    if own is not None and re.search(own, text):
        files = b"".join(interaction.reply.files.values())
        if b"Tuesday" in files or "Tuesday" in text:
            found.append(f"the answer shows Tuesday group: {text!r}")
    elif not re.search(REFUSALS[audience], text):
        found.append(f"not a clear refusal: {text!r}")
    found += [f"the answer shows {what}: {text!r}" for what in private_to_the_group(clinic, text)]
    after = evidence.dumper.dump()
    if after != before:
        found.append(f"the database changed:\n{changes(before, after)}")
    return [f"{case.describe()}: {problem}" for problem in found]


def declared_audiences(scene: Scene) -> dict[str, str]:
    """What each command declares for `/help` (its own `extras`, or its group's)."""
    declared = {}
    for command in scene.running.tree.walk_commands():
        found: Any = command
        while found is not None and "audience" not in found.extras:
            found = found.parent
        declared[command.qualified_name] = "anyone" if found is None else found.extras["audience"]
    return declared


@pytest.fixture
async def evidence(
    scene: Scene, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Evidence]:
    clinic = await open_clinic(scene)
    with evidence_for(clinic, request, monkeypatch) as found:
        yield found


async def test_every_command_is_classified_as_help_shows_it(scene: Scene) -> None:
    registered = {leaf.path for leaf in leaf_commands(scene.double, scene.guild)}
    assert sorted(registered - set(AUDIENCES)) == [], "commands not in AUDIENCES"
    assert sorted(set(AUDIENCES) - registered) == [], "AUDIENCES names commands that are gone"
    declared = declared_audiences(scene)
    disagree = {
        command: (str(audience), declared[command])
        for command, (audience, _) in AUDIENCES.items()
        if declared[command] != audience
    }
    assert disagree == {}, "the table and the commands' own declarations disagree"


async def test_no_one_acts_beyond_their_standing_and_nothing_changes(evidence: Evidence) -> None:
    scene = evidence.scene
    commands = {
        leaf.path: any(option["name"] == "group" for option in leaf.options)
        for leaf in leaf_commands(scene.double, scene.guild)
        if leaf.path in AUDIENCES
    }
    problems: list[str] = []
    every = cases(evidence.clinic, commands)
    for case in every:
        problems += await check(evidence, case)
    for line in evidence.log:
        log.info("%s", line)
    log.info("%d refusals checked", len(every))
    assert not problems, "\n".join(problems)
