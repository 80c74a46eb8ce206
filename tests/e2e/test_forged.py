"""Forged interactions (issue 12, point 3): every button and form the bot handles, sent
with custom ids it never gave this user: another group's session, another member's swap,
another member's draft or pending reflection, a cancelled, started or unknown session,
ids too large for the database, garbage and malformed strings; by members, outsiders
and the leader of another group.

A modified Discord client can send any custom id, and a stale one ids of things that
have changed. The double sends them (`DiscordDouble.press_forged`, `submit_forged_form`)
on a message of the bot's made up for the purpose, as discord.py needs. Each must be
refused (answered privately, only to the one who pressed) or ignored (not answered);
either way the database is the same row for row, the messages others see are unchanged,
nothing is logged as an ERROR and no answer is late or crashes.

The templates come from the bot itself (the `DynamicItem`s it registered, and every form
class under `cogs/`), so a new button or form that no case covers fails the test.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import discord
import pytest

import cogs
from cogs.cases import drafting
from cogs.reflections import writing
from tests.double import Channel, Interaction, Message, User
from tests.e2e.conftest import Scene, reply_text
from tests.e2e.evidence import (
    Clinic,
    Evidence,
    barrier,
    changes,
    evidence_for,
    open_clinic,
    quiet,
    refused_privately,
)

log = logging.getLogger(__name__)

Outcome = Literal["refused", "ignored"]
HUGE = "9" * 40  # digits, but no id the database could hold
UNKNOWN = 987654  # an id nothing has
FORMS: dict[str, re.Pattern[str]] = {
    "cogs.cases.drafting.CaseNoteForm": drafting.FORM_ID,
    "cogs.reflections.writing.ReflectionForm": writing.FORM_ID,
}
"""Every form the bot shows (by its class), and the custom ids its listener accepts."""
REFUSED: Outcome = "refused"
IGNORED: Outcome = "ignored"


@dataclass
class Forgery:
    """One forged interaction and what must come of it."""

    what: str
    user: User
    custom_id: str
    expect: Outcome
    channel: Channel | None = None  # None: the user's DM with the bot
    values: list[str] | None = None  # a select's chosen values
    form: dict[str, str] | None = None  # a form's inputs: this is a form, not a button

    def describe(self) -> str:
        kind = "form" if self.form is not None else "select" if self.values else "button"
        return f"{self.what} ({kind} {self.custom_id[:60]!r} by {self.user.name})"


@dataclass
class Secrets:
    """What only its owner holds: tokens of alice's case draft and dave's pending
    reflection, and the custom id of the admin's delete confirmation."""

    draft: str
    draft_message: Message
    pending: str
    confirm_delete: str


# -- setting the scene -------------------------------------------------------------------------


async def secrets_of(clinic: Clinic) -> Secrets:
    """alice writes a case note to the bot by DM (a draft waits for her Confirm); dave
    writes a second reflection (it waits for his "Replace it?"); the admin asks to delete
    Thursday (the confirmation waits)."""
    scene = clinic.scene
    double = scene.double
    sent = await double.dm(
        clinic.alice, "A man in his fifties who keeps cancelling at short notice."
    )
    preview = await double.wait_for_message(clinic.alice, lambda m: m.id > sent.id)
    [confirm] = [c for c in preview.custom_ids() if c.startswith("case:confirm:")]
    again = await _write_again(clinic)
    [pending] = [c for c in again.reply.custom_ids() if c.startswith("reflect:keep:")]
    asked = await scene.slash("group delete", scene.admin, group=str(clinic.thursday))
    delete = asked.reply.custom_ids()[0]  # "Delete the group and all its data"
    await quiet(scene)
    return Secrets(
        draft=confirm.split(":")[2],
        draft_message=preview,
        pending=pending.split(":")[2],
        confirm_delete=delete,
    )


async def _write_again(clinic: Clinic) -> Interaction:
    """dave opens the form twice, and sends both: the second asks "Replace it?"."""
    scene, dave = clinic.scene, clinic.dave
    invitation = next(
        m
        for m in scene.double.messages(scene.other_channel)
        if f"reflect:{clinic.thursday_ended}" in m.custom_ids()
    )
    forms = [
        await scene.double.click(invitation, f"reflect:{clinic.thursday_ended}", dave)
        for _ in range(2)
    ]
    await scene.double.submit_modal(forms[0], dave, {"text": "First thoughts."})
    answered = await scene.double.submit_modal(forms[1], dave, {"text": "Second thoughts."})
    assert "Replace it with this one?" in reply_text(answered), reply_text(answered)
    await quiet(scene)
    return answered


