"""Answering interactions: private by default, never pinging, split when long."""

from __future__ import annotations

from typing import Any

import discord

from bot.text import chunk_sections

NO_PINGS = discord.AllowedMentions.none()


async def reply(
    interaction: discord.Interaction[Any],
    *sections: str,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
) -> None:
    """Send `sections` (joined by blank lines) as the answer, in as many messages as
    Discord's 2,000-character limit needs; a view goes on the last message."""
    messages = chunk_sections(sections)
    for index, content in enumerate(messages):
        extra: dict[str, Any] = {}
        if view is not None and index == len(messages) - 1:
            extra["view"] = view
        if index == 0 and not interaction.response.is_done():
            await interaction.response.send_message(
                content, ephemeral=ephemeral, allowed_mentions=NO_PINGS, **extra
            )
        else:
            await interaction.followup.send(
                content, ephemeral=ephemeral, allowed_mentions=NO_PINGS, **extra
            )
