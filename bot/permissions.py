"""What the bot asks Discord for: gateway intents and server permissions, in one place."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def required_intents() -> discord.Intents:
    """Only non-privileged intents.

    - guilds: the server, channel and role cache, and knowing when the bot leaves a server
      (its data is then deleted).
    - dm_messages: members write confidential case notes to the bot by DM; DM content
      arrives without the privileged message-content intent.
    Leaders come from each group's roster, so the privileged members intent is not needed.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.dm_messages = True
    return intents


def required_permissions() -> discord.Permissions:
    """Exactly what the bot uses in a server: see its channels, post reminders and
    announcements there, and (for groups that turn it on) show sessions in the server's
    Events. Replies to commands need no permission."""
    return discord.Permissions(view_channel=True, send_messages=True, manage_events=True)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=required_permissions(), scopes=SCOPES
    )
