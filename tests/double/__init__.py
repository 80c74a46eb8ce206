"""A protocol-level test double of Discord for the real, unmodified discord.py client.

``DiscordDouble`` serves Discord's REST API v10 and gateway on 127.0.0.1. Tests build a
world (``add_guild``, ``add_channel``, ``add_role``, ``add_user``, ``add_member``), run the bot
against it (``run_client``), act as users (``slash``, ``autocomplete``, ``click``, ``select``,
``submit_modal``, ``dm``, ``say``) and assert on what users would see (``messages``, ``dms``,
``Interaction.reply``...). Every request body and every answer is validated against Discord's
OpenAPI description (``openapi/``, MIT) and Discord's own limits (``rules.py``); problems are
collected in ``errors`` and raised by ``assert_no_errors()``.

Modules: ``core`` (DiscordDouble), ``state`` (world and builders), ``models`` (entities),
``records`` (what is recorded), ``server``/``rest_core``/``rest_interactions`` (REST),
``gateway``, ``driver`` (payloads for user actions), ``messaging``, ``rules``, ``spec``.
"""

from .core import DiscordDouble
from .driver import CommandUnavailable, Upload
from .gateway import Gateway, Session
from .models import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Channel,
    ChannelType,
    Guild,
    Member,
    Permission,
    Role,
    User,
)
from .records import (
    EPHEMERAL,
    LOADING,
    Attachment,
    CallbackAttempt,
    Interaction,
    InteractionResponse,
    Message,
    RegisteredCommand,
    Request,
)
from .state import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_SCHEDULED_EVENTS,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
)

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "EPHEMERAL",
    "INTENT_DIRECT_MESSAGES",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_GUILD_SCHEDULED_EVENTS",
    "INTENT_MESSAGE_CONTENT",
    "LOADING",
    "Attachment",
    "CallbackAttempt",
    "Channel",
    "ChannelType",
    "CommandUnavailable",
    "DiscordDouble",
    "Gateway",
    "Guild",
    "Interaction",
    "InteractionResponse",
    "Member",
    "Message",
    "Permission",
    "RegisteredCommand",
    "Request",
    "Role",
    "Session",
    "Upload",
    "User",
]
