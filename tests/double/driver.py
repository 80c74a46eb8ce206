"""Building what Discord sends when a user acts: interaction and message payloads.

Every interaction payload comes from one template (:func:`interaction_payload`), so none
lacks a field discord.py indexes directly. Slash commands and autocomplete are resolved
against the commands the bot registered, the way the Discord client would: a command or an
option the bot did not register, a wrong option type, a missing required option, a value
outside the choices or bounds fail with a clear AssertionError before anything is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .models import ALL_PERMISSIONS, Channel, Guild, Role, User
from .records import Attachment, Message, RegisteredCommand
from .rules import SELECT_TYPES, TEXT_INPUT, modal_inputs
from .state import World

OPTION_TYPES = {
    1: "subcommand",
    2: "subcommand group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
MAX_SAFE_INTEGER = 2**53
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1


class CommandUnavailable(AssertionError):
    """Discord would not offer this command to this user here (``default_member_permissions``,
    ``contexts`` or ``dm_permission``), so the interaction cannot happen."""


@dataclass(frozen=True)
class Upload:
    """A file a test user attaches to an attachment option."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class ResolvedCommand:
    command: RegisteredCommand
    path: list[dict[str, Any]]
    """The subcommand group/subcommand option definitions along the path."""
    parameters: list[dict[str, Any]]
    """The option definitions of the invoked (sub)command."""


def resolve_command(world: World, path: str, guild: Guild | None) -> ResolvedCommand:
    """Find ``"group sub"`` among the registered chat-input commands."""
    words = path.strip().lstrip("/").split()
    assert words, "empty command path"
    command = world.find_command(words[0], guild)
    if command is None:
        names = sorted({c.name for c in world.commands(guild) + world.global_commands})
        raise AssertionError(f"no slash command /{words[0]} is registered (registered: {names})")
    chain: list[dict[str, Any]] = []
    options = command.options
    for word in words[1:]:
        found = next((o for o in options if o["name"] == word and o["type"] in (1, 2)), None)
        if found is None:
            subs = [o["name"] for o in options if o["type"] in (1, 2)]
            raise AssertionError(f"/{path}: {word!r} is not a subcommand here (have: {subs})")
        chain.append(found)
        options = list(found.get("options") or [])
    subs = [o["name"] for o in options if o["type"] in (1, 2)]
    if subs:
        raise AssertionError(f"/{path} needs a subcommand: one of {subs}")
    return ResolvedCommand(command, chain, options)


def check_availability(command: RegisteredCommand, user: User, guild: Guild | None) -> None:
    """Mirror what the Discord client shows: contexts, DM permission, member permissions."""
    data = command.data
    context = CONTEXT_GUILD if guild is not None else CONTEXT_BOT_DM
    contexts = data.get("contexts")
    if contexts is not None and context not in contexts:
        where = "in a guild" if guild is not None else "in DMs with the bot"
        raise CommandUnavailable(f"/{command.name} is not available {where} (contexts={contexts})")
    if guild is None and data.get("dm_permission") is False:
        raise CommandUnavailable(f"/{command.name} is not available in DMs (dm_permission)")
    required = data.get("default_member_permissions")
    if guild is not None and required is not None:
        needed = int(required)
        if guild.permissions_of(user.id) & needed != needed:
            raise CommandUnavailable(
                f"/{command.name} needs permissions {needed} that {user.name} lacks"
            )