# -- the forgeries -----------------------------------------------------------------------------

F = Forgery


def rsvp_forgeries(clinic: Clinic) -> list[Forgery]:
    scene, home = clinic.scene, clinic.scene.home
    tuesday, thursday = clinic.upcoming[0], clinic.thursday_upcoming[0]
    alice = clinic.alice
    return [
        F("an outsider answers for a group", scene.outsider, f"rsvp:{tuesday}:yes", REFUSED, home),
        F(
            "another group's leader answers",
            clinic.other_leader,
            f"rsvp:{tuesday}:no",
            REFUSED,
            home,
        ),
        F("another group's session", alice, f"rsvp:{thursday}:yes", REFUSED, home),
        F("a cancelled session", alice, f"rsvp:{clinic.cancelled}:no", REFUSED, home),
        F("a session that has started", alice, f"rsvp:{clinic.ended}:yes", REFUSED, home),
        F("an unknown session", alice, f"rsvp:{UNKNOWN}:yes", REFUSED, home),
        F("a session id too large", alice, f"rsvp:{HUGE}:yes", IGNORED, home),
        F("an answer that is not one", alice, f"rsvp:{tuesday}:maybe", IGNORED, home),
        F("a trailing part", alice, f"rsvp:{tuesday}:yes:x", IGNORED, home),
        F("no session", alice, "rsvp::yes", IGNORED, home),
        F("a negative session", alice, "rsvp:-1:yes", IGNORED, home),
        F("full-width digits", alice, "rsvp:１:yes", IGNORED, home),
        F("upper case", alice, f"rsvp:{tuesday}:YES", IGNORED, home),
    ]


def swap_forgeries(clinic: Clinic) -> list[Forgery]:
    scene, swap = clinic.scene, clinic.swap
    requester, asked = clinic.swap_requester, clinic.swap_asked
    assert requester is not None
    assert asked is not None
    bystander = next(m for m in scene.members if m not in (requester, asked))
    return [
        F("another member's swap", bystander, f"rota-swap:{swap}:accept", REFUSED),
        F("the requester answers their own", requester, f"rota-swap:{swap}:accept", REFUSED),
        F("an outsider answers", scene.outsider, f"rota-swap:{swap}:accept", REFUSED),
        F("another group's leader", clinic.other_leader, f"rota-swap:{swap}:decline", REFUSED),
        F("the group's leader", scene.leader, f"rota-swap:{swap}:accept", REFUSED, scene.home),
        F("an unknown swap", asked, f"rota-swap:{UNKNOWN}:accept", REFUSED),
        F("a swap id too large", asked, f"rota-swap:{HUGE}:accept", IGNORED),
        F("a malformed answer", asked, f"rota-swap:{swap}:ok", IGNORED),
    ]


def attendance_forgeries(clinic: Clinic) -> list[Forgery]:
    scene, home, ended = clinic.scene, clinic.scene.home, clinic.ended
    leader = scene.leader
    return [
        F("a member records", clinic.alice, f"attendance:record:{ended}", REFUSED, home),
        F("an outsider records", scene.outsider, f"attendance:record:{ended}", REFUSED, home),
        F(
            "another group's leader records",
            clinic.other_leader,
            f"attendance:record:{ended}",
            REFUSED,
            home,
        ),
        F(
            "a session not started",
            leader,
            f"attendance:record:{clinic.upcoming[0]}",
            REFUSED,
            home,
        ),
        F("a cancelled session", leader, f"attendance:record:{clinic.cancelled}", REFUSED, home),
        F(
            "another group's session",
            leader,
            f"attendance:record:{clinic.thursday_ended}",
            REFUSED,
            home,
        ),
        F("an unknown session", leader, f"attendance:record:{UNKNOWN}", REFUSED, home),
        F("a session id too large", leader, f"attendance:record:{HUGE}", IGNORED, home),
    ]


