"""Discord's entities as the double keeps them: users, guilds, roles, channels, members.

Each entity renders itself as Discord would send it (``payload()``); those payloads are
checked against the OpenAPI response schemas wherever the double answers with them.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000


class Permission(enum.IntFlag):
    """Discord permission bits (a subset; any int is accepted where permissions are taken)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    CREATE_EVENTS = 1 << 44


ALL_PERMISSIONS = (1 << 53) - 1

DEFAULT_EVERYONE_PERMISSIONS = int(
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
"""What ``@everyone`` may do in a freshly created guild (roughly Discord's default)."""

DEFAULT_BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.ADD_REACTIONS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.MANAGE_EVENTS
    | Permission.CREATE_EVENTS
)
"""Permissions of the bot's managed role, as granted by a typical invite link."""


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4


def iso(moment: datetime) -> str:
    """Discord's timestamp format (ISO 8601 with offset)."""
    return moment.isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Snowflakes:
    """Increasing snowflake ids whose timestamp part is the current wall-clock time.

    discord.py derives ``created_at`` from ids, so they look like real ones; the counter keeps
    them strictly increasing even within one millisecond.
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, stamp)
        return self._last


@dataclass(eq=False)
class User:
    """A Discord user. ``dms_open=False`` mirrors a user who blocks DMs from server members."""

    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        """A ``UserResponse``."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.global_name,
            "avatar": None,
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "avatar_decoration_data": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class Role:
    """A guild role; the ``@everyone`` role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    color: int = 0
    mentionable: bool = False
    hoist: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        """A ``GuildRoleResponse``."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class Channel:
    """A guild channel (text, voice, category) or a DM channel with the bot."""

    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipient: User | None = None
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        """A ``GuildChannelResponse`` or a ``PrivateChannelResponse``."""
        last = None if self.last_message_id is None else str(self.last_message_id)
        if self.is_dm:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": int(ChannelType.DM),
                "last_message_id": last,
                "flags": 0,
                "last_pin_timestamp": None,
                "recipients": [self.recipient.payload()],
            }
        assert self.guild_id is not None
        assert self.name is not None
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "flags": 0,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "permission_overwrites": [],
        }
        if self.type == ChannelType.GUILD_TEXT:
            data.update(
                topic=self.topic,
                nsfw=False,
                rate_limit_per_user=0,
                last_message_id=last,
                last_pin_timestamp=None,
            )
        elif self.type == ChannelType.GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, nsfw=False)
        return data


@dataclass(eq=False, repr=False)
class Member:
    """A user's membership of a guild, with its roles (``@everyone`` is implicit)."""

    user: User
    guild_id: int
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=utcnow)

    def __repr__(self) -> str:
        return f"<Member {self.user.name} of {self.guild_id} roles={[r.name for r in self.roles]}>"

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """A ``GuildMemberResponse`` (without ``user`` inside message/resolved objects)."""
        data: dict[str, Any] = {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "flags": 0,
            "joined_at": iso(self.joined_at),
            "nick": self.nick,
            "pending": False,
            "premium_since": None,
            "roles": [str(role.id) for role in self.roles],
            "mute": False,
            "deaf": False,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False, repr=False)
class Guild:
    """A guild with its roles, channels, members and scheduled events."""

    id: int
    name: str
    owner_id: int
    everyone: Role
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    scheduled_events: dict[int, dict[str, Any]] = field(default_factory=dict)
    preferred_locale: str = "en-US"

    def __repr__(self) -> str:
        return f"<Guild {self.id} {self.name!r}>"

    def role(self, name: str) -> Role:
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name!r} has no role {name!r}")

    def channel(self, name: str) -> Channel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions: @everyone | roles; owner and ADMINISTRATOR get all.

        Channel permission overwrites are not modelled, so this is also the channel value.
        """
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        value = self.everyone.permissions
        for role in member.roles:
            value |= role.permissions
        if value & Permission.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def payload(self) -> dict[str, Any]:
        """A ``GuildResponse`` (what ``GET /guilds/{id}`` answers)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": None,
            "home_header": None,
            "splash": None,
            "discovery_splash": None,
            "features": [],
            "banner": None,
            "owner_id": str(self.owner_id),
            "application_id": None,
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "roles": [role.payload() for role in self.roles],
            "default_message_notifications": 0,
            "mfa_level": 0,
            "explicit_content_filter": 0,
            "max_presences": None,
            "max_members": 500000,
            "max_stage_video_channel_users": 50,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "rules_channel_id": None,
            "safety_alerts_channel_id": None,
            "public_updates_channel_id": None,
            "premium_progress_bar_enabled": False,
            "nsfw": False,
            "nsfw_level": 0,
            "emojis": [],
            "stickers": [],
            "incidents_data": None,
        }