class OptionBuilder:
    """Turns test values into ``data.options`` and ``data.resolved``."""

    def __init__(self, world: World, guild: Guild | None, user: User, path: str) -> None:
        self.world = world
        self.guild = guild
        self.user = user
        self.path = path
        self.resolved: dict[str, dict[str, Any]] = {}

    def build(
        self,
        definitions: list[dict[str, Any]],
        values: dict[str, Any],
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in definitions}
        given = {
            name.replace("_", "-") if name not in by_name else name: v for name, v in values.items()
        }
        unknown = sorted(set(given) - set(by_name))
        if unknown:
            raise AssertionError(
                f"/{self.path}: no option {unknown} is registered (options: {sorted(by_name)})"
            )
        if focused is not None and focused not in by_name:
            raise AssertionError(f"/{self.path}: focused option {focused!r} is not registered")
        options = []
        for definition in definitions:
            name = definition["name"]
            if name == focused:
                assert definition.get("autocomplete"), f"/{self.path}: {name} has no autocomplete"
                typed = given.get(name, "")
                options.append(
                    {"name": name, "type": definition["type"], "value": typed, "focused": True}
                )
                continue
            if name not in given:
                if definition.get("required") and focused is None:
                    raise AssertionError(f"/{self.path}: required option {name!r} is missing")
                continue
            value = self._value(definition, given[name])
            options.append({"name": name, "type": definition["type"], "value": value})
        return options

    def _value(self, definition: dict[str, Any], value: Any) -> Any:
        kind = int(definition["type"])
        label = f"/{self.path} {definition['name']} ({OPTION_TYPES.get(kind, kind)})"
        if kind == 3:
            assert isinstance(value, str), f"{label}: expected a str, got {value!r}"
            low, high = definition.get("min_length", 0), definition.get("max_length", 6000)
            assert low <= len(value) <= high, f"{label}: length must be in {low}..{high}"
        elif kind in (4, 10):
            ok_type = int if kind == 4 else (int, float)
            assert isinstance(value, ok_type), f"{label}: expected a number, got {value!r}"
            assert not isinstance(value, bool), f"{label}: expected a number, got {value!r}"
            low = definition.get("min_value", -MAX_SAFE_INTEGER)
            high = definition.get("max_value", MAX_SAFE_INTEGER)
            assert low <= value <= high, f"{label}: {value} is outside {low}..{high}"
        elif kind == 5:
            assert isinstance(value, bool), f"{label}: expected a bool, got {value!r}"
        elif kind in (6, 9) and isinstance(value, User):
            return self._user(value)
        elif kind in (8, 9) and isinstance(value, Role):
            self.resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        elif kind == 7 and isinstance(value, Channel):
            return self._channel(definition, value, label)
        elif kind == 11 and isinstance(value, Upload):
            return self._attachment(value)
        else:
            raise AssertionError(f"{label}: cannot pass {value!r} for this option type")
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise AssertionError(f"{label}: {value!r} is not one of the choices {choices}")
        return value

    def _user(self, user: User) -> str:
        key = str(user.id)
        self.resolved.setdefault("users", {})[key] = user.payload()
        if self.guild is not None and user.id in self.guild.members:
            member = self.guild.members[user.id].payload(with_user=False)
            member["permissions"] = str(self.guild.permissions_of(user.id))
            self.resolved.setdefault("members", {})[key] = member
        return key

    def _channel(self, definition: dict[str, Any], channel: Channel, label: str) -> str:
        allowed = definition.get("channel_types")
        assert not allowed or channel.type in allowed, (
            f"{label}: channel type {channel.type} is not in {allowed}"
        )
        data = channel.payload()
        if self.guild is not None:
            data["permissions"] = str(self.guild.permissions_of(self.user.id))
        self.resolved.setdefault("channels", {})[str(channel.id)] = data
        return str(channel.id)

    def _attachment(self, upload: Upload) -> str:
        world = self.world
        ident = world.snowflakes.next()
        url = f"{world.base_url}/attachments/{ident}/{upload.filename}"
        attachment = Attachment(ident, upload.filename, upload.data, url, upload.content_type)
        world.attachments[ident] = attachment
        self.resolved.setdefault("attachments", {})[str(ident)] = attachment.payload()
        return str(ident)


def command_data(
    resolved: ResolvedCommand,
    options: list[dict[str, Any]],
    guild: Guild | None,
    builder: OptionBuilder,
) -> dict[str, Any]:
    """``data`` of a type 2/4 interaction: nested subcommand options, resolved objects."""
    nested = options
    for definition in reversed(resolved.path):
        nested = [{"name": definition["name"], "type": definition["type"], "options": nested}]
    command = resolved.command
    data: dict[str, Any] = {
        "id": str(command.id),
        "name": command.name,
        "type": command.type,
        "options": nested,
    }
    if builder.resolved:
        data["resolved"] = builder.resolved
    if command.guild_id is not None:
        data["guild_id"] = str(command.guild_id)
    return data


