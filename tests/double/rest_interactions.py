"""REST routes bound to an interaction token: the callback, follow-ups, the original response.

Rules mirrored from Discord:

- the first callback must arrive within ``world.interaction_deadline`` (3 s) of the
  interaction being sent, else 404 code 10062 "Unknown interaction";
- only one initial response: a second gets 400 code 40060 "Interaction has already been
  acknowledged.";
- the callback type must suit the interaction (autocomplete answers only with 8, a modal
  cannot answer a modal submit or an autocomplete, 6/7 need a message with components);
- follow-ups and ``@original`` need an accepted initial response first (10015 / 10008);
- message bodies obey the limits of :mod:`.rules`.
"""

from __future__ import annotations

from typing import Any

from .gateway import Gateway
from .messaging import announce, apply_edit, new_message
from .records import (
    EPHEMERAL,
    LOADING,
    CallbackAttempt,
    Interaction,
    InteractionResponse,
    Message,
)
from .rules import DiscordError, check_choices, check_message, check_modal, form_error, not_found
from .server import Call, Reply, RouteTable, no_content, ok
from .state import World

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
WEBHOOK = "/webhooks/{webhook_id}/{webhook_token}"
ORIGINAL = f"{WEBHOOK}/messages/@original"
WEBHOOK_MESSAGE = f"{WEBHOOK}/messages/{{message_id}}"

ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
KIND_NAMES = {2: "an application command", 3: "a component", 4: "autocomplete", 5: "a modal"}