def reflection_forgeries(clinic: Clinic, secrets: Secrets) -> list[Forgery]:
    scene, other = clinic.scene, clinic.scene.other_channel
    home, alice, dave = scene.home, clinic.alice, clinic.dave
    ended, open_ = clinic.ended, clinic.thursday_ended
    token = secrets.pending
    return [
        F("a leader writes", scene.leader, f"reflect:{ended}", REFUSED, home),
        F("a window that has closed", alice, f"reflect:{ended}", REFUSED, home),
        F("another group's session", alice, f"reflect:{open_}", REFUSED, other),
        F("an outsider writes", scene.outsider, f"reflect:{open_}", REFUSED, other),
        F("that group's leader writes", clinic.other_leader, f"reflect:{open_}", REFUSED, other),
        F("a cancelled session", alice, f"reflect:{clinic.cancelled}", REFUSED, home),
        F("a session not yet held", alice, f"reflect:{clinic.upcoming[0]}", REFUSED, home),
        F("an unknown session", alice, f"reflect:{UNKNOWN}", REFUSED, home),
        F("a session id too large", alice, f"reflect:{HUGE}", IGNORED, home),
        F("deletes in another group", alice, f"reflect:delete:{open_}", REFUSED),
        F("an outsider edits", scene.outsider, f"reflect:edit:{open_}", REFUSED),
        F("that group's leader deletes", clinic.other_leader, f"reflect:delete:{open_}", REFUSED),
        F("edits after the window closed", alice, f"reflect:edit:{ended}", REFUSED),
        F("deletes an unknown session's", alice, f"reflect:delete:{UNKNOWN}", REFUSED),
        F("an id too large", alice, f"reflect:edit:{HUGE}", IGNORED),
        F("another member's pending reflection", clinic.carol, f"reflect:replace:{token}", REFUSED),
        F("another member's, kept", alice, f"reflect:keep:{token}", REFUSED),
        F("an unknown token", dave, "reflect:replace:not-a-token", REFUSED),
        F("a token too long", dave, "reflect:replace:" + "x" * 41, IGNORED),
        F("a token with a bad character", dave, f"reflect:replace:{token}!", IGNORED),
    ]


def case_forgeries(clinic: Clinic, secrets: Secrets) -> list[Forgery]:
    scene, alice, bob = clinic.scene, clinic.alice, clinic.bob
    token, thursday = secrets.draft, str(clinic.thursday)
    pick = f"case:pick:{token}"
    return [
        F("confirms another member's draft", bob, f"case:confirm:{token}", REFUSED),
        F("an outsider cancels it", scene.outsider, f"case:cancel:{token}", REFUSED),
        F("another group's leader replaces", clinic.other_leader, f"case:replace:{token}", REFUSED),
        F("edits another member's draft", bob, f"case:edit:{token}", REFUSED),
        F("a leader redirects it", scene.leader, f"case:group:{token}", REFUSED),
        F("an unknown draft", alice, "case:confirm:not-a-draft", REFUSED),
        F("a token too long", alice, "case:confirm:" + "x" * 41, IGNORED),
        F("an action that does not exist", alice, f"case:delete:{token}", IGNORED),
        F("another member's draft, picked", bob, pick, REFUSED, values=[str(clinic.tuesday)]),
        F("a group she is not in", alice, pick, REFUSED, values=[thursday]),
        F("group 0", alice, pick, REFUSED, values=["0"]),
        F("a group id too large", alice, pick, REFUSED, values=[HUGE]),
        F("a superscript digit", alice, pick, REFUSED, values=["²"]),
        F("a name, not an id", alice, pick, REFUSED, values=["Tuesday group"]),
        F("two groups at once", alice, pick, REFUSED, values=[thursday, str(clinic.tuesday)]),
    ]


def privacy_forgeries(clinic: Clinic, secrets: Secrets) -> list[Forgery]:
    scene = clinic.scene
    confirm = secrets.confirm_delete
    return [
        F("erases another member", clinic.bob, f"mydata:delete:{clinic.alice.id}", REFUSED),
        F(
            "an outsider erases the leader",
            scene.outsider,
            f"mydata:delete:{scene.leader.id}",
            REFUSED,
        ),
        F("erases user 0", clinic.alice, "mydata:delete:0", REFUSED),
        F("an id too large", clinic.alice, f"mydata:delete:{HUGE}", REFUSED),
        F("no user", clinic.alice, "mydata:delete:", IGNORED),
        F("another's group deletion", clinic.other_leader, confirm, IGNORED, scene.home),
        F("an outsider confirms it", scene.outsider, confirm, IGNORED, scene.home),
    ]


