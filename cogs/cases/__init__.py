"""Confidential case submission: `/case`, the DM intake, the draft's buttons and form,
and the purge of held notes with its notice to the leaders."""

from bot.app import BalintBot
from bot.cases.jobs import PURGE_KIND, PURGED_NOTICE_KIND
from cogs.cases.commands import Cases
from cogs.cases.drafting import DraftButton, GroupSelect


async def setup(bot: BalintBot) -> None:
    cog = Cases(bot)
    bot.scheduler.register(PURGE_KIND, cog.purge)
    bot.scheduler.register(PURGED_NOTICE_KIND, cog.tell_leaders_purged)
    bot.add_dynamic_items(DraftButton, GroupSelect)
    await bot.add_cog(cog)
