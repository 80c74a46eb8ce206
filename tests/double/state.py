"""The double's world: the application, its bot user, guilds, users, channels, messages.

Tests build the world with ``add_*`` methods and query what the bot did with ``messages``,
``dms``, ``commands``, ``interactions`` and ``requests``. Changes made while a client is
connected are announced over the gateway (GUILD_CREATE, CHANNEL_CREATE, GUILD_ROLE_CREATE,
GUILD_MEMBER_ADD/UPDATE) through the ``announce`` hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from .models import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Channel,
    ChannelType,
    Guild,
    Member,
    Role,
    Snowflakes,
    User,
    utcnow,
)
from .records import (
    Attachment,
    Changes,
    Interaction,
    Message,
    RegisteredCommand,
    Request,
)

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16

Where = Channel | User | int
TEST_TOKEN = "test-token"


class Announcer(Protocol):
    def __call__(self, event: str, data: dict[str, Any], intent: int | None) -> None: ...


class World:
    """Everything Discord knows, plus everything the double recorded."""

    def __init__(
        self,
        *,
        token: str = TEST_TOKEN,
        bot_name: str = "Balint Bot",
        application_name: str = "Balint",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.token = token
        self.clock = clock
        """Monotonic seconds: interaction deadlines, nonce windows."""
        self.now = now
        """Wall-clock time: "start time must be in the future" checks."""
        self.interaction_deadline = 3.0
        """Seconds within which the first interaction response must arrive (Discord: 3)."""
        self.nonce_window = 300.0
        """Seconds during which ``enforce_nonce`` deduplicates (Discord: a few minutes)."""
        self.base_url = "http://127.0.0.1:0"
        self.snowflakes = Snowflakes()
        self.changes = Changes()
        self.errors: list[str] = []
        self.requests: list[Request] = []
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages_by_id: dict[int, Message] = {}
        self.attachments: dict[int, Attachment] = {}
        self.interactions: list[Interaction] = []
        self.global_commands: list[RegisteredCommand] = []
        self.guild_commands: dict[int, list[RegisteredCommand]] = {}
        self.announce: Announcer | None = None
        self._channel_messages: dict[int, list[Message]] = {}
        self._dm_channels: dict[int, Channel] = {}
        self.application_name = application_name
        self.application_id = self.snowflakes.next()
        self.bot = self.add_user(bot_name, bot=True, dms_open=False)
        self.owner = self.add_user(f"{application_name} owner")

    # -- recording -----------------------------------------------------------------------------

    def record_error(self, text: str) -> None:
        self.errors.append(text)
        self.changes.notify()

    def _announce(self, event: str, data: dict[str, Any], intent: int | None) -> None:
        if self.announce is not None:
            self.announce(event, data, intent)

    # -- building --------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        bot: bool = False,
        dms_open: bool = True,
        global_name: str | None = None,
    ) -> User:
        """A Discord user; ``dms_open=False`` makes DMs to them fail with 50007."""
        user = User(self.snowflakes.next(), name, bot, dms_open, global_name)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        locale: str = "en-US",
    ) -> Guild:
        """A guild the bot is in, with ``@everyone``, the bot's managed role and an owner.

        The owner (a new user "<name> owner" unless given) is a member and has every
        permission, as on Discord.
        """
        guild_id = self.snowflakes.next()
        everyone = Role(guild_id, guild_id, "@everyone", everyone_permissions)
        if owner is None:
            owner = self.add_user(f"{name} owner")
        guild = Guild(guild_id, name, owner.id, everyone, roles=[everyone], preferred_locale=locale)
        self.guilds[guild_id] = guild
        bot_role = Role(
            self.snowflakes.next(),
            guild_id,
            self.bot.name,
            bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot.id,
        )
        guild.roles.append(bot_role)
        guild.members[self.bot.id] = Member(self.bot, guild_id, [bot_role])
        guild.members[owner.id] = Member(owner, guild_id, [])
        self._announce("GUILD_CREATE", {"id": str(guild_id)}, INTENT_GUILDS)
        return guild

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = ChannelType.GUILD_TEXT,
        topic: str | None = None,
        category: Channel | None = None,
    ) -> Channel:
        """A guild channel (text by default). Permission overwrites are not modelled."""
        channel = Channel(
            self.snowflakes.next(),
            int(type),
            name,
            guild.id,
            position=len(guild.channels),
            topic=topic,
            parent_id=None if category is None else category.id,
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        self._announce("CHANNEL_CREATE", channel.payload(), INTENT_GUILDS)
        return channel

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        color: int = 0,
        mentionable: bool = False,
    ) -> Role:
        """A role; give it to members with ``add_member(..., roles=[role])``."""
        role = Role(
            self.snowflakes.next(),
            guild.id,
            name,
            int(permissions),
            position=len(guild.roles),
            color=color,
            mentionable=mentionable,
        )
        guild.roles.append(role)
        self._announce(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}, INTENT_GUILDS
        )
        return role

    def add_member(
        self, guild: Guild, user: User, *, roles: Iterable[Role] = (), nick: str | None = None
    ) -> Member:
        """Make ``user`` a member of ``guild`` with the given roles (besides ``@everyone``)."""
        assert user.id not in guild.members, f"{user.name} is already a member of {guild.name}"
        member = Member(user, guild.id, list(roles), nick)
        for role in member.roles:
            assert role.guild_id == guild.id, f"role {role.name} belongs to another guild"
        guild.members[user.id] = member
        self._announce(
            "GUILD_MEMBER_ADD",
            {**member.payload(), "guild_id": str(guild.id)},
            INTENT_GUILD_MEMBERS,
        )
        return member

    def set_roles(self, guild: Guild, user: User, roles: Iterable[Role]) -> Member:
        """Replace a member's roles (GUILD_MEMBER_UPDATE)."""
        member = self.member(guild, user)
        member.roles = list(roles)
        self._announce(
            "GUILD_MEMBER_UPDATE",
            {**member.payload(), "guild_id": str(guild.id)},
            INTENT_GUILD_MEMBERS,
        )
        return member

    # -- looking up ------------------------------------------------------------------------

    def member(self, guild: Guild, user: User) -> Member:
        member = guild.members.get(user.id)
        assert member is not None, f"{user.name} is not a member of {guild.name}"
        return member

    def guild_of(self, channel: Channel) -> Guild | None:
        return None if channel.guild_id is None else self.guilds[channel.guild_id]

    def mutual_guilds(self, user: User) -> list[Guild]:
        return [
            g for g in self.guilds.values() if user.id in g.members and self.bot.id in g.members
        ]

    def dm_channel(self, user: User, *, create: bool = False) -> Channel | None:
        """The DM channel between ``user`` and the bot (created on demand)."""
        channel = self._dm_channels.get(user.id)
        if channel is None and create:
            channel = Channel(self.snowflakes.next(), int(ChannelType.DM), recipient=user)
            self._dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def _channel_id(self, where: Where) -> int | None:
        if isinstance(where, User):
            channel = self.dm_channel(where)
            return None if channel is None else channel.id
        if isinstance(where, Channel):
            return where.id
        return where

    def messages(self, where: Where, *, include_deleted: bool = False) -> list[Message]:
        """Messages in a channel (or a user's DM channel with the bot), oldest first.

        Ephemeral interaction replies are included (``message.ephemeral``).
        """
        channel_id = self._channel_id(where)
        if channel_id is None:
            return []
        found = self._channel_messages.get(channel_id, [])
        return [m for m in found if include_deleted or not m.deleted]

    def dms(self, user: User) -> list[Message]:
        """Messages in the DM channel between ``user`` and the bot (both directions)."""
        return self.messages(user)

    def store_message(self, message: Message) -> Message:
        self._channel_messages.setdefault(message.channel_id, []).append(message)
        self.messages_by_id[message.id] = message
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
        self.changes.notify()
        return message

    def commands(self, guild: Guild | None = None) -> list[RegisteredCommand]:
        """Commands registered globally (``guild=None``) or for one guild."""
        if guild is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(guild.id, []))

    def find_command(
        self, name: str, guild: Guild | None, type: int = 1
    ) -> RegisteredCommand | None:
        """Resolve a command as Discord does: the guild's own commands, then global ones."""
        candidates = self.commands(guild) if guild is not None else []
        for command in candidates + self.global_commands:
            if command.name == name and command.type == type:
                return command
        return None

    def interaction_by_token(self, token: str) -> Interaction | None:
        for interaction in self.interactions:
            if interaction.token == token:
                return interaction
        return None
