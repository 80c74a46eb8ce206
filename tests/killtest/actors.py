"""The burst: people using the bot, the way Discord delivers what they do, while the bot
is being killed and restarted.

Each actor acts only while the bot is connected (`BotProcess.up`), waits for each answer
as a user would (a little over Discord's 3 seconds) and writes down what it did and
whether the bot confirmed it (`Journal`). An action in flight when the process died
gets no answer: that is Discord's "This interaction failed", counted as unanswered,
and what it did may be in the database or not, but never half.

- `rsvp`: members of the reminder groups answer Attending on the channel reminders;
- `case_notes`: members of the cases group send notes by DM (and press Confirm) or by
  the form (`/case submit`, then Confirm), again and again, each note a new text;
- `reflections`: members of the reflections group write one reflection per ended session
  through the invitation's button and form;
- `rota`: one member or leader at a time changes the rota group (absences, swaps and
  their acceptance, assignments, regeneration); before and after each change the group's
  rota is read from the database, so a confirmed change that is gone later, or a change
  that is only partly there, is seen (`RotaStep`, checked in `tests.killtest.checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.double import Interaction, Message, User
from tests.killtest.child import BotProcess
from tests.killtest.snapshot import RotaState, read_rota
from tests.killtest.world import (
    CASES_GROUP,
    REFLECTIONS_GROUP,
    REMINDER_GROUPS,
    ROTA_GROUP,
    Cast,
    Plan,
    read_database,
)

ANSWER_TIMEOUT = 3.5
"""Real seconds a user waits for an answer: Discord gives up on an interaction after 3."""


@dataclass
class Attempt:
    """One thing a member sent: `pressed` once the final button or form went to the bot
    (from then on the bot may have stored it), `confirmed` once its answer said so."""

    text: str
    pressed: bool = False
    confirmed: bool = False


@dataclass
class RotaStep:
    kind: str
    detail: dict[str, Any]
    before: RotaState
    after: RotaState | None = None
    answered: bool = False


@dataclass
class Journal:
    rsvps: list[tuple[int, int, bool]] = field(default_factory=list)
    """(session id, member id, confirmed) of each Attending pressed."""
    notes: dict[int, list[Attempt]] = field(default_factory=dict)
    """Each case-group member's notes, in the order sent."""
    reflections: dict[int, list[Attempt]] = field(default_factory=dict)
    """Each ended session's reflections, by whoever wrote them."""
    rota: list[RotaStep] = field(default_factory=list)
    silent_dms: int = 0
    """DMs to the bot that got no answer (the process died)."""
    undelivered_swaps: int = 0
    """Swap requests the bot confirmed whose DM to the member asked never came."""

    def actions(self) -> int:
        notes = sum(len(attempts) for attempts in self.notes.values())
        thoughts = sum(len(attempts) for attempts in self.reflections.values())
        return len(self.rsvps) + notes + thoughts + len(self.rota)

    def confirmed(self) -> int:
        notes = [a for attempts in self.notes.values() for a in attempts if a.confirmed]
        thoughts = [a for attempts in self.reflections.values() for a in attempts if a.confirmed]
        rsvps = [r for r in self.rsvps if r[2]]
        return len(rsvps) + len(notes) + len(thoughts) + sum(s.answered for s in self.rota)


