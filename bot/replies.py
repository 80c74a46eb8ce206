"""Answering interactions: private by default, never pinging, split when long; and the
one way every command, button and form answers an error."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.errors import Refusal, log_failure
from bot.text import chunk_sections

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
GENERIC_FAILURE = "Something went wrong on my side; nothing was changed. Please try again."

Callback = TypeVar("Callback", bound=Callable[..., Awaitable[None]])


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


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer privately, whether or not the interaction was answered already."""
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_PINGS)


async def answer_error(interaction: discord.Interaction[Any], error: Exception, what: str) -> None:
    """A `Refusal` (or a bad option) is shown as it is; anything else is logged without
    its message (it may quote confidential input) and the user gets a generic answer."""
    original = getattr(error, "original", error)
    if isinstance(original, Refusal):
        message = original.message
    elif isinstance(error, app_commands.CheckFailure | app_commands.TransformerError):
        message = str(error)
    else:
        log_failure(log, what, original)
        message = GENERIC_FAILURE
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException as failure:
        log.warning("could not tell the user about a failure in %s: HTTP %s", what, failure.status)


def guarded(callback: Callback) -> Callback:
    """For button and form callbacks (`async def callback(self, interaction, ...)`):
    errors are answered like a command's instead of being logged by discord.py with
    their message and leaving the user with "This interaction failed"."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction[Any], *args: Any) -> None:
        try:
            await callback(self, interaction, *args)
        except Exception as error:
            await answer_error(interaction, error, type(self).__name__)

    return wrapper  # type: ignore[return-value]
