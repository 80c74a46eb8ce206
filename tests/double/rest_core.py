"""REST routes for users, the application, commands, channels, messages, DMs, guilds,
members and scheduled events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .gateway import Gateway
from .messaging import announce, apply_edit, new_message
from .models import Channel, Guild, Permission
from .records import RegisteredCommand
from .rules import DiscordError, check_commands, check_message, form_error, not_found
from .server import Call, Reply, RouteTable, no_content, ok
from .state import INTENT_GUILD_SCHEDULED_EVENTS, World

APP = "/applications/{application_id}"
CHANNEL = "/channels/{channel_id}"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
EVENTS = "/guilds/{guild_id}/scheduled-events"
EVENT = "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"
EVENT_STATUS_MOVES = {1: {1, 2, 4}, 2: {2, 3}, 3: {3}, 4: {4}}


def _missing_permissions(detail: str) -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions", problem=False, detail=detail)


class CoreRoutes:
    """Handlers that do not involve interaction tokens."""

    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gateway = gateway

    def table(self) -> RouteTable:
        return {
            ("GET", "/gateway"): self.get_gateway,
            ("GET", "/gateway/bot"): self.get_gateway_bot,
            ("GET", "/users/@me"): self.get_me,
            ("GET", "/users/{user_id}"): self.get_user,
            ("POST", "/users/@me/channels"): self.create_dm,
            ("GET", "/oauth2/applications/@me"): self.get_application,
            ("GET", f"{APP}/commands"): self.get_commands,
            ("PUT", f"{APP}/commands"): self.put_commands,
            ("GET", f"{APP}/guilds/{{guild_id}}/commands"): self.get_commands,
            ("PUT", f"{APP}/guilds/{{guild_id}}/commands"): self.put_commands,
            ("GET", CHANNEL): self.get_channel,
            ("POST", f"{CHANNEL}/typing"): self.typing,
            ("GET", f"{CHANNEL}/messages"): self.list_messages,
            ("POST", f"{CHANNEL}/messages"): self.create_message,
            ("GET", MESSAGE): self.get_message,
            ("PATCH", MESSAGE): self.edit_message,
            ("DELETE", MESSAGE): self.delete_message,
            ("GET", "/guilds/{guild_id}"): self.get_guild,
            ("GET", "/guilds/{guild_id}/channels"): self.get_guild_channels,
            ("GET", "/guilds/{guild_id}/roles"): self.get_roles,
            ("GET", "/guilds/{guild_id}/members/{user_id}"): self.get_member,
            ("GET", EVENTS): self.list_events,
            ("POST", EVENTS): self.create_event,
            ("GET", EVENT): self.get_event,
            ("PATCH", EVENT): self.edit_event,
            ("DELETE", EVENT): self.delete_event,
        }

    # -- lookups -----------------------------------------------------------------------------

    def _channel(self, call: Call) -> Channel:
        channel = self.world.channels.get(call.int_param("channel_id"))
        if channel is None:
            raise not_found(10003, "Unknown Channel")
        guild = self.world.guild_of(channel)
        if guild is not None and not self._bot_can(guild, Permission.VIEW_CHANNEL):
            raise DiscordError(403, 50001, "Missing Access", problem=False)
        return channel

    def _guild(self, call: Call) -> Guild:
        guild = self.world.guilds.get(call.int_param("guild_id"))
        if guild is None:
            raise not_found(10004, "Unknown Guild")
        return guild

    def _bot_can(self, guild: Guild, permission: int) -> bool:
        return guild.permissions_of(self.world.bot.id) & permission == permission

    # -- gateway, users, application -------------------------------------------------------------

    async def get_gateway(self, call: Call) -> Reply:
        return ok({"url": self.gateway.url})

    async def get_gateway_bot(self, call: Call) -> Reply:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        shards = self.gateway.recommended_shards
        return ok({"url": self.gateway.url, "shards": shards, "session_start_limit": limit})

    async def get_me(self, call: Call) -> Reply:
        me = self.world.bot.payload()
        me.update(mfa_enabled=False, locale="en-US", verified=True, email=None)
        return ok(me)

    async def get_user(self, call: Call) -> Reply:
        user = self.world.users.get(call.int_param("user_id"))
        if user is None:
            raise not_found(10013, "Unknown User")
        return ok(user.payload())

    async def get_application(self, call: Call) -> Reply:
        world = self.world
        return ok(
            {
                "id": str(world.application_id),
                "name": world.application_name,
                "icon": None,
                "description": "",
                "type": None,
                "bot": world.bot.payload(),
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "flags_new": "0",
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "owner": world.owner.payload(),
                "approximate_guild_count": len(world.guilds),
                "approximate_user_install_count": 0,
                "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0,
                "team": None,
                "eligible_oauth2_scopes": ["bot", "applications.commands"],
            }
        )

    async def create_dm(self, call: Call) -> Reply:
        """Opening a DM always works; sending to it may not (50007)."""
        raw = call.json_object().get("recipient_id")
        user = self.world.users.get(int(raw)) if raw is not None else None
        if user is None:
            raise DiscordError(400, 50033, "Invalid Recipient(s)", problem=False)
        channel = self.world.dm_channel(user, create=True)
        assert channel is not None
        return ok(channel.payload())

    # -- commands --------------------------------------------------------------------------

    def _command_scope(self, call: Call) -> int | None:
        if call.int_param("application_id") != self.world.application_id:
            raise DiscordError(403, 50001, "Missing Access", detail="another application's id")
        if "guild_id" not in call.params:
            return None
        guild = self._guild(call)
        return guild.id

    async def get_commands(self, call: Call) -> Reply:
        guild_id = self._command_scope(call)
        if guild_id is None:
            commands = self.world.global_commands
        else:
            commands = self.world.guild_commands.get(guild_id, [])
        return ok([c.payload() for c in commands])

    async def put_commands(self, call: Call) -> Reply:
        """Bulk overwrite: ids stay stable for an unchanged (name, type), as on Discord."""
        guild_id = self._command_scope(call)
        body = call.body if isinstance(call.body, list) else []
        check_commands(body)
        world = self.world
        previous = (
            world.global_commands if guild_id is None else world.guild_commands.get(guild_id, [])
        )
        ids = {(c.name, c.type): c.id for c in previous}
        commands = [
            RegisteredCommand(
                ids.get((str(data["name"]), int(data.get("type") or 1))) or world.snowflakes.next(),
                world.application_id,
                guild_id,
                dict(data),
                world.snowflakes.next(),
            )
            for data in body
        ]
        if guild_id is None:
            world.global_commands = commands
        else:
            world.guild_commands[guild_id] = commands
        return ok([c.payload() for c in commands])

    # -- channels and messages -------------------------------------------------------------------

    async def get_channel(self, call: Call) -> Reply:
        return ok(self._channel(call).payload())

    async def typing(self, call: Call) -> Reply:
        self._channel(call)
        return no_content()

    async def list_messages(self, call: Call) -> Reply:
        channel = self._channel(call)
        messages = [m for m in self.world.messages(channel) if not m.ephemeral]
        if "before" in call.query:
            messages = [m for m in messages if m.id < int(call.query["before"])]
        if "after" in call.query:
            messages = [m for m in messages if m.id > int(call.query["after"])]
        limit = int(call.query.get("limit", 50))
        newest_first = list(reversed(messages))
        return ok([m.payload() for m in newest_first[:limit]])

    async def create_message(self, call: Call) -> Reply:
        """Permissions, DM reachability (50007), content rules, ``enforce_nonce``."""
        world = self.world
        channel = self._channel(call)
        body = call.json_object()
        guild = world.guild_of(channel)
        if guild is not None:
            if not self._bot_can(guild, Permission.SEND_MESSAGES):
                raise _missing_permissions("the bot may not send messages here")
            if call.files and not self._bot_can(guild, Permission.ATTACH_FILES):
                raise _missing_permissions("the bot may not attach files here")
        else:
            recipient = channel.recipient
            assert recipient is not None
            if recipient.bot or not recipient.dms_open or not world.mutual_guilds(recipient):
                raise DiscordError(403, 50007, "Cannot send messages to this user", problem=False)
        check_message(body, len(call.files), creating=True)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._same_nonce(channel, nonce)
            if earlier is not None:
                return ok(earlier.payload())
        message = new_message(world, channel, world.bot, body, call.files)
        reference = body.get("message_reference")
        if reference:
            message.message_reference = self._reference(channel, reference)
            message.type = 19
        world.store_message(message)
        announce(world, self.gateway, "MESSAGE_CREATE", message)
        return ok(message.payload())

    def _same_nonce(self, channel: Channel, nonce: str | int) -> Any:
        """Discord returns the earlier message when the same author repeats a nonce with
        ``enforce_nonce`` in the same channel within a few minutes."""
        now = self.world.clock()
        for message in reversed(self.world.messages(channel, include_deleted=True)):
            if now - message.created_at > self.world.nonce_window:
                break
            if message.author is self.world.bot and str(message.nonce) == str(nonce):
                return message
        return None

    def _reference(self, channel: Channel, reference: dict[str, Any]) -> dict[str, Any]:
        target_id = int(reference.get("message_id") or 0)
        target = self.world.messages_by_id.get(target_id)
        missing = target is None or target.channel_id != channel.id
        if missing and reference.get("fail_if_not_exists", True):
            raise form_error(
                "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
            )
        result: dict[str, Any] = {
            "type": 0,
            "channel_id": str(channel.id),
            "message_id": str(target_id),
        }
        if channel.guild_id is not None:
            result["guild_id"] = str(channel.guild_id)
        return result

    def _message(self, call: Call, channel: Channel) -> Any:
        message = self.world.messages_by_id.get(call.int_param("message_id"))
        if message is None or message.channel_id != channel.id or message.deleted:
            raise not_found(10008, "Unknown Message")
        if message.ephemeral:
            raise not_found(10008, "Unknown Message")
        return message

    async def get_message(self, call: Call) -> Reply:
        channel = self._channel(call)
        return ok(self._message(call, channel).payload())

    async def edit_message(self, call: Call) -> Reply:
        """Only the author edits content; others' messages give 50005."""
        channel = self._channel(call)
        message = self._message(call, channel)
        body = call.json_object()
        if message.author is not self.world.bot:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        check_message(body, len(call.files), creating=False)
        apply_edit(self.world, message, body, call.files)
        announce(self.world, self.gateway, "MESSAGE_UPDATE", message)
        return ok(message.payload())

    async def delete_message(self, call: Call) -> Reply:
        channel = self._channel(call)
        message = self._message(call, channel)
        guild = self.world.guild_of(channel)
        if message.author is not self.world.bot and (
            guild is None or not self._bot_can(guild, Permission.MANAGE_MESSAGES)
        ):
            raise _missing_permissions("deleting someone else's message needs MANAGE_MESSAGES")
        message.deleted = True
        self.world.changes.notify()
        announce(self.world, self.gateway, "MESSAGE_DELETE", message)
        return no_content()

    # -- guilds and members ----------------------------------------------------------------

    async def get_guild(self, call: Call) -> Reply:
        guild = self._guild(call)
        payload = guild.payload()
        if call.flag("with_counts"):
            payload.update(
                approximate_member_count=len(guild.members), approximate_presence_count=0
            )
        return ok(payload)

    async def get_guild_channels(self, call: Call) -> Reply:
        return ok([c.payload() for c in self._guild(call).channels])

    async def get_roles(self, call: Call) -> Reply:
        return ok([r.payload() for r in self._guild(call).roles])

    async def get_member(self, call: Call) -> Reply:
        guild = self._guild(call)
        member = guild.members.get(call.int_param("user_id"))
        if member is None:
            raise not_found(10007, "Unknown Member")
        return ok(member.payload())

    # -- scheduled events --------------------------------------------------------------------

    def _event(self, call: Call, guild: Guild) -> dict[str, Any]:
        event = guild.scheduled_events.get(call.int_param("guild_scheduled_event_id"))
        if event is None:
            raise not_found(10070, "Unknown Guild Scheduled Event")
        return event

    def _event_view(self, event: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.flag("with_user_count"):
            return {**event, "user_count": 0}
        return event

    def _require_event_permission(self, guild: Guild) -> None:
        if not (
            self._bot_can(guild, Permission.MANAGE_EVENTS)
            or self._bot_can(guild, Permission.CREATE_EVENTS)
        ):
            raise _missing_permissions("scheduled events need MANAGE_EVENTS or CREATE_EVENTS")

    async def list_events(self, call: Call) -> Reply:
        guild = self._guild(call)
        return ok([self._event_view(e, call) for e in guild.scheduled_events.values()])

    async def get_event(self, call: Call) -> Reply:
        guild = self._guild(call)
        return ok(self._event_view(self._event(call, guild), call))

    async def create_event(self, call: Call) -> Reply:
        """Start in the future, end after start; external events need a location and an
        end time, voice/stage events a channel of the guild."""
        guild = self._guild(call)
        self._require_event_permission(guild)
        body = call.json_object()
        world = self.world
        event: dict[str, Any] = {
            "id": str(world.snowflakes.next()),
            "guild_id": str(guild.id),
            "name": body["name"],
            "description": body.get("description"),
            "channel_id": None,
            "creator_id": str(world.bot.id),
            "creator": world.bot.payload(),
            "image": None,
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "status": 1,
            "entity_type": int(body["entity_type"]),
            "entity_id": None,
            "recurrence_rule": None,
            "privacy_level": int(body["privacy_level"]),
            "guild_scheduled_event_exceptions": [],
            "entity_metadata": None,
        }
        self._apply_event_fields(guild, event, body)
        guild.scheduled_events[int(event["id"])] = event
        self.gateway.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event, INTENT_GUILD_SCHEDULED_EVENTS)
        return ok(event)

    def _apply_event_fields(
        self, guild: Guild, event: dict[str, Any], body: dict[str, Any]
    ) -> None:
        _copy_event_fields(event, body)
        self._check_event_schedule(event, body)
        if event["entity_type"] == 3:
            _check_external_event(event)
        else:
            self._check_channel_event(guild, event)

    def _check_event_schedule(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A start the body sets must lie in the future; an end must come after the start."""
        start = _parse_time(event["scheduled_start_time"], "scheduled_start_time")
        if "scheduled_start_time" in body and start <= self.world.now():
            raise form_error(
                "scheduled_start_time",
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        end_raw = event["scheduled_end_time"]
        if end_raw is not None and _parse_time(end_raw, "scheduled_end_time") <= start:
            raise form_error(
                "scheduled_end_time",
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )

    def _check_channel_event(self, guild: Guild, event: dict[str, Any]) -> None:
        """A voice/stage event needs a channel of the guild; it carries no null metadata."""
        channel_id = event["channel_id"]
        channel = self.world.channels.get(int(channel_id)) if channel_id else None
        if channel is None or channel.guild_id != guild.id:
            raise form_error("channel_id", "BASE_TYPE_REQUIRED", "A guild channel is required")
        if event["entity_metadata"] is None:
            event.pop("entity_metadata")

    async def edit_event(self, call: Call) -> Reply:
        """Field updates and Discord's status moves (scheduled→active/canceled,
        active→completed)."""
        guild = self._guild(call)
        self._require_event_permission(guild)
        event = self._event(call, guild)
        body = call.json_object()
        updated = dict(event)
        self._apply_event_fields(guild, updated, body)
        if body.get("status") is not None:
            status = int(body["status"])
            if status not in EVENT_STATUS_MOVES[int(event["status"])]:
                raise form_error(
                    "status",
                    "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                    f"Cannot move an event from status {event['status']} to {status}",
                )
            updated["status"] = status
        event.clear()
        event.update(updated)
        self.gateway.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event, INTENT_GUILD_SCHEDULED_EVENTS)
        return ok(event)

    async def delete_event(self, call: Call) -> Reply:
        guild = self._guild(call)
        self._require_event_permission(guild)
        event = self._event(call, guild)
        del guild.scheduled_events[int(event["id"])]
        self.gateway.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event, INTENT_GUILD_SCHEDULED_EVENTS)
        return no_content()


def _copy_event_fields(event: dict[str, Any], body: dict[str, Any]) -> None:
    """Copy onto the event the fields the body sets, as Discord stores them."""
    for key in ("name", "description", "scheduled_start_time", "scheduled_end_time"):
        if key in body:
            event[key] = body[key]
    if body.get("privacy_level") is not None:
        event["privacy_level"] = int(body["privacy_level"])
    if body.get("entity_type") is not None:
        event["entity_type"] = int(body["entity_type"])
    if "channel_id" in body:
        event["channel_id"] = None if body["channel_id"] is None else str(body["channel_id"])
    if "entity_metadata" in body:
        event["entity_metadata"] = body["entity_metadata"]
    if body.get("recurrence_rule") is not None:
        event["recurrence_rule"] = body["recurrence_rule"]


def _check_external_event(event: dict[str, Any]) -> None:
    """An external event needs a location and an end time, and has no channel."""
    location = (event.get("entity_metadata") or {}).get("location")
    if not location:
        raise form_error("entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required")
    if event["scheduled_end_time"] is None:
        raise form_error("scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required")
    event["channel_id"] = None


def _parse_time(raw: str, field_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise form_error(
            field_name, "DATE_TIME_TYPE_INVALID", "Invalid ISO8601 timestamp"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
