"""What the double records: messages, interactions and their responses, requests, commands.

Records are plain objects for tests to assert on. Waiting helpers wake on every change the
double records (no polling, no fixed sleeps).
"""

# The test API takes `timeout=` arguments on purpose (asked for by its users); the waits
# themselves use asyncio.wait_for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .models import Channel, Guild, User, iso, utcnow

EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15

DEFAULT_TIMEOUT = 5.0

T = TypeVar("T")


class Changes:
    """Wakes every waiter whenever the double records something."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
        """Return ``probe()`` once it is not None; AssertionError after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            event = self._event
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue


@dataclass(eq=False)
class Attachment:
    """A file attached to a message (uploaded by the bot, or offered by a test user)."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    def payload(self) -> dict[str, Any]:
        """A ``MessageAttachmentResponse``."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type is not None:
            data["content_type"] = self.content_type
        if self.description is not None:
            data["description"] = self.description
        return data


@dataclass(eq=False, repr=False)
class Message:
    """A message as stored by the double (bot messages, user messages, interaction replies)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    attachments: list[Attachment] = field(default_factory=list)
    nonce: str | int | None = None
    tts: bool = False
    message_reference: dict[str, Any] | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    interaction: Interaction | None = None
    created_at: float = 0.0
    timestamp: datetime = field(default_factory=utcnow)
    edited_at: datetime | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    """Earlier versions (content, embeds, components, flags) before each edit."""

    def __repr__(self) -> str:
        text = self.content if len(self.content) <= 40 else self.content[:39] + "…"
        return (
            f"<Message {self.id} in {self.channel_id} by {self.author.name}: {text!r}"
            f" flags={self.flags}{' deleted' if self.deleted else ''}>"
        )

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred response ("Bot is thinking...") not yet edited."""
        return bool(self.flags & LOADING)

    @property
    def files(self) -> dict[str, bytes]:
        return {a.filename: a.data for a in self.attachments}

    def custom_ids(self) -> list[str]:
        """Every component ``custom_id`` in the message, in order."""
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any]:
        for component in walk_components(self.components):
            if component.get("custom_id") == custom_id:
                return component
        raise KeyError(f"message {self.id} has no component {custom_id!r}: {self.custom_ids()}")

    def payload(self) -> dict[str, Any]:
        """A ``MessageResponse``."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": self.author.payload(),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": None if self.edited_at is None else iso(self.edited_at),
            "flags": self.flags,
            "pinned": False,
            "tts": self.tts,
        }
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All components, depth first (action rows, containers, sections, labels)."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found.extend(walk_components(component.get("components", [])))
        if isinstance(component.get("component"), dict):
            found.extend(walk_components([component["component"]]))
        if isinstance(component.get("accessory"), dict):
            found.extend(walk_components([component["accessory"]]))
    return found


@dataclass(eq=False)
class InteractionResponse:
    """The accepted initial response to an interaction (callback types 4 to 9)."""

    type: int
    data: dict[str, Any]
    message: Message | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def content(self) -> str | None:
        return None if self.message is None else self.message.content

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (type 8)."""
        assert self.type == 8, f"response type {self.type} is not an autocomplete result"
        return list(self.data.get("choices", []))

    @property
    def modal(self) -> dict[str, Any]:
        """The modal sent (type 9): ``custom_id``, ``title``, ``components``."""
        assert self.type == 9, f"response type {self.type} is not a modal"
        return self.data


@dataclass(eq=False)
class CallbackAttempt:
    """Every ``POST /interactions/{id}/{token}/callback``, accepted or rejected."""

    type: int | None
    body: Any
    status: int
    error_code: int | None
    at: float


@dataclass(eq=False, repr=False)
class Interaction:
    """An interaction the double sent to the bot, and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: User
    guild: Guild | None
    channel: Channel
    sent_at: float
    changes: Changes
    command: str | None = None
    custom_id: str | None = None
    source_message: Message | None = None
    opened_by: Interaction | None = None
    response: InteractionResponse | None = None
    attempts: list[CallbackAttempt] = field(default_factory=list)
    followups: list[Message] = field(default_factory=list)
    original: Message | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of every accepted ``PATCH .../messages/@original``."""

    def __repr__(self) -> str:
        response = None if self.response is None else self.response.type
        return f"<Interaction {self.id}: {self.describe()}, response type {response}>"

    @property
    def rejected(self) -> list[CallbackAttempt]:
        return [a for a in self.attempts if a.status >= 300]

    @property
    def messages(self) -> list[Message]:
        """What the user sees: the original response message (if any) then follow-ups."""
        shown = [self.original] if self.original is not None else []
        unique = {id(m): m for m in shown + self.followups}
        return [m for m in unique.values() if not m.deleted]

    @property
    def reply(self) -> Message:
        """The last visible message of this interaction (edited original or last follow-up)."""
        visible = [m for m in self.messages if not m.loading]
        assert visible, f"interaction {self.command or self.custom_id!r} has no visible reply"
        return visible[-1]

    async def wait_response(self, timeout: float = DEFAULT_TIMEOUT) -> InteractionResponse:
        """Wait for the accepted initial response."""
        return await self.changes.wait_for(
            lambda: self.response, timeout=timeout, what=f"the response to {self.describe()}"
        )

    async def wait_followup(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """Wait until ``count`` follow-ups exist and return the ``count``-th."""
        return await self.changes.wait_for(
            lambda: self.followups[count - 1] if len(self.followups) >= count else None,
            timeout=timeout,
            what=f"follow-up #{count} to {self.describe()}",
        )

    async def wait_edit(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """Wait until the original response was edited ``count`` times; return it."""

        def probe() -> Message | None:
            if len(self.edits) >= count and self.original is not None:
                return self.original
            return None

        return await self.changes.wait_for(
            probe, timeout=timeout, what=f"edit #{count} of the response to {self.describe()}"
        )

    async def wait_attempt(self, timeout: float = DEFAULT_TIMEOUT) -> CallbackAttempt:
        """Wait for the first callback attempt, accepted or not."""
        return await self.changes.wait_for(
            lambda: self.attempts[0] if self.attempts else None,
            timeout=timeout,
            what=f"any callback for {self.describe()}",
        )

    def describe(self) -> str:
        kind = {2: "slash command", 3: "component", 4: "autocomplete", 5: "modal submit"}
        name = self.command or self.custom_id or "?"
        return f"{kind.get(self.type, 'interaction')} {name!r} by {self.user.name}"


@dataclass(eq=False)
class UploadedFile:
    """A file part of a multipart request (``files[n]``)."""

    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass(eq=False)
class Request:
    """One REST request the bot made, and the double's answer."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    route: str | None = None
    status: int = 0
    response: Any = None


@dataclass(eq=False)
class RegisteredCommand:
    """An application command as registered by the bot (``PUT .../commands``)."""

    id: int
    application_id: int
    guild_id: int | None
    data: dict[str, Any]
    version: int

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def type(self) -> int:
        return int(self.data.get("type") or 1)

    @property
    def options(self) -> list[dict[str, Any]]:
        return list(self.data.get("options") or [])

    def payload(self) -> dict[str, Any]:
        """An ``ApplicationCommandResponse``."""
        data = {k: v for k, v in self.data.items() if v is not None}
        permissions = self.data.get("default_member_permissions")
        data.update(
            id=str(self.id),
            application_id=str(self.application_id),
            version=str(self.version),
            type=self.type,
            description=self.data.get("description") or "",
            default_member_permissions=None if permissions is None else str(permissions),
        )
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if "options" in data:
            data["options"] = [_strip_none(option) for option in data["options"]]
        return data


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value
