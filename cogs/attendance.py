"""Placeholder replaced by the attendance capability's Discord side."""

from bot.app import BalintBot


async def setup(bot: BalintBot) -> None:
    return None
