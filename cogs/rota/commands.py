"""The /rota commands."""

from __future__ import annotations

from collections import Counter

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import BalintBot
from bot.groups.rules import PresenterMode
from bot.kernel.errors import Refusal
from bot.rota import service as rota_service
from bot.rota.store import MySlot, my_next_slots, pending_swaps_for
from bot.sessions import store as session_store
from bot.sessions.recurrence import format_when
from cogs._common.access import require_leader, require_member
from cogs._common.audience import Audience
from cogs._common.autocomplete import group_choices, my_slot_choices, session_choices
from cogs._common.messages import defer_now, plain, presenter_label, reply
from cogs._common.notify import best_effort, deliver, slots_changed_text, tell
from cogs.rota.swap import swap_view

DEFAULT_SHOW, MAX_SHOW = 6, 25


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
class RotaCommands(
    commands.GroupCog, group_name="rota", group_description="The case-presentation rota"
):
    def __init__(self, bot: BalintBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="show",
        description="The next sessions and their presenters",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(
        group="Which group", count=f"How many sessions (1 to {MAX_SHOW}, default {DEFAULT_SHOW})"
    )
    @app_commands.autocomplete(group=group_choices)
    async def show(
        self,
        interaction: discord.Interaction[BalintBot],
        group: str | None = None,
        count: app_commands.Range[int, 1, MAX_SHOW] = DEFAULT_SHOW,
    ) -> None:
        target = (await require_member(interaction, group)).group
        upcoming = await session_store.upcoming_sessions(
            self.bot.database, target.id, self.bot.clock.now(), limit=count
        )
        mode = (
            "Presenters bring a case (assigned mode)."
            if target.presenter_mode is PresenterMode.ASSIGNED
            else "On-deck mode: anyone may volunteer at the session; "
            "the member on deck is the fallback."
        )
        lines = [
            f"- {format_when(s.starts_at)}: {presenter_label(target, s.presenter_id)}"
            + (" (fixed)" if s.presenter_locked else "")
            for s in upcoming
        ]
        await reply(
            interaction,
            f"**{plain(target.name)}**: rota",
            mode,
            "\n".join(lines) or "No sessions are planned.",
        )

    @app_commands.command(
        name="me",
        description="When you present next, in every group",
        extras={"audience": Audience.MEMBER},
    )
    async def me(self, interaction: discord.Interaction[BalintBot]) -> None:
        # Every group of every server: the answer is the member's own and private.
        now = self.bot.clock.now()
        slots = await my_next_slots(self.bot.database, interaction.user.id, now, None)
        lines = [f"{self._group_label(interaction, s)}: {format_when(s.starts_at)}" for s in slots]
        sections = [
            "**Your presenting slots**",
            "\n".join(f"- {line}" for line in lines)
            if lines
            else "You have no presenting slot planned.",
        ]
        waiting = await pending_swaps_for(self.bot.database, interaction.user.id, now)
        if waiting:
            sections.append(
                "**Swap requests waiting for your answer** (the buttons are in my DM to you):\n"
                + "\n".join(
                    f"- {self._group_label(interaction, w)}: {format_when(w.starts_at)}"
                    for w in waiting
                )
            )
        await reply(interaction, *sections)

    def _group_label(self, interaction: discord.Interaction[BalintBot], slot: MySlot) -> str:
        """A group's name; asked in a server, a group of another server also names its
        server."""
        name = f"**{plain(slot.group_name)}**"
        server = self.bot.get_guild(slot.guild_id)
        elsewhere = interaction.guild_id is not None and slot.guild_id != interaction.guild_id
        if elsewhere and server is not None:
            name += f" ({plain(server.name)})"
        return name

    @app_commands.command(
        name="generate",
        description="(Re)assign presenters to upcoming sessions (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def generate(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = (await require_leader(interaction, group)).group
        await defer_now(interaction)
        outcome = await rota_service.regenerate_rota(
            self.bot.database, target, self.bot.clock.now(), actor_id=interaction.user.id
        )
        await reply(
            interaction,
            f"Regenerated the rota of **{plain(target.name)}**: {len(outcome.changes)} member(s) "
            "had their slots changed and are told by DM. Manually assigned sessions were kept. "
            "So were sessions whose presenter already had the presenter reminder (they may "
            "be preparing), while they can present.",
            await slots_changed_text(self.bot, target, outcome.notices),
        )
        await deliver(self.bot, target, outcome.notices, "the rota was regenerated")

    @app_commands.command(
        name="assign",
        description="Choose a session's presenter by hand (leaders)",
        extras={"audience": Audience.LEADER},
    )
    @app_commands.describe(session="Which session", member="Who presents", group="Which group")
    @app_commands.autocomplete(session=session_choices)
    @app_commands.autocomplete(group=group_choices)
    async def assign(
        self,
        interaction: discord.Interaction[BalintBot],
        session: int,
        member: discord.User,
        group: str | None = None,
    ) -> None:
        target = (await require_leader(interaction, group)).group
        if member.bot:
            raise Refusal(f"{member.mention} is not a member of **{{group}}**.", group=target.name)
        planned, outcome = await rota_service.assign_presenter(
            self.bot.database, target, session, member.id, interaction.user.id, self.bot.clock.now()
        )
        await reply(
            interaction,
            f"{member.mention} presents on {format_when(planned.starts_at)}; this session is "
            "now fixed and regeneration will not change it.",
            await slots_changed_text(self.bot, target, outcome.notices),
        )
        await deliver(self.bot, target, outcome.notices, "a leader assigned a session by hand")

    @app_commands.command(
        name="swap",
        description="Ask another member to take your presenting slot",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(session="Your slot", with_="Who you ask")
    @app_commands.rename(with_="with")
    @app_commands.autocomplete(session=my_slot_choices)
    async def swap(
        self, interaction: discord.Interaction[BalintBot], session: int, with_: discord.User
    ) -> None:
        request = await rota_service.request_swap(
            self.bot.database,
            session,
            interaction.user.id,
            with_.id,
            self.bot.clock.now(),
            other_is_bot=with_.bot,
        )
        target, planned, swap_id = request.group, request.session, request.swap_id
        await reply(
            interaction,
            f"I asked {with_.mention} to take your slot of {format_when(planned.starts_at)}. "
            + (
                f"If they accept, you take their slot of {format_when(request.exchange.starts_at)}"
                " in exchange. "
                if request.exchange is not None
                else "If they accept, it is a plain hand-over: you do not take a slot of theirs. "
            )
            + "You'll hear when they answer.",
        )
        asking = (
            f"<@{interaction.user.id}> asks you to take their presenting slot in "
            f"**{plain(target.name)}** on {format_when(planned.starts_at)}. "
            + (
                f"In exchange, they take your slot of {format_when(request.exchange.starts_at)}."
                if request.exchange is not None
                else "It is a plain hand-over: your own slots stay yours."
            )
        )
        delivered = await best_effort(
            "a swap request",
            tell(
                self.bot,
                target,
                with_.id,
                asking,
                view=swap_view(swap_id),
                hint="answer with the buttons below (only you can); `/rota me` shows which slot.",
                fallback_view=swap_view(swap_id),
            ),
        )
        if not delivered:
            await reply(
                interaction,
                f"I could not deliver the request to {with_.mention}; they can still see it "
                "with `/rota me`, or ask them directly.",
            )

    @app_commands.command(
        name="away",
        description="Tell the group you're away between two dates",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(
        from_="First day away, YYYY-MM-DD", to="Last day away, YYYY-MM-DD", group="Which group"
    )
    @app_commands.rename(from_="from")
    @app_commands.autocomplete(group=group_choices)
    async def away(
        self,
        interaction: discord.Interaction[BalintBot],
        from_: str,
        to: str,
        group: str | None = None,
    ) -> None:
        target = (await require_member(interaction, group)).group
        outcome = await rota_service.mark_away(
            self.bot.database, target, interaction.user.id, from_, to, self.bot.clock.now()
        )
        await reply(
            interaction,
            f"Noted: you are away from {from_} to {to} (inclusive) in "
            f"**{plain(target.name)}**. Any slot of yours in that time is handed on, and "
            "whoever takes it is told.",
        )
        await deliver(self.bot, target, outcome.notices, "a member will be away")

    @app_commands.command(
        name="history",
        description="Who presented when, and how often",
        extras={"audience": Audience.MEMBER},
    )
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_choices)
    async def history(
        self, interaction: discord.Interaction[BalintBot], group: str | None = None
    ) -> None:
        target = (await require_member(interaction, group)).group
        past = await session_store.past_sessions(self.bot.database, target.id, self.bot.clock.now())
        presented = [s for s in past if s.presenter_id is not None or s.by_former_member]
        lines = [
            f"- {format_when(s.starts_at)}: "
            + (f"<@{s.presenter_id}>" if s.presenter_id is not None else "a former member")
            for s in presented[-25:]
        ]
        counted = [s for s in presented if s.presenter_id is not None]
        in_term = Counter(
            s.presenter_id
            for s in counted
            if target.term_start is None or s.starts_at >= target.term_start
        )
        ever = Counter(s.presenter_id for s in counted)
        counts = [
            f"- <@{member}>: {in_term.get(member, 0)} this term, {total} in all"
            for member, total in ever.most_common()
        ]
        sections = [
            f"**{plain(target.name)}**: presentations",
            "\n".join(lines) or "Nobody has presented yet.",
        ]
        former = sum(s.presenter_id is None for s in presented)
        if former:
            counts.append(f"- former members: {former} in all")
        if counts:
            sections.append("**Counts**\n" + "\n".join(counts))
        await reply(interaction, *sections)
