"""/reflect, /reflections show and hide, and the window's jobs: the invitation when a
session ends, the close, and the release to the leaders (or the home channel)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.groups.rules import Group, Role
from bot.groups.store import roster
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import Job, JobScheduler
from bot.reflections import service as reflection_service
from bot.reflections import store as reflection_store
from bot.reflections.rules import effective_threshold
from bot.reminders.rules import reminder_nonce
from bot.sessions import store as session_store
from bot.sessions.recurrence import format_when
from cogs._common.access import access_to, require_leader, require_member
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_being_chosen_for, group_choices, session_choice_list
from cogs._common.forms import handle_forms, stop_handling_forms
from cogs._common.messages import NO_PINGS, answer_error, plain, post, reply
from cogs._common.notify import (
    CANNOT_SEND_TO_USER,
    DmPurpose,
    DmsTurnedOff,
    best_effort,
    send_dm,
    tell_leaders_for_job,
)
from cogs.reflections.writing import (
    COG_NAME,
    invite_view,
    new_pending,
    start_writing,
    submit_form,
    where_released,
)


async def released_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[int]]:
    """The sessions of the group whose reflections were released, latest first."""
    group = await group_being_chosen_for(interaction)
    if group is None:
        return []
    access = await access_to(interaction, group)
    if access.role is None or not access.role.leads:
        return []
    database = interaction.client.database
    listed = []
    for window in await reflection_store.released_windows_of_group(database, group.id):
        session = await session_store.get_session(database, window.session_id)
        if session is not None:
            listed.append((session.id, session.starts_at, ""))
    return session_choice_list(group, listed, current)


class NotAllReached(Exception):
    """Some people could not be reached (Discord failed): the job is retried for them."""


def batch_text(found: reflection_service.Batch) -> str:
    group, session = found.group, found.session
    mean = found.mean
    rated = (
        f"; mean usefulness {mean:.1f} out of 5, from {found.rated} rating(s)"
        if mean is not None
        else ""
    )
    lines = [
        f"**{plain(group.name)}**: {len(found.items)} anonymous reflection(s) on the session "
        f"of {format_when(session.starts_at)}{rated}. They are in an order drawn at random, "
        "not the order they were written in."
    ]
    if found.hidden:
        lines.append(f"({found.hidden} hidden by a leader.)")
    for item in found.items:
        body = "(this reflection cannot be read)" if item.text is None else plain(item.text)
        quoted = "\n".join(f"> {line}" for line in body.split("\n"))
        lines.append(f"**{item.position}.**\n{quoted}")
    return "\n\n".join(lines)


class Reflections(commands.Cog, name=COG_NAME):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot
        self.pending = new_pending()

    reflections = app_commands.Group(
        name="reflections",
        description="Leaders: the released anonymous reflections",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
        extras={"audience": Audience.LEADER},
    )

    @app_commands.command(
        name="reflect",
        description="Write an anonymous reflection on the last session",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def reflect(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = (await require_member(interaction, group)).group
        window = await reflection_service.open_window_for(
            self.bot.database, target, self.bot.clock.now()
        )
        await start_writing(self.bot, interaction, window.session_id)

    async def _readable_by(
        self, interaction: discord.Interaction[BalintBot], option: str | None
    ) -> Group:
        access = await require_leader(interaction, option)
        if access.role is None or not access.role.leads:
            raise Refusal(
                "Only the leaders and co-leaders of **{group}** can read its reflections.",
                group=access.group.name,
            )
        return access.group

    @reflections.command(name="show", description="A released batch of reflections, again")
    @app_commands.describe(group="Which group", session="Which session (default: the latest)")
    @app_commands.autocomplete(group=group_choices)
    @app_commands.autocomplete(session=released_choices)
    async def show(
        self,
        interaction: discord.Interaction[BalintBot],
        group: str | None = None,
        session: int | None = None,
    ) -> None:
        target = await self._readable_by(interaction, group)
        found = await reflection_service.released_batch_of(
            self.bot.database, self.bot.cipher, target, session
        )
        await reply(interaction, batch_text(found))

    @reflections.command(name="hide", description="Hide one released reflection by its number")
    @app_commands.describe(
        number="Its number in the batch",
        group="Which group",
        session="Which session (default: the latest)",
    )
    @app_commands.autocomplete(group=group_choices)
    @app_commands.autocomplete(session=released_choices)
    async def hide(
        self,
        interaction: discord.Interaction[BalintBot],
        number: app_commands.Range[int, 1, 100],
        group: str | None = None,
        session: int | None = None,
    ) -> None:
        target = await self._readable_by(interaction, group)
        found = await reflection_service.released_batch_of(
            self.bot.database, self.bot.cipher, target, session
        )
        await reflection_service.hide(self.bot.database, target, found.session.id, number)
        posted = (
            " The batch already posted in the group's channel stays as it is: delete that "
            "message there if it must go."
            if found.window.release_to == "channel"
            else ""
        )
        await reply(
            interaction,
            f"Hidden: reflection {number} no longer shows in `/reflections show`.{posted}",
        )

    async def cog_load(self) -> None:
        handle_forms(self.bot, self.on_form)

    async def cog_unload(self) -> None:
        stop_handling_forms(self.bot, self.on_form)

    async def on_form(self, interaction: discord.Interaction[BalintBot], form_id: str) -> None:
        try:
            await submit_form(self.bot, interaction, form_id)
        except Exception as error:
            await answer_error(interaction, error, "the reflection form")

    # -- the window's jobs ---------------------------------------------------------

    async def open_window(self, job: Job) -> None:
        """The session has ended: open its window, invite the members."""
        opened = await reflection_service.open_window(
            self.bot.database, self.bot.cipher, int(job.payload["session_id"]), self.bot.clock.now()
        )
        if self.bot.clock.now() >= opened.window.closes_at:
            return  # the bot was down for the whole window: nothing to invite to
        group, session = opened.group, opened.session
        reached = await JobScheduler.recipients_reached(self.bot.database, job)
        invitation = (
            f"**{plain(group.name)}**: the session of {format_when(session.starts_at)} has "
            "ended. Members, if you like, write an anonymous reflection: nobody, the leaders "
            "included, can tell who wrote what. Open until "
            f"{format_when(opened.window.closes_at)}; then the reflections are "
            f"{where_released(opened.window.release_to)} if enough came in."
        )
        if 0 not in reached:  # 0 stands for the home channel's post
            home = self.bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
            await post(
                home,
                invitation,
                view=invite_view(session.id),
                nonce=reminder_nonce(job.id),
                allowed_mentions=NO_PINGS,
            )
            await JobScheduler.record_reached(self.bot.database, job, 0)
        failed = 0
        for entry in await roster(self.bot.database, group.id):
            if entry.role is not Role.MEMBER or entry.user_id in reached:
                continue
            prompt = self._prompt(job, opened, entry.user_id)
            if not await best_effort("a reflection prompt", prompt):
                failed += 1
        if failed:
            raise NotAllReached(failed)

    async def _prompt(self, job: Job, opened: reflection_service.Opened, user_id: int) -> None:
        group, session = opened.group, opened.session
        text = (
            f"The session of **{plain(group.name)}** on {format_when(session.starts_at)} has "
            "ended. If you like, write an anonymous reflection (press the button, or use "
            f"`/reflect`): nobody can tell who wrote it. Open until "
            f"{format_when(opened.window.closes_at)}."
        )
        try:
            await send_dm(
                self.bot,
                user_id,
                text,
                purpose=DmPurpose.REFLECTION_PROMPT,
                view=invite_view(session.id),
                nonce=reminder_nonce(job.id, recipient_id=user_id),
            )
        except DmsTurnedOff:
            pass  # their choice (`/preferences`): the button in the home channel remains
        except discord.Forbidden as error:
            if error.code != CANNOT_SEND_TO_USER:
                raise
            # DMs closed: the button in the home channel is there for them too.
        await JobScheduler.record_reached(self.bot.database, job, user_id)

    async def close_window(self, job: Job) -> None:
        await reflection_service.close_window(
            self.bot.database, self.bot.cipher, int(job.payload["session_id"])
        )

    async def release(self, job: Job) -> None:
        """Tell the leaders (or the home channel) what the closed window holds."""
        try:
            found = await reflection_service.batch(
                self.bot.database, self.bot.cipher, int(job.payload["session_id"])
            )
        except Refusal:
            return  # the session (its group) was deleted meanwhile: nobody to tell
        group, session = found.group, found.session
        if found.window.state == "released":
            text = batch_text(found)
            if found.window.release_to == "channel":
                home = self.bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
                await post(home, text, nonce=reminder_nonce(job.id), allowed_mentions=NO_PINGS)
                return
        elif not found.window.received:
            text = (
                f"**{plain(group.name)}**: no reflections came in for the session of "
                f"{format_when(session.starts_at)}."
            )
        else:
            needed = found.window.threshold or effective_threshold(group.reflection_threshold)
            text = (
                f"**{plain(group.name)}**: {found.window.received} reflection(s) came in "
                f"for the session of {format_when(session.starts_at)}, fewer than the {needed} "
                "needed to keep their authors hidden, so they were deleted unread."
            )
        # retried (until it is no longer useful) for the leaders not reached yet
        await tell_leaders_for_job(self.bot, group, text, job)
