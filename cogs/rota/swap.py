"""Swap requests: the Accept / Decline buttons a member answers a swap request with."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.app import BalintBot
from bot.rota.service import answer_swap
from bot.sessions.recurrence import format_when
from cogs._common.access import STORED_ID
from cogs._common.messages import NO_PINGS, guarded, plain
from cogs._common.notify import best_effort, tell


def swap_view(swap_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SwapAnswer(swap_id, True))
    view.add_item(SwapAnswer(swap_id, False))
    return view


class SwapAnswer(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"rota-swap:(?P<swap>{STORED_ID}):(?P<answer>accept|decline)",
):
    """Accept / Decline on a swap request. The custom id carries the swap's id, so the
    buttons keep working after a restart; only the member asked can press them."""

    def __init__(self, swap_id: int, accept: bool) -> None:
        self.swap_id, self.accept = swap_id, accept
        super().__init__(
            discord.ui.Button(
                label="Accept" if accept else "Decline",
                style=discord.ButtonStyle.success if accept else discord.ButtonStyle.secondary,
                custom_id=f"rota-swap:{swap_id}:{'accept' if accept else 'decline'}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SwapAnswer:
        return cls(int(match["swap"]), match["answer"] == "accept")

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        outcome = await answer_swap(
            bot.database, self.swap_id, interaction.user.id, self.accept, bot.clock.now()
        )
        group, session = outcome.group, outcome.session
        when = format_when(session.starts_at)
        exchange = "" if outcome.exchanged is None else format_when(outcome.exchanged.starts_at)
        verdict = "accepted" if outcome.accepted else "declined"
        summary = f"You {verdict} the swap. Session of {when} in **{plain(group.name)}**."
        if exchange:
            summary += f" In exchange, <@{outcome.requester_id}> takes your slot of {exchange}."
        # The request message loses its buttons and says what happened. In the home
        # channel (where a member with closed DMs was asked) it stays content-free, and
        # the details go to the member privately.
        if interaction.guild_id is None:
            await interaction.response.edit_message(content=summary, view=None)
        else:
            await interaction.response.edit_message(
                content=f"<@{interaction.user.id}> answered this request.", view=None
            )
            await interaction.followup.send(summary, ephemeral=True, allowed_mentions=NO_PINGS)
        note = (
            f"<@{interaction.user.id}> {verdict} your swap request for the session of {when} "
            f"in **{plain(group.name)}**."
        )
        if self.accept:
            note += " They present then."
            if exchange:
                note += f" You take their slot of {exchange}."
        await best_effort("a swap outcome", tell(bot, group, outcome.requester_id, note))
