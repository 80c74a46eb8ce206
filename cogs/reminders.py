"""Session reminders and RSVPs.

Three reminders per session, each a job in the scheduler (see `bot.reminders` for how
they are planned): the home channel with RSVP buttons, the presenter by DM, and the
leaders by DM when the presenter has neither submitted nor flagged a case. Every send
carries a nonce derived from its job, so a job re-run after a crash between sending and
recording is collapsed by Discord instead of posting twice.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord.ext import commands

from bot.app import BalintBot
from bot.cases.store import has_submitted_or_flagged
from bot.groups.rules import Group, PresenterMode
from bot.kernel.scheduler import Job
from bot.reminders import store as reminder_store
from bot.reminders.jobs import JOB_KIND
from bot.reminders.rules import ReminderKind, reminder_nonce
from bot.sessions import service as session_service
from bot.sessions import store as session_store
from bot.sessions.recurrence import format_when
from cogs._common.access import STORED_ID
from cogs._common.messages import NO_PINGS, guarded, minutes, plain, post, presenter_label
from cogs._common.notify import (
    deliver,
    retire_reminder_messages,
    tell,
    tell_leaders,
    tell_leaders_for_job,
)


def presenter_line(group: Group, presenter_id: int | None) -> str:
    """The reminder's sentence about who presents (see `presenter_label`)."""
    label = presenter_label(group, presenter_id)
    if group.presenter_mode is PresenterMode.ON_DECK and presenter_id is not None:
        label += " (anyone may volunteer at the session)"
    return label[0].upper() + label[1:] + "."


def channel_reminder_text(
    group: Group, session: session_store.Session, attending: int, absent: int
) -> str:
    return (
        f"**{plain(group.name)}** meets {format_when(session.starts_at)} "
        f"for {minutes(session.duration)} minutes.\n"
        f"{presenter_line(group, session.presenter_id)}\n"
        f"Will you be there? {attending} attending, {absent} can't make it."
    )