class InteractionRoutes:
    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gateway = gateway

    def table(self) -> RouteTable:
        return {
            ("POST", CALLBACK): self.callback,
            ("POST", WEBHOOK): self.followup,
            ("GET", ORIGINAL): self.get_message,
            ("PATCH", ORIGINAL): self.edit_message,
            ("DELETE", ORIGINAL): self.delete_message,
            ("GET", WEBHOOK_MESSAGE): self.get_message,
            ("PATCH", WEBHOOK_MESSAGE): self.edit_message,
            ("DELETE", WEBHOOK_MESSAGE): self.delete_message,
        }

    # -- the initial response ----------------------------------------------------------------

    async def callback(self, call: Call) -> Reply:
        interaction_id = call.int_param("interaction_id")
        token = call.params["interaction_token"]
        interaction = next((i for i in self.world.interactions if i.id == interaction_id), None)
        if interaction is None or interaction.token != token:
            raise not_found(10062, "Unknown interaction", problem=True)
        body = call.json_object()
        attempt = CallbackAttempt(body.get("type"), body, 0, None, self.world.clock())
        interaction.attempts.append(attempt)
        try:
            call.reject_if_invalid()
            reply = self._respond(interaction, call, body)
        except DiscordError as error:
            attempt.status, attempt.error_code = error.status, error.code
            raise
        finally:
            self.world.changes.notify()
        attempt.status = reply.status
        return reply

    def _respond(self, interaction: Interaction, call: Call, body: dict[str, Any]) -> Reply:
        world = self.world
        self._check_first_response_in_time(interaction)
        kind = int(body["type"])
        source = interaction.source_message
        _check_callback_type(interaction, kind)
        data: dict[str, Any] = body.get("data") or {}
        message: Message | None = None
        if kind == 4:
            check_message(data, len(call.files), creating=True)
            message = new_message(
                world, interaction.channel, world.bot, data, call.files, interaction=interaction
            )
        elif kind == 5:
            flags = {"flags": int(data.get("flags") or 0) & EPHEMERAL}
            message = new_message(
                world, interaction.channel, world.bot, flags, [], interaction=interaction,
                extra_flags=LOADING,
            )  # fmt: skip
        elif kind in (6, 7):
            assert source is not None
            if kind == 7:
                check_message(data, len(call.files), creating=False)
                apply_edit(world, source, data, call.files)
                announce(world, self.gateway, "MESSAGE_UPDATE", source)
            interaction.original = source
        elif kind == 8:
            check_choices(data)
        elif kind == 9:
            check_modal(data)
        if message is not None:
            world.store_message(message)
            interaction.original = message
            announce(world, self.gateway, "MESSAGE_CREATE", message)
        shown = message if message is not None else (source if kind == 7 else None)
        interaction.response = InteractionResponse(kind, data, shown)
        if not call.flag("with_response"):
            return no_content()
        return ok(self._callback_answer(interaction, kind, shown))

    def _check_first_response_in_time(self, interaction: Interaction) -> None:
        """Only one initial response, and it must arrive before the deadline."""
        world = self.world
        if interaction.response is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        elapsed = world.clock() - interaction.sent_at
        if elapsed > world.interaction_deadline:
            raise DiscordError(
                404,
                10062,
                "Unknown interaction",
                detail=f"first response {elapsed:.2f} s after {interaction.describe()} "
                f"(deadline {world.interaction_deadline:g} s)",
            )

    def _callback_answer(
        self, interaction: Interaction, kind: int, shown: Message | None
    ) -> dict[str, Any]:
        """``{"interaction": {...}, "resource": {...}}`` as with ``with_response=true``."""
        summary: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "channel_id": str(interaction.channel.id),
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(shown is not None and shown.ephemeral),
        }
        if interaction.guild is not None:
            summary["guild_id"] = str(interaction.guild.id)
        if shown is not None:
            summary["response_message_id"] = str(shown.id)
        answer: dict[str, Any] = {"interaction": summary}
        if kind in (4, 7) and shown is not None:
            answer["resource"] = {"type": kind, "message": shown.payload()}
        return answer

    # -- follow-ups and the original response ------------------------------------------------

    def _interaction(self, call: Call) -> Interaction:
        interaction = self.world.interaction_by_token(call.params["webhook_token"])
        if interaction is None or call.int_param("webhook_id") != self.world.application_id:
            raise not_found(10015, "Unknown Webhook", problem=True)
        return interaction

    async def followup(self, call: Call) -> Reply:
        interaction = self._interaction(call)
        response = interaction.response
        if response is None or response.type == 8:
            raise DiscordError(
                404,
                10015,
                "Unknown Webhook",
                detail=f"follow-up to {interaction.describe()} before an initial response",
            )
        body = call.json_object()
        check_message(body, len(call.files), creating=True)
        world = self.world
        original = interaction.original
        if response.type == 5 and original is not None and original.loading:
            # The first follow-up after a deferral replaces the "thinking" message; it keeps
            # the deferral's visibility whatever flags it asks for.
            apply_edit(world, original, {k: v for k, v in body.items() if k != "flags"}, call.files)
            interaction.followups.append(original)
            announce(world, self.gateway, "MESSAGE_UPDATE", original)
            return ok(original.payload()) if call.flag("wait") else no_content()
        message = new_message(
            world, interaction.channel, world.bot, body, call.files, interaction=interaction
        )
        world.store_message(message)
        interaction.followups.append(message)
        announce(world, self.gateway, "MESSAGE_CREATE", message)
        return ok(message.payload()) if call.flag("wait") else no_content()

    def _webhook_message(self, call: Call) -> tuple[Interaction, Message]:
        interaction = self._interaction(call)
        if "message_id" in call.params:
            wanted = call.int_param("message_id")
            found = next((m for m in interaction.messages if m.id == wanted), None)
        else:
            found = interaction.original
        if found is None or found.deleted:
            raise DiscordError(
                404,
                10008,
                "Unknown Message",
                detail=f"no such response message for {interaction.describe()}",
            )
        return interaction, found

    async def get_message(self, call: Call) -> Reply:
        _, message = self._webhook_message(call)
        return ok(message.payload())

    async def edit_message(self, call: Call) -> Reply:
        interaction, message = self._webhook_message(call)
        body = call.json_object()
        check_message(body, len(call.files), creating=False)
        apply_edit(self.world, message, body, call.files)
        if message is interaction.original:
            interaction.edits.append(body)
        announce(self.world, self.gateway, "MESSAGE_UPDATE", message)
        return ok(message.payload())

    async def delete_message(self, call: Call) -> Reply:
        _, message = self._webhook_message(call)
        message.deleted = True
        self.world.changes.notify()
        announce(self.world, self.gateway, "MESSAGE_DELETE", message)
        return no_content()


def _check_callback_type(interaction: Interaction, kind: int) -> None:
    """The callback type must suit the interaction; 6/7 need a message to act on."""
    allowed = ALLOWED_CALLBACKS.get(interaction.type, set())
    if interaction.source_message is None:
        allowed = allowed - {6, 7}
    if kind not in allowed:
        raise form_error(
            "type",
            "INTERACTION_RESPONSE_TYPE_INVALID",
            f"Callback type {kind} cannot answer {KIND_NAMES.get(interaction.type, '?')}",
        )