def form_forgeries(clinic: Clinic) -> list[Forgery]:
    scene, home, other = clinic.scene, clinic.scene.home, clinic.scene.other_channel
    alice, carol = clinic.alice, clinic.carol
    note = {"note": "A woman in her sixties who always brings her husband along."}
    tuesday, thursday, open_ = clinic.tuesday, clinic.thursday, clinic.thursday_ended
    new = f"reflect:form:{open_}:new"
    edit = f"reflect:form:{open_}:edit"  # carol has written one: an edit replaces it

    def reflection(text: str, rating: str = "") -> dict[str, str]:
        return {"text": text, "rating": rating}

    fine = reflection("It stayed with me.", "4")
    return [
        F(
            "a case note to a group she is not in",
            alice,
            f"case:form:{thursday}",
            REFUSED,
            home,
            form=note,
        ),
        F(
            "a case note to an unknown group",
            alice,
            f"case:form:{UNKNOWN}",
            REFUSED,
            home,
            form=note,
        ),
        F("a group id too large", alice, f"case:form:{HUGE}", IGNORED, home, form=note),
        F(
            "an outsider's case note",
            scene.outsider,
            f"case:form:{tuesday}",
            REFUSED,
            home,
            form=note,
        ),
        F(
            "another group's leader's note",
            clinic.other_leader,
            f"case:form:{tuesday}",
            REFUSED,
            form=note,
        ),
        F("a note too long", alice, f"case:form:{tuesday}", REFUSED, form={"note": "x " * 751}),
        F("an empty note", alice, f"case:form:{tuesday}", REFUSED, form={"note": ""}),
        F("no note at all", alice, f"case:form:{tuesday}", REFUSED, form={}),
        F("a reflection in another group", alice, new, REFUSED, other, form=fine),
        F("that group's leader reflects", clinic.other_leader, new, REFUSED, other, form=fine),
        F("an outsider reflects", scene.outsider, new, REFUSED, other, form=fine),
        F("after the window closed", alice, f"reflect:form:{clinic.ended}:new", REFUSED, form=fine),
        F(
            "on a cancelled session",
            alice,
            f"reflect:form:{clinic.cancelled}:new",
            REFUSED,
            form=fine,
        ),
        F(
            "before the session",
            alice,
            f"reflect:form:{clinic.upcoming[0]}:edit",
            REFUSED,
            form=fine,
        ),
        F("on an unknown session", alice, f"reflect:form:{UNKNOWN}:new", REFUSED, form=fine),
        F("a session id too large", alice, f"reflect:form:{HUGE}:new", IGNORED, form=fine),
        *[
            F(
                f"a rating of {rating!r}",
                carol,
                edit,
                REFUSED,
                other,
                form=reflection("Fine.", rating),
            )
            for rating in ("0", "6", "-1", "4.5", "²", "٤", "1e0", "four")
        ],
        F("a reflection too long", carol, edit, REFUSED, other, form=reflection("x" * 1001)),
        F("an empty reflection", carol, edit, REFUSED, other, form=reflection("")),
        *[
            F("a malformed form id", alice, custom_id, IGNORED, home, form=note)
            for custom_id in (
                "case:form:",
                "case:form:abc",
                "reflect:form:1:maybe",
                "reflect:form:1",
                "x" * 100,
                "",
            )
        ],
    ]


def garbage_forgeries(clinic: Clinic) -> list[Forgery]:
    alice, home = clinic.alice, clinic.scene.home
    garbage = [
        "",
        "x" * 100,
        "rsvp",
        ":::",
        "\u202e",
        "rota-swap:1:accept\n",
        "reflect:" + "1" * 92,
    ]
    garbage += ["attendance:record:-5", "case:confirm:", "<@&1>", "@everyone"]
    return [F("garbage", alice, custom_id, IGNORED, home) for custom_id in garbage]


def every_forgery(clinic: Clinic, secrets: Secrets) -> list[Forgery]:
    return [
        *rsvp_forgeries(clinic),
        *swap_forgeries(clinic),
        *attendance_forgeries(clinic),
        *reflection_forgeries(clinic, secrets),
        *case_forgeries(clinic, secrets),
        *privacy_forgeries(clinic, secrets),
        *form_forgeries(clinic),
        *garbage_forgeries(clinic),
    ]


# -- sending and checking ----------------------------------------------------------------------


def public_messages(scene: Scene, planted: set[int]) -> list[tuple[int, str, str]]:
    """What everyone in the server sees of the bot: its non-ephemeral messages in the
    server's channels (not the messages the forgeries were made on)."""
    double = scene.double
    return [
        (m.id, m.content, repr(m.components))
        for m in double.messages_by_id.values()
        if m.author is double.bot and m.guild_id is not None and not m.ephemeral
        if m.id not in planted
    ]


