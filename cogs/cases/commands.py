"""The /case commands, the DM listener, and the purge jobs' Discord side."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.cases import service as case_service
from bot.cases.drafts import case_drafts
from bot.cases.jobs import purge_session
from bot.groups.store import get_group
from bot.kernel.errors import Refusal
from bot.kernel.logs import log_failure
from bot.kernel.scheduler import Job
from bot.sessions import store as session_store
from bot.sessions.recurrence import format_when
from cogs._common.access import access_to, resolve_group
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_choices
from cogs._common.forms import handle_forms, show_form, stop_handling_forms
from cogs._common.messages import GENERIC_FAILURE, NO_PINGS, answer_error, plain, reply
from cogs._common.notify import deliver, tell_leaders_for_job
from cogs.cases.drafting import (
    COG_NAME,
    CaseNoteForm,
    answer_dm,
    submit_form,
    tell_leaders_about,
)

log = logging.getLogger(__name__)


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
class Cases(
    commands.GroupCog,
    name=COG_NAME,
    group_name="case",
    group_description="Confidential case notes for the leaders",
):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot
        self.drafts = case_drafts()
        super().__init__()

    # -- commands ------------------------------------------------------------------

    @app_commands.command(
        name="submit",
        description="Send the leaders a short de-identified note (a private form)",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def submit(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = await resolve_group(interaction, group)
        where = await case_service.destination(
            self.bot.database, target, interaction.user.id, self.bot.clock.now()
        )
        await show_form(interaction, CaseNoteForm(where.group.id))

    @app_commands.command(
        name="flag",
        description="Tell the leaders you may have a case, with no content at all",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def flag(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = await resolve_group(interaction, group)
        sent = await case_service.flag_case(
            self.bot.database, target, interaction.user.id, self.bot.clock.now()
        )
        session = sent.destination.session
        await reply(
            interaction,
            f"Flagged: the leaders of **{plain(target.name)}** know you may have a case for "
            f"the session on {format_when(session.starts_at)}. Nothing else was kept. "
            "`/case withdraw` takes the flag back.",
        )
        await tell_leaders_about(self.bot, sent, interaction.user.id, "may have a case (a flag)")
        await deliver(self.bot, target, sent.notices, "a case was flagged")

    @app_commands.command(
        name="withdraw",
        description="Delete the note or flag you sent for the next session",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def withdraw(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = await resolve_group(interaction, group)
        sent = await case_service.withdraw_case(
            self.bot.database, target, interaction.user.id, self.bot.clock.now()
        )
        what = "flag" if sent.is_flag else "note"
        await reply(
            interaction,
            f"Withdrawn: your {what} for the session on "
            f"{format_when(sent.destination.session.starts_at)} is deleted.",
        )
        await tell_leaders_about(self.bot, sent, interaction.user.id, f"withdrew their case {what}")
        await deliver(self.bot, target, sent.notices, "a case was withdrawn")

    @app_commands.command(
        name="view",
        description="Leaders: the case notes and flags held for the coming session",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def view(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = await resolve_group(interaction, group)
        access = await access_to(interaction, target)
        # Manage Server administers groups; it does not make someone a reader of notes.
        if access.role is None or not access.role.leads:
            raise Refusal(
                "Only the leaders and co-leaders of **{group}** can read its case notes.",
                group=target.name,
            )
        held = await case_service.held_cases(
            self.bot.database, self.bot.cipher, target, self.bot.clock.now()
        )
        await reply(interaction, *view_sections(target.name, held))

    # -- the DM intake -------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        try:
            await answer_dm(self.bot, message)
        except discord.Forbidden:
            # The author has closed their DMs since writing: nothing was kept, nobody to tell.
            log.warning("could not answer a DM: Discord refused the reply")
        except Exception as error:
            log_failure(log, "a DM case note", error)
            try:
                await message.channel.send(GENERIC_FAILURE, allowed_mentions=NO_PINGS)
            except discord.HTTPException:
                log.warning("could not tell a DM's author about a failure")

    async def cog_load(self) -> None:
        handle_forms(self.bot, self.on_form)

    async def cog_unload(self) -> None:
        stop_handling_forms(self.bot, self.on_form)

    async def on_form(self, interaction: discord.Interaction[BalintBot], form_id: str) -> None:
        try:
            await submit_form(self.bot, interaction, form_id)
        except Exception as error:
            await answer_error(interaction, error, "the case form")

    # -- the purge -----------------------------------------------------------------

    async def purge(self, job: Job) -> None:
        await purge_session(self.bot.database, job, self.bot.clock.now())

    async def tell_leaders_purged(self, job: Job) -> None:
        group = await get_group(self.bot.database, int(job.payload["group_id"]))
        session = await session_store.get_session(self.bot.database, int(job.payload["session_id"]))
        if group is None or session is None:
            return
        why = "was cancelled, so its" if session.cancelled else "is over: its"
        text = (
            f"**{plain(group.name)}**: the session on {format_when(session.starts_at)} {why} "
            "case notes and flags have been deleted, from the disk too; nothing of them is kept."
        )
        # retried (until it is no longer useful) for the leaders not reached yet
        await tell_leaders_for_job(self.bot, group, text, job)


def view_sections(group_name: str, held: list[case_service.HeldSession]) -> list[str]:
    if not held:
        return [
            f"Nothing is held for **{plain(group_name)}**: no member has sent a note or "
            "flagged a case for the coming session."
        ]
    sections = [f"**Case notes for {plain(group_name)}** (only you and the other leaders see this)"]
    for entry in held:
        lines = [
            f"**Session on {format_when(entry.session.starts_at)}**; deleted "
            f"{format_when(entry.deleted_at)}."
        ]
        for note in entry.notes:
            sent = f"<t:{int(note.created_at.timestamp())}:R>"
            if note.is_flag:
                lines.append(f"- <@{note.member_id}> may have a case (a flag, no note), {sent}.")
            elif not note.readable or note.text is None:
                lines.append(
                    f"- <@{note.member_id}>, {sent}: this note cannot be read (it was altered, "
                    "or does not belong here); it is deleted with the others."
                )
            else:
                quoted = "\n".join(f"> {line}" for line in plain(note.text).split("\n"))
                lines.append(f"- <@{note.member_id}>, {sent}:\n{quoted}")
        sections.append("\n".join(lines))
    return sections
