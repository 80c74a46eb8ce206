"""Anonymous post-session reflections: `/reflect`, `/reflections`, the invitation
button and form, and the window's jobs."""

from bot.app import BalintBot
from bot.reflections.jobs import OPEN_KIND
from bot.reflections.service import CLOSE_KIND, RELEASE_KIND
from cogs.reflections.commands import Reflections
from cogs.reflections.writing import OwnButton, ReplaceButton, WriteButton


async def setup(bot: BalintBot) -> None:
    cog = Reflections(bot)
    bot.scheduler.register(OPEN_KIND, cog.open_window)
    bot.scheduler.register(CLOSE_KIND, cog.close_window)
    bot.scheduler.register(RELEASE_KIND, cog.release)
    bot.add_dynamic_items(WriteButton, OwnButton, ReplaceButton)
    await bot.add_cog(cog)
