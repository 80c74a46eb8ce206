"""Discord's own limits, which the OpenAPI description does not (fully) express.

Each check raises :class:`DiscordError` with the status, JSON error code and message Discord
answers with. ``problem=True`` (the default) means a correct bot never triggers it: the double
also records it in ``double.errors`` so that a test fails even if the bot swallows the error.
"""

from __future__ import annotations

import re
from typing import Any

from .records import IS_COMPONENTS_V2, walk_components

MAX_CONTENT = 2000
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_NONCE = 25
MAX_EMBED_TOTAL = 6000
MAX_TEXT_INPUT = 4000
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
MAX_CHOICES = 25
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
TEXT_INPUT = 4
THUMBNAIL = 11
MEDIA_GALLERY = 12
FILE = 13
SEPARATOR = 14
CONTAINER = 17


class DiscordError(Exception):
    """An error answer, shaped as Discord's ``{"code", "message", "errors"}`` body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        problem: bool = True,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.problem = problem
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def describe(self) -> str:
        text = f"HTTP {self.status} code {self.code} {self.message!r}"
        if self.detail:
            text += f": {self.detail}"
        return text


def form_error(field_path: str, error_code: str, message: str) -> DiscordError:
    """Discord's 50035 "Invalid Form Body" with the per-field ``_errors`` tree."""
    errors: dict[str, Any] = {"_errors": [{"code": error_code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return DiscordError(
        400, 50035, "Invalid Form Body", errors=errors, detail=f"{field_path}: {message}"
    )


def not_found(code: int, message: str, *, problem: bool = False) -> DiscordError:
    return DiscordError(404, code, message, problem=problem)


def check_message(body: dict[str, Any], file_count: int, *, creating: bool) -> None:
    """Mirror Discord's checks on a message create/edit body.

    - content is at most 2,000 characters (the description allows 4,000 for channel posts);
    - a new message needs content, an embed, a component, a file, a sticker or a poll
      (50006 "Cannot send an empty message");
    - at most 5 action rows of at most 5 items, a select alone in its row, unique custom_ids;
    - with the components-v2 flag, no ``content`` and no ``embeds``;
    - embeds total at most 6,000 characters;
    - a nonce is at most 25 characters;
    - ``allowed_mentions.parse`` may not contain "users"/"roles" when the list is also given.
    """
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        raise form_error(
            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    flags = int(body.get("flags") or 0)
    components = body.get("components") or []
    embeds = body.get("embeds") or []
    if creating and not (
        content or embeds or components or file_count or body.get("sticker_ids") or body.get("poll")
    ):
        raise DiscordError(
            400, 50006, "Cannot send an empty message", detail="no content, embed or file"
        )
    if flags & IS_COMPONENTS_V2:
        if content or embeds:
            raise form_error(
                "content" if content else "embeds",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using components v2",
            )
    else:
        _check_action_rows(components)
    _check_custom_ids(components)
    _check_embed_size(embeds)
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        raise form_error(
            "nonce", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_NONCE} or fewer in length."
        )
    mentions = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (mentions.get("parse") or []) and mentions.get(kind):
            raise form_error(
                f"allowed_mentions.{kind}",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def _check_action_rows(components: list[dict[str, Any]]) -> None:
    if len(components) > MAX_ACTION_ROWS:
        raise form_error(
            "components", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ACTION_ROWS} or fewer in length."
        )
    for index, row in enumerate(components):
        if row.get("type") != 1:
            raise form_error(
                f"components.{index}",
                "UNION_TYPE_CHOICES",
                "Only action rows may be top-level components without the components-v2 flag.",
            )
        children = row.get("components") or []
        if not children or len(children) > MAX_ROW_WIDTH:
            raise form_error(
                f"components.{index}.components",
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MAX_ROW_WIDTH} in length.",
            )
        if any(child.get("type") in SELECT_TYPES for child in children) and len(children) > 1:
            raise form_error(
                f"components.{index}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )


def _check_custom_ids(components: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for component in walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if custom_id in seen:
            raise form_error(
                "components",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                f"Component custom id cannot be duplicated: {custom_id!r}",
            )
        seen.add(custom_id)


def _check_embed_size(embeds: list[dict[str, Any]]) -> None:
    total = 0
    for embed in embeds:
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
        for embed_field in embed.get("fields") or []:
            total += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
    if total > MAX_EMBED_TOTAL:
        raise form_error(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


def modal_inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The interactive components of a modal (text inputs, selects), in order."""
    return [
        c
        for c in walk_components(components)
        if c.get("type") == TEXT_INPUT or c.get("type") in SELECT_TYPES
    ]


def check_modal(data: dict[str, Any]) -> None:
    """Mirror Discord's modal limits: title up to 45, 1 to 5 top-level components, one
    input per action row, text inputs with ``max_length`` up to 4,000 and ``min_length`` not
    above it, pre-filled values within bounds."""
    title = data.get("title") or ""
    if not 1 <= len(title) <= MAX_MODAL_TITLE:
        raise form_error(
            "data.title", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_MODAL_TITLE}."
        )
    components = data.get("components") or []
    if not 1 <= len(components) <= MAX_MODAL_COMPONENTS:
        raise form_error(
            "data.components",
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {MAX_MODAL_COMPONENTS} in length.",
        )
    for index, top in enumerate(components):
        if top.get("type") == 1 and len(top.get("components") or []) != 1:
            raise form_error(
                f"data.components.{index}.components",
                "BASE_TYPE_BAD_LENGTH",
                "Must be 1 in length.",
            )
    for text_input in (c for c in modal_inputs(components) if c.get("type") == TEXT_INPUT):
        custom_id = text_input.get("custom_id")
        max_length = text_input.get("max_length")
        min_length = text_input.get("min_length")
        if max_length is not None and not 1 <= max_length <= MAX_TEXT_INPUT:
            raise form_error(
                f"data.components.{custom_id}.max_length",
                "NUMBER_TYPE_MAX",
                f"int value should be less than or equal to {MAX_TEXT_INPUT}.",
            )
        if min_length is not None and min_length > (max_length or MAX_TEXT_INPUT):
            raise form_error(
                f"data.components.{custom_id}.min_length",
                "NUMBER_TYPE_MAX",
                "min_length must not exceed max_length.",
            )
        value = text_input.get("value")
        if value is not None and len(value) > (max_length or MAX_TEXT_INPUT):
            raise form_error(
                f"data.components.{custom_id}.value",
                "BASE_TYPE_MAX_LENGTH",
                "The pre-filled value is longer than max_length.",
            )


def check_choices(data: dict[str, Any]) -> None:
    """Autocomplete: at most 25 choices, names 1 to 100 characters."""
    choices = data.get("choices") or []
    if len(choices) > MAX_CHOICES:
        raise form_error(
            "data.choices", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length."
        )
    for index, choice in enumerate(choices):
        if not 1 <= len(str(choice.get("name", ""))) <= 100:
            raise form_error(
                f"data.choices.{index}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
            )


def strip_none(value: Any) -> Any:
    """Drop ``null`` members the way Discord stores objects (requests allow null, answers
    omit the key)."""
    if isinstance(value, dict):
        return {k: strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_none(v) for v in value]
    return value


def normalize_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embeds as Discord returns them: ``type`` defaults to ``rich``, fields get ``inline``."""
    result = []
    for embed in strip_none(embeds):
        embed.setdefault("type", "rich")
        for embed_field in embed.get("fields", []):
            embed_field.setdefault("inline", False)
        result.append(embed)
    return result


def normalize_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components as Discord returns them: every component gets a numeric ``id`` and
    selects get their ``min_values``/``max_values`` defaults."""
    result: list[dict[str, Any]] = strip_none(components)
    taken = {c["id"] for c in walk_components(result) if isinstance(c.get("id"), int)}
    next_id = 1
    for component in walk_components(result):
        if not isinstance(component.get("id"), int):
            while next_id in taken:
                next_id += 1
            component["id"] = next_id
            taken.add(next_id)
        if component.get("type") in SELECT_TYPES:
            component.setdefault("min_values", 1)
            component.setdefault("max_values", 1)
        if component.get("type") == 3:
            component.setdefault("options", [])
        _fill_layout_defaults(component)
    return result


def _fill_layout_defaults(component: dict[str, Any]) -> None:
    """Members Discord always returns on components-v2 layout components."""
    kind = component.get("type")
    if kind == CONTAINER:
        component.setdefault("accent_color", None)
        component.setdefault("spoiler", False)
    elif kind == SEPARATOR:
        component.setdefault("spacing", 1)
        component.setdefault("divider", True)
    elif kind in (THUMBNAIL, FILE):
        component.setdefault("spoiler", False)
        key = "media" if kind == THUMBNAIL else "file"
        if isinstance(component.get(key), dict):
            _fill_media(component[key])
        if kind == THUMBNAIL:
            component.setdefault("description", None)
        else:
            component.setdefault("name", None)
            component.setdefault("size", None)
    elif kind == MEDIA_GALLERY:
        for item in component.get("items", []):
            item.setdefault("description", None)
            item.setdefault("spoiler", False)
            if isinstance(item.get("media"), dict):
                _fill_media(item["media"])


def _fill_media(media: dict[str, Any]) -> None:
    media.setdefault("id", "0")
    media.setdefault("proxy_url", media.get("url", ""))


COMMAND_NAME = r"^[-_'\w]{1,32}$"


def check_commands(commands: list[dict[str, Any]]) -> None:
    """Mirror Discord's checks on bulk-registered commands: unique (name, type), lowercase
    names, chat-input descriptions of 1 to 100 characters, at most 25 options (and choices),
    required options before optional ones, subcommands not mixed with plain options."""
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        kind = int(command.get("type") or 1)
        name = str(command.get("name", ""))
        key = (name, kind)
        if key in seen:
            raise form_error(
                f"{index}.name",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {name!r}",
            )
        seen.add(key)
        if kind == 1:
            if not re.match(COMMAND_NAME, name) or name != name.lower():
                raise form_error(
                    f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}"
                )
            _check_options(f"{index}", command)


def _check_options(where: str, parent: dict[str, Any]) -> None:
    description = parent.get("description") or ""
    if not 1 <= len(description) <= 100:
        raise form_error(
            f"{where}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    options = parent.get("options") or []
    if len(options) > MAX_CHOICES:
        raise form_error(
            f"{where}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
        )
    kinds = {int(o["type"]) in (1, 2) for o in options}
    if len(kinds) > 1:
        raise form_error(
            f"{where}.options",
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all others",
        )
    optional_seen = False
    for index, option in enumerate(options):
        name = str(option.get("name", ""))
        if not re.match(COMMAND_NAME, name) or name != name.lower():
            raise form_error(
                f"{where}.options.{index}.name",
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Invalid {name!r}",
            )
        if int(option["type"]) in (1, 2):
            _check_options(f"{where}.options.{index}", option)
            continue
        if option.get("required"):
            if optional_seen:
                raise form_error(
                    f"{where}.options.{index}.required",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if len(option.get("choices") or []) > MAX_CHOICES:
            raise form_error(
                f"{where}.options.{index}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer."
            )
        description = option.get("description") or ""
        if not 1 <= len(description) <= 100:
            raise form_error(
                f"{where}.options.{index}.description",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