def interaction_payload(
    world: World,
    *,
    kind: int,
    data: dict[str, Any],
    user: User,
    channel: Channel,
    message: Message | None = None,
    locale: str = "en-US",
) -> tuple[int, str, dict[str, Any]]:
    """The one complete INTERACTION_CREATE template: returns (id, token, payload)."""
    guild = world.guild_of(channel)
    ident = world.snowflakes.next()
    token = secrets.token_urlsafe(96)
    channel_data = channel.payload()
    payload: dict[str, Any] = {
        "id": str(ident),
        "application_id": str(world.application_id),
        "token": token,
        "version": 1,
        "type": kind,
        "data": data,
        "channel": channel_data,
        "channel_id": str(channel.id),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if guild is not None:
        member = world.member(guild, user).payload()
        member["permissions"] = str(guild.permissions_of(user.id))
        channel_data["permissions"] = member["permissions"]
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            guild_locale=guild.preferred_locale,
            member=member,
            app_permissions=str(guild.permissions_of(world.bot.id)),
            authorizing_integration_owners={"0": str(guild.id)},
            context=CONTEXT_GUILD,
        )
    else:
        payload.update(
            user=user.payload(),
            app_permissions=str(ALL_PERMISSIONS & ~(1 << 3)),
            authorizing_integration_owners={"0": "0"},
            context=CONTEXT_BOT_DM,
        )
    if message is not None:
        payload["message"] = message.payload()
    return ident, token, payload


def component_data(message: Message, custom_id: str, values: list[str] | None) -> dict[str, Any]:
    """``data`` of a type 3 interaction, after checking the component can be used."""
    component = message.component(custom_id)
    kind = int(component["type"])
    assert not component.get("disabled"), f"component {custom_id!r} is disabled"
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
    if kind == 2:
        assert values is None, f"{custom_id!r} is a button: it takes no values"
        assert component.get("style") not in (5, 6), f"{custom_id!r} is a link/premium button"
        return data
    assert kind in SELECT_TYPES, f"component {custom_id!r} (type {kind}) cannot be used"
    assert kind == 3, f"{custom_id!r}: only string selects (type 3) are supported by the double"
    chosen = values or []
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    assert low <= len(chosen) <= high, f"{custom_id!r} takes {low}..{high} values"
    if kind == 3:
        offered = [o["value"] for o in component.get("options", [])]
        for value in chosen:
            assert value in offered, f"{custom_id!r}: {value!r} is not an option ({offered})"
    data["values"] = chosen
    return data


def modal_submit_data(modal: dict[str, Any], values: dict[str, str | list[str]]) -> dict[str, Any]:
    """Echo the modal's structure with the user's input, as the Discord client does."""
    inputs = modal_inputs(modal.get("components") or [])
    known = {c["custom_id"]: c for c in inputs}
    unknown = sorted(set(values) - set(known))
    assert not unknown, f"modal {modal.get('custom_id')!r} has no input {unknown} ({sorted(known)})"
    for custom_id, component in known.items():
        value = values.get(custom_id)
        if component["type"] == TEXT_INPUT:
            text = value if isinstance(value, str) else component.get("value") or ""
            required = component.get("required", True)
            assert text or not required, f"modal input {custom_id!r} is required"
            low = component.get("min_length") or 0
            high = component.get("max_length") or 4000
            assert not text or low <= len(text) <= high, (
                f"modal input {custom_id!r}: length {len(text)} is outside {low}..{high}"
            )

    def echo(component: dict[str, Any]) -> dict[str, Any]:
        kind = component["type"]
        if kind == 1:
            return {
                "type": 1,
                "id": component.get("id", 0),
                "components": [echo(c) for c in component["components"]],
            }
        if kind == 18:
            return {
                "type": 18,
                "id": component.get("id", 0),
                "component": echo(component["component"]),
            }
        result: dict[str, Any] = {"type": kind, "id": component.get("id", 0)}
        if "custom_id" in component:
            custom_id = component["custom_id"]
            value = values.get(custom_id)
            if kind == TEXT_INPUT:
                result.update(
                    custom_id=custom_id,
                    value=value if isinstance(value, str) else component.get("value") or "",
                )
            else:
                result.update(custom_id=custom_id, values=list(value or []))
        return result

    return {
        "custom_id": modal["custom_id"],
        "components": [echo(c) for c in modal.get("components") or []],
    }


def message_from_user(
    world: World,
    channel: Channel,
    user: User,
    content: str,
    *,
    attachments: list[Upload] | None = None,
) -> Message:
    """A message a test user writes (delivered as MESSAGE_CREATE)."""
    message = Message(
        id=world.snowflakes.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=user,
        content=content,
        created_at=world.clock(),
        timestamp=world.now(),
    )
    for upload in attachments or []:
        ident = world.snowflakes.next()
        url = f"{world.base_url}/attachments/{ident}/{upload.filename}"
        attachment = Attachment(ident, upload.filename, upload.data, url, upload.content_type)
        world.attachments[ident] = attachment
        message.attachments.append(attachment)
    return message