class Burst:
    """Runs the actors until `stop()`; they pause while the bot is down."""

    def __init__(
        self,
        cast: Cast,
        plan: Plan,
        bot: BotProcess,
        rng: random.Random,
        *,
        pause: tuple[float, float] = (0.0, 0.15),
    ) -> None:
        self.cast, self.plan, self.bot, self.rng = cast, plan, bot, rng
        self.pause = pause
        self.double = cast.double
        self.journal = Journal()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._texts = itertools.count(1)

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        actors: list[Callable[[], Awaitable[None]]] = [self.rsvp, self.rsvp, self.rota]
        actors += [self._note_actor(user) for user in self.cast.members[CASES_GROUP]]
        pairs = [
            (user, session.id)
            for session in self.plan.early_reflection_sessions()
            for user in self.cast.members[REFLECTIONS_GROUP]
        ]
        self.rng.shuffle(pairs)
        actors += [self._reflection_actor(pairs), self._reflection_actor(pairs)]
        self._tasks = [asyncio.create_task(self._loop(actor)) for actor in actors]

    async def stop(self) -> None:
        """Let each actor finish what it is doing, then stop."""
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    async def _loop(self, act: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            if not await self._bot_up():
                return
            await act()
            await asyncio.sleep(self.rng.uniform(*self.pause))

    async def _bot_up(self) -> bool:
        """Wait until the bot is connected; False once the burst is stopping."""
        if self.bot.up.is_set():
            return not self._stopping.is_set()
        up = asyncio.ensure_future(self.bot.up.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({up, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (up, stopping):
            waiter.cancel()
        return not self._stopping.is_set()

    def new_text(self, what: str) -> str:
        # Unique words, so each text is found by itself in the database and the logs.
        number = next(self._texts)
        return (
            f"Killtest {what} {number:04d}: a patient whose visits leave me tired, "
            f"marker kt{number:04d}x{self.rng.randrange(10**6):06d}."
        )

    # -- talking to the double ------------------------------------------------------------

    async def _answered(self, action: Awaitable[Interaction]) -> Interaction | None:
        """The interaction once the bot answered it; None if it never did in time."""
        try:
            return await action
        except AssertionError:
            return None

    def _place(self, group: str) -> dict[str, Any]:
        return {"guild": self.cast.guild, "channel": self.cast.homes[group]}

    # -- RSVPs ------------------------------------------------------------------------------

    async def rsvp(self) -> None:
        posted = [
            message
            for name in REMINDER_GROUPS
            for message in self.double.messages(self.cast.homes[name])
            if message.author is self.double.bot and message.interaction is None
            if any(cid.startswith("rsvp:") for cid in message.custom_ids())
        ]
        if not posted:
            await asyncio.sleep(0.1)
            return
        message = self.rng.choice(posted)
        [yes] = [cid for cid in message.custom_ids() if cid.endswith(":yes")]
        member = self.rng.choice(self.cast.members[REMINDER_GROUPS[0]])
        answered = await self._answered(
            self.double.click(message, yes, member, timeout=ANSWER_TIMEOUT)
        )
        confirmed = answered is not None and _response_type(answered) == 7
        self.journal.rsvps.append((int(yes.split(":")[1]), member.id, confirmed))

    # -- case notes ---------------------------------------------------------------------------

    def _note_actor(self, user: User) -> Callable[[], Awaitable[None]]:
        attempts = self.journal.notes.setdefault(user.id, [])

        async def act() -> None:
            attempt = Attempt(self.new_text("case note"))
            attempts.append(attempt)
            if self.rng.random() < 0.5:
                preview = await self._note_by_dm(user, attempt.text)
            else:
                preview = await self._note_by_form(user, attempt.text)
            if preview is None:
                return
            buttons = [
                c for c in preview.custom_ids() if c.startswith(("case:confirm:", "case:replace:"))
            ]
            if not buttons:
                return  # a refusal (shown in the preview's place)
            attempt.pressed = True
            pressed = await self._answered(
                self.double.click(preview, buttons[0], user, timeout=ANSWER_TIMEOUT)
            )
            attempt.confirmed = pressed is not None and "Sent to the leaders" in (
                preview.content or ""
            )

        return act

    async def _note_by_dm(self, user: User, text: str) -> Message | None:
        sent = await self.double.dm(user, text)
        try:
            return await self.double.wait_for_message(
                user, lambda m: m.id > sent.id, timeout=ANSWER_TIMEOUT
            )
        except AssertionError:
            self.journal.silent_dms += 1
            return None

    async def _note_by_form(self, user: User, text: str) -> Message | None:
        opened = await self._answered(
            self.double.slash(
                "case submit", user, timeout=ANSWER_TIMEOUT, **self._place(CASES_GROUP)
            )
        )
        if opened is None or _response_type(opened) != 9:
            return None
        submitted = await self._answered(
            self.double.submit_modal(opened, user, {"note": text}, timeout=ANSWER_TIMEOUT)
        )
        if submitted is None or not submitted.messages:
            return None
        return submitted.reply

    # -- reflections --------------------------------------------------------------------------

    def _reflection_actor(self, pairs: list[tuple[User, int]]) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            if not pairs:
                await asyncio.sleep(0.1)
                return
            user, session_id = pairs.pop()
            invitation = self._invitation(session_id)
            opened = await self._answered(
                self.double.click(invitation, f"reflect:{session_id}", user, timeout=ANSWER_TIMEOUT)
            )
            if opened is None or _response_type(opened) != 9:
                pairs.insert(0, (user, session_id))  # nothing was sent: try again later
                return
            attempt = Attempt(self.new_text("reflection"), pressed=True)
            self.journal.reflections.setdefault(session_id, []).append(attempt)
            rating = str(self.rng.randint(1, 5))
            submitted = await self._answered(
                self.double.submit_modal(
                    opened, user, {"text": attempt.text, "rating": rating}, timeout=ANSWER_TIMEOUT
                )
            )
            attempt.confirmed = submitted is not None and "Thank you" in _text(submitted)

        return act

    def _invitation(self, session_id: int) -> Message:
        [found] = [
            m
            for m in self.double.messages(self.cast.homes[REFLECTIONS_GROUP])
            if m.author is self.double.bot and f"reflect:{session_id}" in m.custom_ids()
        ]
        return found

    # -- the rota -----------------------------------------------------------------------------

    async def rota_state(self) -> RotaState:
        group_id = self.plan.group_ids[ROTA_GROUP]
        return await read_database(self.bot.database_path, lambda db: read_rota(db, group_id))

    async def rota(self) -> None:
        before = await self.rota_state()
        steps = (self._away, self._swap, self._assign, self._generate)
        weights = (3, 3, 2, 1)
        [step] = self.rng.choices(steps, weights)
        done = await step(before)
        if done is None:
            return
        self.journal.rota.append(done)
        if not done.answered:
            # What the bot did (or not) is read once it is back; if the burst stopped
            # while it was down, the harness starts it once more.
            await self.bot.up.wait()
        done.after = await self.rota_state()

    def _rota_members(self) -> list[User]:
        return self.cast.members[ROTA_GROUP]

    async def _away(self, before: RotaState) -> RotaStep | None:
        member = self.rng.choice(self._rota_members())
        session = self.rng.choice(self.plan.sessions[ROTA_GROUP])
        day = session.starts_at.date()
        last = day + timedelta(days=self.rng.choice((0, 1)))
        step = RotaStep(
            "away",
            {"member": member.id, "from": day.isoformat(), "to": last.isoformat()},
            before,
        )
        answered = await self._answered(
            self.double.slash(
                "rota away",
                member,
                options={"from": day.isoformat()},
                to=last.isoformat(),
                timeout=ANSWER_TIMEOUT,
                **self._place(ROTA_GROUP),
            )
        )
        step.answered = answered is not None and bool(answered.messages)
        return step

    async def _swap(self, before: RotaState) -> RotaStep | None:
        presented = [(sid, p) for sid, (p, _) in before.presenters.items() if p is not None]
        if not presented:
            return None
        session_id, requester_id = self.rng.choice(presented)
        requester = self.double.users[requester_id]
        others = [m for m in self._rota_members() if m.id != requester_id]
        target = self.rng.choice(others)
        asked = await self._answered(
            self.double.slash(
                "rota swap",
                requester,
                session=session_id,
                options={"with": target},
                timeout=ANSWER_TIMEOUT,
                **self._place(ROTA_GROUP),
            )
        )
        step = RotaStep(
            "swap request",
            {"session": session_id, "requester": requester_id, "target": target.id},
            before,
            answered=asked is not None and bool(asked.messages),
        )
        if not step.answered or "I asked" not in _text(asked):
            return step
        step.after = await self.rota_state()
        asked_for = [
            swap_id
            for swap_id, swap in step.after.swaps.items()
            if swap_id not in before.swaps and swap.session_id == session_id
        ]
        if not asked_for:
            return step
        self.journal.rota.append(step)  # the request; its acceptance is the next step
        accept = f"rota-swap:{asked_for[0]}:accept"
        request = await self._swap_request(target, accept)
        accepting = RotaStep("swap accept", {"swap": asked_for[0], **step.detail}, step.after)
        if request is None:
            self.journal.undelivered_swaps += 1
            return None  # never delivered: nothing to accept
        accepted = await self._answered(
            self.double.click(request, accept, target, timeout=ANSWER_TIMEOUT)
        )
        accepting.answered = accepted is not None and _response_type(accepted) == 7
        return accepting

    async def _swap_request(self, target: User, button: str) -> Message | None:
        """The DM asking `target` to take the slot (it goes out after the answer)."""
        with contextlib.suppress(AssertionError):
            return await self.double.wait_for_message(
                target, lambda m: button in m.custom_ids(), timeout=ANSWER_TIMEOUT
            )
        return None

    async def _assign(self, before: RotaState) -> RotaStep | None:
        session_id = self.rng.choice(sorted(before.presenters))
        member = self.rng.choice(self._rota_members())
        step = RotaStep("assign", {"session": session_id, "member": member.id}, before)
        answered = await self._answered(
            self.double.slash(
                "rota assign",
                self.cast.leader,
                session=session_id,
                member=member,
                timeout=ANSWER_TIMEOUT,
                **self._place(ROTA_GROUP),
            )
        )
        step.answered = answered is not None and bool(answered.messages)
        return step

    async def _generate(self, before: RotaState) -> RotaStep | None:
        step = RotaStep("generate", {}, before)
        answered = await self._answered(
            self.double.slash(
                "rota generate", self.cast.leader, timeout=ANSWER_TIMEOUT, **self._place(ROTA_GROUP)
            )
        )
        step.answered = answered is not None and bool(answered.messages)
        return step


def _response_type(interaction: Interaction) -> int | None:
    return None if interaction.response is None else interaction.response.type


def _text(interaction: Interaction | None) -> str:
    if interaction is None or not interaction.messages:
        return ""
    return interaction.reply.content or ""