async def send(scene: Scene, forgery: Forgery) -> Interaction:
    double = scene.double
    if forgery.form is not None:
        return await double.submit_forged_form(
            forgery.user, forgery.custom_id, forgery.form, channel=forgery.channel, wait=False
        )
    return await double.press_forged(
        forgery.user,
        forgery.custom_id,
        channel=forgery.channel,
        values=forgery.values,
        wait=False,
    )


def outcome_of(interaction: Interaction) -> str:
    if not interaction.attempts:
        return "ignored"
    response = interaction.response
    if response is not None and response.type == 9:
        return "a form opened"
    if refused_privately(interaction):
        return "refused"
    return "answered in public"


async def check(evidence: Evidence, forgery: Forgery, planted: set[int]) -> list[str]:
    """Send `forgery`; what went wrong (nothing, if it was refused or ignored as
    expected with nothing changed)."""
    scene = evidence.scene
    before, seen = evidence.dumper.dump(), public_messages(scene, planted)
    evidence.watch.mark()
    interaction = await send(scene, forgery)
    await barrier(scene)
    if interaction.source_message is not None:
        planted.add(interaction.source_message.id)
    after = evidence.dumper.dump()
    found = evidence.watch.problems(interaction, answered=False)
    outcome = outcome_of(interaction)
    shown = " / ".join(m.content for m in interaction.messages)
    evidence.log.append(f"{outcome}: {forgery.describe()}: {shown[:150]!r}")
    if outcome != forgery.expect:
        found.append(f"expected it {forgery.expect}, but it was {outcome}: {shown}")
    if after != before:
        found.append(f"the database changed:\n{changes(before, after)}")
    if public_messages(scene, planted) != seen:
        found.append("a message others see changed")
    return [f"{forgery.describe()}: {problem}" for problem in found]


def templates(scene: Scene) -> list[re.Pattern[str]]:
    """The custom id templates of every `DynamicItem` the bot registered."""
    store = scene.running._connection._view_store
    return list(store._dynamic_items)


def form_classes() -> set[str]:
    """Every form class defined under `cogs/`, by its qualified name (every module under
    `cogs/` imported, those the bot does not load as extensions too)."""
    for module in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(module.name)
    found: set[str] = set()
    waiting: list[type[Any]] = [discord.ui.Modal]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            waiting.append(sub)
            if sub.__module__.startswith("cogs."):
                found.add(f"{sub.__module__}.{sub.__qualname__}")
    return found


@pytest.fixture
async def forged(
    scene: Scene, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Evidence, Secrets]]:
    clinic = await open_clinic(scene)
    secrets = await secrets_of(clinic)
    with evidence_for(clinic, request, monkeypatch) as evidence:
        yield evidence, secrets


async def test_every_forged_button_and_form_is_refused_or_ignored_and_changes_nothing(
    forged: tuple[Evidence, Secrets],
) -> None:
    evidence, secrets = forged
    clinic, scene = evidence.clinic, evidence.scene
    forgeries = every_forgery(clinic, secrets)

    # every button template and every form is forged at least once
    buttons = [f.custom_id for f in forgeries if f.form is None]
    missing = [t.pattern for t in templates(scene) if not any(t.fullmatch(c) for c in buttons)]
    assert not missing, f"no forged case for the buttons {missing}"
    assert form_classes() == set(FORMS), "a form class without its entry in FORMS"
    sent_forms = [f.custom_id for f in forgeries if f.form is not None]
    for form, accepted in FORMS.items():
        assert any(accepted.fullmatch(c) for c in sent_forms), f"no forged case for {form}"

    planted: set[int] = set()
    problems: list[str] = []
    for forgery in forgeries:
        problems += await check(evidence, forgery, planted)
    for line in evidence.log:
        log.info("%s", line)
    assert not problems, "\n".join(problems)

    # what the forgeries aimed at is still there for its owners, and works once only
    asked = clinic.swap_asked
    assert asked is not None
    [request] = [
        m for m in scene.double.dms(asked) if f"rota-swap:{clinic.swap}:decline" in m.custom_ids()
    ]
    declined = await scene.double.click(request, f"rota-swap:{clinic.swap}:decline", asked)
    assert "You declined the swap" in reply_text(declined), reply_text(declined)
    await quiet(scene)
    again = Forgery("accepts once declined", asked, f"rota-swap:{clinic.swap}:accept", "refused")
    assert await check(evidence, again, planted) == []
    kept = await scene.double.click(
        secrets.draft_message, f"case:confirm:{secrets.draft}", clinic.alice
    )
    assert "Sent to the leaders" in reply_text(kept), reply_text(kept)
