"""Creating, editing and announcing messages, shared by channel and interaction routes."""

from __future__ import annotations

from typing import Any

from .gateway import Gateway
from .models import Channel, User
from .records import EPHEMERAL, LOADING, Attachment, Interaction, Message, UploadedFile
from .rules import DiscordError, form_error, normalize_components, normalize_embeds
from .state import World

SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
"""Flags a sender may set; Discord ignores the others (EPHEMERAL only via interactions)."""


def new_message(
    world: World,
    channel: Channel,
    author: User,
    body: dict[str, Any],
    files: list[UploadedFile],
    *,
    interaction: Interaction | None = None,
    extra_flags: int = 0,
) -> Message:
    """Build (not store) the message a create body describes."""
    flags = (int(body.get("flags") or 0) & SETTABLE_FLAGS) | extra_flags
    if interaction is not None:
        flags |= int(body.get("flags") or 0) & EPHEMERAL
    message = Message(
        id=world.snowflakes.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=body.get("content") or "",
        embeds=normalize_embeds(body.get("embeds") or []),
        components=normalize_components(body.get("components") or []),
        flags=flags,
        allowed_mentions=body.get("allowed_mentions"),
        attachments=resolve_attachments(world, body, files, existing=[]),
        nonce=body.get("nonce"),
        tts=bool(body.get("tts")),
        message_reference=None,
        created_at=world.clock(),
        timestamp=world.now(),
    )
    if interaction is not None:
        message.interaction = interaction
        message.webhook_id = world.application_id
        message.application_id = world.application_id
        message.type = 20 if interaction.type == 2 else 0
        message.interaction_metadata = interaction_metadata(interaction)
    return message


def interaction_metadata(interaction: Interaction) -> dict[str, Any]:
    """``interaction_metadata`` of a message an interaction produced."""
    data: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": interaction.user.payload(),
        "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
    }
    if interaction.type == 3 and interaction.source_message is not None:
        data["interacted_message_id"] = str(interaction.source_message.id)
    if interaction.type == 5 and interaction.opened_by is not None:
        data["triggering_interaction_metadata"] = interaction_metadata(interaction.opened_by)
    return data


def resolve_attachments(
    world: World, body: dict[str, Any], files: list[UploadedFile], existing: list[Attachment]
) -> list[Attachment]:
    """Map ``attachments`` entries to kept attachments (by id) or uploads (by file index).

    Without an ``attachments`` list, existing attachments stay and every upload is added.
    """
    uploads = {f.field: f for f in files}
    if body.get("attachments") is None:
        return existing + [_store(world, f, None) for f in files]
    kept = {a.id: a for a in existing}
    result: list[Attachment] = []
    for index, entry in enumerate(body["attachments"]):
        ident = int(entry["id"])
        if ident in kept:
            result.append(kept[ident])
            continue
        upload = uploads.pop(f"files[{ident}]", None)
        if upload is None:
            raise form_error(
                f"attachments.{index}.id",
                "ATTACHMENT_NOT_FOUND",
                f"No file part files[{ident}] and no existing attachment {ident}",
            )
        if entry.get("filename"):
            upload.filename = str(entry["filename"])
        result.append(_store(world, upload, entry.get("description")))
    if uploads:
        raise form_error(
            "attachments",
            "ATTACHMENT_NOT_REFERENCED",
            f"File parts not listed in attachments: {sorted(uploads)}",
        )
    return result


def _store(world: World, upload: UploadedFile, description: str | None) -> Attachment:
    ident = world.snowflakes.next()
    url = f"{world.base_url}/attachments/{ident}/{upload.filename}"
    attachment = Attachment(
        ident, upload.filename, upload.data, url, upload.content_type, description
    )
    world.attachments[ident] = attachment
    return attachment


def apply_edit(
    world: World, message: Message, body: dict[str, Any], files: list[UploadedFile]
) -> None:
    """Apply an edit body; an edit leaving the message empty fails like Discord (50006)."""
    snapshot = {
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "flags": message.flags,
        "attachments": [a.filename for a in message.attachments],
    }
    content, embeds, components = message.content, message.embeds, message.components
    if "content" in body:
        content = body["content"] or ""
    if "embeds" in body:
        embeds = normalize_embeds(body["embeds"] or [])
    if "components" in body:
        components = normalize_components(body["components"] or [])
    attachments = resolve_attachments(world, body, files, message.attachments)
    if not (content or embeds or components or attachments):
        raise DiscordError(400, 50006, "Cannot send an empty message", detail="edit empties it")
    message.history.append(snapshot)
    message.content, message.embeds, message.components = content, embeds, components
    message.attachments = attachments
    if body.get("flags") is not None:
        kept = message.flags & (EPHEMERAL | IS_COMPONENTS_V2)
        message.flags = kept | (int(body["flags"]) & SETTABLE_FLAGS)
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    message.flags &= ~LOADING
    message.edited_at = world.now()
    world.changes.notify()


def event_payload(world: World, message: Message) -> dict[str, Any]:
    """The MESSAGE_CREATE/UPDATE payload: the message plus ``guild_id`` and ``member``."""
    data = message.payload()
    if message.guild_id is not None:
        data["guild_id"] = str(message.guild_id)
        member = world.guilds[message.guild_id].members.get(message.author.id)
        if member is not None:
            data["member"] = member.payload(with_user=False)
    return data


def announce(world: World, gateway: Gateway, event: str, message: Message) -> None:
    """Tell connected clients (ephemeral messages are only ever seen by their user)."""
    if message.ephemeral:
        return
    intent = gateway.message_intent(message.guild_id)
    if event == "MESSAGE_DELETE":
        data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        gateway.dispatch(event, data, intent)
    else:
        gateway.dispatch(event, event_payload(world, message), intent)
