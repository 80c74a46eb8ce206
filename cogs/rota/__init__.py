"""/rota: who presents when, manual assignments, swaps with consent, absences."""

from __future__ import annotations

from bot.app import BalintBot
from cogs.rota.commands import RotaCommands
from cogs.rota.swap import SwapAnswer


async def setup(bot: BalintBot) -> None:
    bot.add_dynamic_items(SwapAnswer)
    await bot.add_cog(RotaCommands(bot))