def rsvp_view(session_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RsvpButton(session_id, attending=True))
    view.add_item(RsvpButton(session_id, attending=False))
    return view


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"rsvp:(?P<session>{STORED_ID}):(?P<answer>yes|no)",
):
    """Attending / Can't make it. The session id is in the custom id, so the buttons keep
    working after a restart; an answer can be changed until the session starts."""

    def __init__(self, session_id: int, *, attending: bool) -> None:
        self.session_id, self.attending = session_id, attending
        super().__init__(
            discord.ui.Button(
                label="Attending" if attending else "Can't make it",
                style=discord.ButtonStyle.success if attending else discord.ButtonStyle.secondary,
                custom_id=f"rsvp:{session_id}:{'yes' if attending else 'no'}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RsvpButton:
        return cls(int(match["session"]), attending=match["answer"] == "yes")

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        answered = await session_service.answer_rsvp(
            bot.database,
            self.session_id,
            interaction.user.id,
            attending=self.attending,
            now=bot.clock.now(),
        )
        group, session, previous = answered.group, answered.session, answered.previous
        attending, absent = answered.attending, answered.absent
        await interaction.response.edit_message(
            content=channel_reminder_text(group, session, attending, absent),
            allowed_mentions=NO_PINGS,
        )
        answer = "attending" if self.attending else "can't make it"
        await interaction.followup.send(
            f"Noted: {answer}. You can change your answer until the session starts.",
            ephemeral=True,
        )
        if not self.attending and previous is not False and answered.was_presenter:
            await warn_leaders_presenter_cannot_come(bot, group, session, interaction.user.id)
        await deliver(bot, group, answered.notices, "a presenter can't make it")


async def warn_leaders_presenter_cannot_come(
    bot: BalintBot, group: Group, session: session_store.Session, presenter_id: int
) -> None:
    """The presenter answered "Can't make it": the slot has gone to the fairest available
    member (the rota did it in the same transaction); the leaders hear who, or that
    nobody could take it."""
    if session.presenter_id is not None:
        offer = f"<@{session.presenter_id}> now presents, by the rota."
    else:
        offer = (
            "Nobody else is available on that date according to the rota; "
            "choose someone with `/rota assign`."
        )
    await tell_leaders(
        bot,
        group,
        f"**{plain(group.name)}**: <@{presenter_id}>, the presenter on "
        f"{format_when(session.starts_at)}, can't make it. {offer}",
    )


class Reminders(commands.Cog):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot

    async def _subject(self, job: Job) -> reminder_store.ReminderSubject | None:
        """The job's session, its group and RSVP counts, in one read; None if the
        session is gone or was cancelled (the job then simply completes)."""
        subject = await reminder_store.reminder_subject(
            self.bot.database, int(job.payload["session_id"])
        )
        return None if subject is None or subject.session.cancelled else subject

    async def _load(self, job: Job) -> tuple[Group, session_store.Session] | None:
        subject = await self._subject(job)
        return None if subject is None else (subject.group, subject.session)

    async def send_channel_reminder(self, job: Job) -> None:
        subject = await self._subject(job)
        if subject is None:
            return
        group, session = subject.group, subject.session
        attending, absent = subject.attending, subject.absent
        channel = self.bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
        message = await post(
            channel,
            channel_reminder_text(group, session, attending, absent),
            view=rsvp_view(session.id),
            nonce=reminder_nonce(job.id),
            allowed_mentions=NO_PINGS,
        )
        async with self.bot.database.transaction() as tx:
            # The session may have been cancelled or moved while this was being sent;
            # that change retired the reminders it knew of, so this one retires itself.
            now_planned = await session_store.get_session(tx, session.id)
            still_valid = (
                now_planned is not None
                and not now_planned.cancelled
                and now_planned.starts_at == session.starts_at
            )
            if still_valid:
                await reminder_store.record_reminder_message(
                    tx, session.id, group.channel_id, message.id, session.starts_at
                )
        if not still_valid:
            await retire_reminder_messages(
                self.bot,
                [(group.channel_id, message.id)],
                f"**{plain(group.name)}**: this session was changed; see `/session list`.",
            )

    async def send_presenter_reminder(self, job: Job) -> None:
        loaded = await self._load(job)
        if loaded is None or loaded[1].presenter_id is None:
            return
        group, session = loaded
        assert session.presenter_id is not None
        if job.payload.get("presenter_id", session.presenter_id) != session.presenter_id:
            return  # the slot changed hands meanwhile: the new presenter has a job of their own
        when = format_when(session.starts_at)
        if group.presenter_mode is PresenterMode.ON_DECK:
            opening = (
                f"You are on deck for **{plain(group.name)}** on {when}: anyone may volunteer "
                "to present at the session, and if nobody does, you present."
            )
        else:
            opening = f"You are presenting at **{plain(group.name)}** on {when}."
        text = (
            f"{opening}\nWhat to prepare: think of a patient who has stayed on your mind. "
            "You tell the group about them from memory; no notes, and nothing that could "
            "identify them."
        )
        if self.bot.tree.get_command("case") is not None:
            text += (
                "\nIf you like, send the leaders a short de-identified note with "
                "`/case submit`, or just say you may have a case with `/case flag`."
            )
        await tell(
            self.bot,
            group,
            session.presenter_id,
            text,
            hint="then `/rota me` shows your slots.",
            nonce=reminder_nonce(job.id, recipient_id=session.presenter_id),
        )
        async with self.bot.database.transaction() as tx:
            await session_store.mark_presenter_reminded(tx, session.id, session.presenter_id)

    async def send_leaders_reminder(self, job: Job) -> None:
        loaded = await self._load(job)
        if loaded is None:
            return
        group, session = loaded
        when = format_when(session.starts_at)
        if session.presenter_id is None:
            text = f"**{plain(group.name)}**: the session on {when} has no presenter assigned."
        else:
            if await has_submitted_or_flagged(self.bot.database, session.id, session.presenter_id):
                return
            text = (
                f"**{plain(group.name)}**: <@{session.presenter_id}> presents on {when} and has "
                "neither sent a case note nor flagged a case. Will they have a case to bring? "
                "You may want to ask them."
            )
        # retried (until it is no longer useful) for the leaders not reached yet
        await tell_leaders_for_job(self.bot, group, text, job)


async def setup(bot: BalintBot) -> None:
    cog = Reminders(bot)
    bot.scheduler.register(JOB_KIND[ReminderKind.CHANNEL], cog.send_channel_reminder)
    bot.scheduler.register(JOB_KIND[ReminderKind.PRESENTER], cog.send_presenter_reminder)
    bot.scheduler.register(JOB_KIND[ReminderKind.LEADERS], cog.send_leaders_reminder)
    bot.add_dynamic_items(RsvpButton)
    await bot.add_cog(cog)
