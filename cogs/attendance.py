"""Attendance and the leaders' records: `/attendance mark`, its Record button, the
leaders' attendance notes (jobs), and `/leader log`.

`present` is a list of mentions rather than a member select. Discord's client inserts a
mention (`<@id>`) for each member picked after typing @, so the whole record is made in
one step, on the command line the product describes (`/attendance mark session
present`). A select would need a second message: a user select offers everyone in the
server rather than the roster, and a select of the roster would need members' names,
which the bot does not know (it runs without the privileged members intent; a mention
is shown with its name by each reader's client). Without `present`, the bot offers the
members who answered Attending, with a Record button whose custom id carries only the
session's id, so it keeps working after a restart.
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.attendance import service as attendance_service
from bot.attendance import store as attendance_store
from bot.attendance.jobs import ANSWERS_KIND, MISSED_KIND, answers_below
from bot.attendance.log import leader_log_csv
from bot.attendance.rules import parse_present
from bot.groups.rules import Group
from bot.groups.store import get_group
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import Job, JobScheduler
from bot.reminders.rules import reminder_nonce
from bot.sessions.recurrence import discord_timestamp, format_when
from bot.sessions.store import get_session
from cogs._common.access import STORED_ID, access_to, require_leader, resolve_group
from cogs._common.audience import Audience
from cogs._common.autocomplete import (
    MAX_CHOICES,
    group_being_chosen_for,
    group_choices,
    session_choice_list,
)
from cogs._common.messages import NO_PINGS, guarded, plain, reply
from cogs._common.notify import tell_leaders

LOG_FILENAME = "sessions-led.csv"
ONLY_LEADERS = "Only the leaders of **{group}** (or someone with Manage Server) can do that."


class LeadersNotReached(Exception):
    """Some leaders could not be told (Discord failed): the job is retried for them."""


def names(user_ids: list[int]) -> str:
    return ", ".join(f"<@{user_id}>" for user_id in user_ids) or "nobody"


def recorded_text(recorded: attendance_service.Recorded) -> str:
    lines = [
        f"Recorded the attendance of **{plain(recorded.group.name)}** for the session of "
        f"{format_when(recorded.session.starts_at)}: {len(recorded.present)} present: "
        f"{names(recorded.present)}."
    ]
    if recorded.replaced:
        lines.append("This replaces the earlier record.")
    lines.append("You can change it until the group's next session starts.")
    return "\n".join(lines)


def proposal_text(proposal: attendance_service.Proposal) -> str:
    when = format_when(proposal.session.starts_at)
    head = f"**{plain(proposal.group.name)}**, session of {when}."
    if proposal.attending:
        lines = [
            head,
            f"Answered Attending: {names(proposal.attending)}.",
            "Record these as present? If the room was not the same, name who was there "
            "with the `present` option instead (e.g. `present: @alice @bob`).",
        ]
    else:
        lines = [
            head,
            "Nobody on the roster answered Attending, so there is nobody to offer: name who "
            "was present with the `present` option (e.g. `present: @alice @bob`).",
        ]
    if proposal.recorded is not None:
        lines.append(f"Recorded so far: {names(proposal.recorded)} (recording again replaces it).")
    return "\n".join(lines)


class RecordButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"attendance:record:(?P<session>{STORED_ID})",
):
    """Record these: the members who answered Attending are recorded as present."""

    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        super().__init__(
            discord.ui.Button(
                label="Record these",
                style=discord.ButtonStyle.primary,
                custom_id=f"attendance:record:{session_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RecordButton:
        return cls(int(match["session"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        session = await get_session(bot.database, self.session_id)
        group = None if session is None else await get_group(bot.database, session.group_id)
        if group is None:
            raise Refusal("That session no longer exists; nothing was recorded.")
        if not (await access_to(interaction, group)).can_lead:
            raise Refusal(ONLY_LEADERS, group=group.name)
        recorded = await attendance_service.record_attending(
            bot.database, group, self.session_id, bot.clock.now()
        )
        await interaction.response.edit_message(
            content=recorded_text(recorded), view=None, allowed_mentions=NO_PINGS
        )


def record_view(session_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RecordButton(session_id))
    return view


async def started_session_choices(
    interaction: discord.Interaction[BalintBot], current: str
) -> list[app_commands.Choice[int]]:
    """The sessions of the group that have started, most recent first, as local date
    and time (those already recorded say so); offered to its leaders only."""
    group = await group_being_chosen_for(interaction)
    if group is None or not (await access_to(interaction, group)).can_lead:
        return []
    started = await attendance_store.started_sessions(
        interaction.client.database, group.id, interaction.client.clock.now(), MAX_CHOICES
    )
    listed = ((s.id, s.starts_at, " · recorded" if recorded else "") for s, recorded in started)
    return session_choice_list(group, listed, current)


class Attendance(commands.Cog):
    attendance = app_commands.Group(
        name="attendance",
        description="Who came to a session",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=False, private_channel=False
        ),
    )
    leader = app_commands.Group(
        name="leader",
        description="Leaders' records",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=False
        ),
    )

    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot

    @attendance.command(
        name="mark",
        description="Record who attended a session (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(
        session="Which session (those that have started)",
        present="Mentions of who was there, e.g. @alice @bob (default: offer who answered "
        "Attending)",
        group="Which group",
    )
    @app_commands.autocomplete(session=started_session_choices)
    @app_commands.autocomplete(group=group_choices)
    async def mark(
        self,
        interaction: discord.Interaction[BalintBot],
        session: int,
        present: str | None = None,
        group: str | None = None,
    ) -> None:
        target = (await require_leader(interaction, group)).group
        now = self.bot.clock.now()
        if present is None:
            proposal = await attendance_service.propose(self.bot.database, target, session, now)
            view = record_view(proposal.session.id) if proposal.attending else None
            await reply(interaction, proposal_text(proposal), view=view)
            return
        people = parse_present(present)
        recorded = await attendance_service.record_present(
            self.bot.database, target, session, people, now
        )
        await reply(interaction, recorded_text(recorded))

    @leader.command(
        name="log",
        description="The sessions you led, as a CSV file for accreditation records",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(group="Only this group (default: every group you lead)")
    @app_commands.autocomplete(group=group_choices)
    async def log(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = None if group is None else await resolve_group(interaction, group)
        rows = await attendance_service.leader_log(
            self.bot.database, interaction.user.id, target, self.bot.clock.now()
        )
        if not rows:
            await reply(interaction, "You have led no session yet: the log has no rows.")
            return
        where = "" if target is None else f" in **{plain(target.name)}**"
        plural = "" if len(rows) == 1 else "s"
        await reply(
            interaction,
            f"The {len(rows)} session{plural} you led{where}, for your accreditation records: "
            "date and time in each group's time zone, your role, minutes, online or in "
            "person, and how many members were present (empty where attendance was not "
            "recorded).",
            file=discord.File(io.BytesIO(leader_log_csv(rows)), filename=LOG_FILENAME),
        )

    # -- the leaders' notes (jobs) ---------------------------------------------------------

    async def tell_missed(self, job: Job) -> None:
        missed = await attendance_service.still_missed(
            self.bot.database,
            int(job.payload["group_id"]),
            int(job.payload["session_id"]),
            int(job.payload["member_id"]),
        )
        if missed is None:
            return
        dates = " and ".join(discord_timestamp(s.starts_at, "D") for s in reversed(missed.sessions))
        text = (
            f"**{plain(missed.group.name)}**: <@{missed.member_id}> was not at the last two "
            f"sessions with attendance recorded ({dates}). You may want to check in with them."
        )
        await self._tell(missed.group, job, text)

    async def tell_few_answers(self, job: Job) -> None:
        few = await answers_below(self.bot.database, job)
        if few is None:
            return
        silent = max(few.members - few.attending - few.absent, 0)
        text = (
            f"**{plain(few.group.name)}**: {few.attending} of {few.members} members have "
            f"answered Attending for the session on {format_when(few.session.starts_at)}, "
            f"fewer than {few.threshold}. {few.absent} said they cannot come; {silent} "
            "have not answered."
        )
        await self._tell(few.group, job, text)

    async def _tell(self, group: Group, job: Job, text: str) -> None:
        """A leaders' note on the exactly-once path: each leader once, a retry reaching
        only those Discord failed for."""
        database = self.bot.database

        async def reached(user_id: int) -> None:
            await JobScheduler.record_reached(database, job, user_id)

        unreached = await tell_leaders(
            self.bot,
            group,
            text,
            nonce_for=lambda user: reminder_nonce(job.id, recipient_id=user),
            skip=await JobScheduler.recipients_reached(database, job),
            on_reached=reached,
        )
        if unreached:
            raise LeadersNotReached(len(unreached))


async def setup(bot: BalintBot) -> None:
    cog = Attendance(bot)
    bot.scheduler.register(MISSED_KIND, cog.tell_missed)
    bot.scheduler.register(ANSWERS_KIND, cog.tell_few_answers)
    bot.add_dynamic_items(RecordButton)
    await bot.add_cog(cog)
