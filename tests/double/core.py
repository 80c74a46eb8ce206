"""``DiscordDouble``: a local Discord (REST v10 + gateway) for the real discord.py client.

Typical fixture::

    async with DiscordDouble() as double:
        guild = double.add_guild("Balint")
        channel = double.add_channel(guild, "general")
        alice = double.add_user("alice")
        double.add_member(guild, alice)
        bot = MyBot(intents=..., guild_ready_timeout=0.05)
        async with double.run_client(bot):
            interaction = await double.slash("group create", alice, channel=channel, name="x")
            assert interaction.reply.content == "..."
        double.assert_no_errors()
"""

# The test API takes `timeout=` arguments on purpose (asked for by its users); the waits
# themselves use asyncio.wait_for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from .driver import (
    OptionBuilder,
    Upload,
    check_availability,
    command_data,
    component_data,
    interaction_payload,
    message_from_user,
    modal_submit_data,
    resolve_command,
)
from .faults import Faults
from .gateway import CLOSE_UNKNOWN_ERROR, Gateway
from .messaging import event_payload
from .models import Channel, ChannelType, Guild, User, utcnow
from .records import DEFAULT_TIMEOUT, Interaction, Message
from .rest_core import CoreRoutes
from .rest_interactions import CALLBACK, InteractionRoutes
from .server import API_PREFIX, RestApi
from .spec import load_openapi
from .state import TEST_TOKEN, Where, World

if TYPE_CHECKING:
    import discord

T = TypeVar("T")


class DiscordDouble(World):
    """Discord's REST API and gateway on 127.0.0.1, with a builder and a test driver.

    Everything the bot does is recorded (``requests``, ``messages()``, ``dms()``,
    ``interactions``, ``commands()``); every protocol problem (invalid body, broken rule,
    unknown route, drift of the double's own answers from the OpenAPI description) lands in
    ``errors``; call ``assert_no_errors()`` at the end of each test.
    """

    def __init__(
        self,
        *,
        token: str = TEST_TOKEN,
        bot_name: str = "Balint Bot",
        application_name: str = "Balint",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(
            token=token,
            bot_name=bot_name,
            application_name=application_name,
            clock=clock,
            now=now,
        )
        self.openapi = load_openapi()
        self.gateway = Gateway(self, self.openapi)
        self.announce = self._announce_event
        routes = {
            **CoreRoutes(self, self.gateway).table(),
            **InteractionRoutes(self, self.gateway).table(),
        }
        self.rest = RestApi(
            self, self.openapi, routes, self_validating=frozenset({("POST", CALLBACK)})
        )
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.gateway.url = f"ws://{host}:{port}/gateway"

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def faults(self) -> Faults:
        """Faults to inject into REST answers (5xx, 429); see ``tests.double.faults``."""
        return self.rest.faults

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py at the double (``Route.BASE``, ``DEFAULT_GATEWAY``,
        ``Asset.BASE``) and restore the previous values on exit."""
        import discord.asset
        import discord.gateway
        import discord.http
        import yarl

        route, websocket, asset = (
            discord.http.Route,
            discord.gateway.DiscordWebSocket,
            discord.asset.Asset,
        )
        saved = (route.BASE, websocket.DEFAULT_GATEWAY, asset.BASE)
        route.BASE = self.api_base
        websocket.DEFAULT_GATEWAY = yarl.URL(self.gateway.url)
        asset.BASE = f"{self.base_url}/cdn"
        try:
            yield
        finally:
            route.BASE, websocket.DEFAULT_GATEWAY, asset.BASE = saved

    @contextlib.asynccontextmanager
    async def run_client(
        self, client: discord.Client, *, timeout: float = DEFAULT_TIMEOUT
    ) -> AsyncIterator[discord.Client]:
        """Start ``client`` against the double, wait for ``on_ready``, close it on exit.

        Pass ``guild_ready_timeout=0.05`` to the client: discord.py waits that long after the
        last GUILD_CREATE before it is ready (2 s by default).
        """
        with self.patch_discord():
            identified = self.gateway.identifies
            runner = asyncio.create_task(client.start(self.token))
            try:
                await self._unless_crashed(
                    runner,
                    self.changes.wait_for(
                        lambda: True if self.gateway.identifies > identified else None,
                        timeout=timeout,
                        what="the client to IDENTIFY",
                    ),
                )
                await self._unless_crashed(
                    runner, asyncio.wait_for(client.wait_until_ready(), timeout)
                )
                yield client
            finally:
                await client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(runner, timeout)

    async def _unless_crashed(self, runner: asyncio.Task[None], waiting: Awaitable[T]) -> T:
        waiter = asyncio.ensure_future(waiting)
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            runner.result()  # re-raises what made the client stop
            raise AssertionError("the client stopped before it was ready")
        return waiter.result()

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment = self.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
        )

    def _announce_event(self, event: str, data: dict[str, Any], intent: int | None) -> None:
        self.gateway.dispatch(event, data, intent)

    # -- errors ----------------------------------------------------------------------------

    def assert_no_errors(self) -> None:
        """Fail listing every protocol problem recorded so far."""
        if self.errors:
            listing = "\n".join(f"  - {e}" for e in self.errors)
            raise AssertionError(
                f"the Discord double recorded {len(self.errors)} error(s):\n{listing}"
            )

    def take_errors(self, containing: str = "") -> list[str]:
        """Remove and return the recorded errors containing ``containing`` (for tests that
        provoke an error on purpose)."""
        taken = [e for e in self.errors if containing in e]
        self.errors[:] = [e for e in self.errors if containing not in e]
        return taken

    @property
    def identify_intents(self) -> int | None:
        """The intents the client identified with (latest IDENTIFY)."""
        return self.gateway.identify_intents

    # -- acting as users ---------------------------------------------------------------------

    def _place(self, user: User, guild: Guild | None, channel: Channel | None) -> Channel:
        if channel is not None:
            assert guild is None or channel.guild_id == guild.id, "channel is not in that guild"
        elif guild is not None:
            channel = next((c for c in guild.channels if c.type == ChannelType.GUILD_TEXT), None)
            assert channel is not None, f"guild {guild.name} has no text channel"
        else:
            channel = self.dm_channel(user, create=True)
            assert channel is not None
        where = self.guild_of(channel)
        if where is not None:
            assert user.id in where.members, f"{user.name} is not a member of {where.name}"
        return channel

    def _require_client(self) -> None:
        assert self.gateway.has_client, "no client is connected to the double"

    def _send_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: User,
        channel: Channel,
        *,
        locale: str = "en-US",
        command: str | None = None,
        source: Message | None = None,
        opened_by: Interaction | None = None,
        custom_id: str | None = None,
    ) -> Interaction:
        self._require_client()
        ident, token, payload = interaction_payload(
            self, kind=kind, data=data, user=user, channel=channel, message=source, locale=locale
        )
        where = f"INTERACTION_CREATE {kind}"
        if "member" in payload:
            self.gateway.check("GuildMemberResponse", payload["member"], f"{where} member")
        else:
            self.gateway.check("UserResponse", payload["user"], f"{where} user")
        for user_data in payload["data"].get("resolved", {}).get("users", {}).values():
            self.gateway.check("UserResponse", user_data, f"{where} resolved user")
        interaction = Interaction(
            ident,
            token,
            kind,
            payload,
            user,
            self.guild_of(channel),
            channel,
            sent_at=self.clock(),
            changes=self.changes,
            command=command,
            custom_id=custom_id,
            source_message=source,
            opened_by=opened_by,
        )
        self.interactions.append(interaction)
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def _settle(self, interaction: Interaction, timeout: float) -> Interaction:
        """Wait for the first callback; after a deferral (type 5) also for the edit of the
        original response or a follow-up."""
        await interaction.wait_attempt(timeout)
        response = interaction.response
        if response is not None and response.type == 5:
            await self.changes.wait_for(
                lambda: True if interaction.edits or interaction.followups else None,
                timeout=timeout,
                what=f"the deferred reply to {interaction.describe()}",
            )
        return interaction

    async def slash(
        self,
        command: str,
        user: User,
        /,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        options: Mapping[str, Any] | None = None,
        locale: str = "en-US",
        timeout: float = DEFAULT_TIMEOUT,
        **values: Any,
    ) -> Interaction:
        """Run ``/command [group] [sub] option:value...`` as ``user`` and wait for the reply.

        Without ``channel`` and ``guild`` the command runs in the user's DM with the bot.
        User/role/channel options take the double's objects; options named like a keyword
        here (``channel``, ``guild``, ``options``...) go in ``options={...}``.
        """
        place = self._place(user, guild, channel)
        where = self.guild_of(place)
        resolved = resolve_command(self, command, where)
        check_availability(resolved.command, user, where)
        builder = OptionBuilder(self, where, user, command)
        built = builder.build(resolved.parameters, {**(options or {}), **values})
        data = command_data(resolved, built, where, builder)
        interaction = self._send_interaction(2, data, user, place, locale=locale, command=command)
        return await self._settle(interaction, timeout)

    async def autocomplete(
        self,
        command: str,
        user: User,
        /,
        *,
        focused: str,
        guild: Guild | None = None,
        channel: Channel | None = None,
        options: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **values: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` (its partial text in ``values[focused]``); return the
        choices the bot offered (callback type 8)."""
        place = self._place(user, guild, channel)
        where = self.guild_of(place)
        resolved = resolve_command(self, command, where)
        check_availability(resolved.command, user, where)
        builder = OptionBuilder(self, where, user, command)
        built = builder.build(resolved.parameters, {**(options or {}), **values}, focused=focused)
        data = command_data(resolved, built, where, builder)
        interaction = self._send_interaction(4, data, user, place, command=command)
        await interaction.wait_attempt(timeout)
        response = interaction.response
        assert response is not None, f"autocomplete for /{command} was rejected"
        return response.choices

    def _message(self, message: Message | int) -> Message:
        if isinstance(message, Message):
            return message
        found = self.messages_by_id.get(message)
        assert found is not None, f"no message {message}"
        return found

    async def click(
        self,
        message: Message | int,
        custom_id: str,
        user: User,
        /,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Interaction:
        """Press the button ``custom_id`` on ``message`` as ``user``."""
        return await self._component(message, custom_id, user, None, timeout)

    async def select(
        self,
        message: Message | int,
        custom_id: str,
        user: User,
        values: list[str],
        /,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Interaction:
        """Choose ``values`` in the string select ``custom_id`` on ``message``."""
        return await self._component(message, custom_id, user, values, timeout)

    async def _component(
        self,
        message: Message | int,
        custom_id: str,
        user: User,
        values: list[str] | None,
        timeout: float,
    ) -> Interaction:
        target = self._message(message)
        assert not target.deleted, f"message {target.id} was deleted"
        if target.ephemeral and target.interaction is not None:
            assert target.interaction.user is user, "only its user sees an ephemeral message"
        channel = self.channels[target.channel_id]
        self._place(user, None, channel)
        data = component_data(target, custom_id, values)
        interaction = self._send_interaction(
            3, data, user, channel, source=target, custom_id=custom_id
        )
        return await self._settle(interaction, timeout)

    async def submit_modal(
        self,
        opened_by: Interaction,
        user: User,
        /,
        values: Mapping[str, str | list[str]] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Interaction:
        """Fill in and submit the modal ``opened_by`` answered with (callback type 9)."""
        response = opened_by.response
        assert response is not None, f"{opened_by.describe()} got no response"
        assert response.type == 9, f"{opened_by.describe()} did not open a modal"
        assert user is opened_by.user, "only the user who opened a modal can submit it"
        data = modal_submit_data(response.modal, dict(values or {}))
        interaction = self._send_interaction(
            5,
            data,
            user,
            opened_by.channel,
            source=opened_by.source_message,
            opened_by=opened_by,
            custom_id=data["custom_id"],
        )
        return await self._settle(interaction, timeout)

    # -- forged interactions (a modified or stale client) -----------------------------------

    async def press_forged(
        self,
        user: User,
        custom_id: str,
        /,
        *,
        channel: Channel | None = None,
        values: list[str] | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Interaction:
        """Press a component with any ``custom_id`` (a string select choosing ``values``
        when they are given), as a modified client could: nothing checks that the bot ever
        sent it. It sits on a message of the bot's made up for the purpose (stored, so an
        edit of it works) in ``channel`` (default: the user's DM with the bot), so that
        discord.py dispatches it as it would a real one. ``wait=False`` returns at once
        (the bot may ignore the interaction; nothing then answers it)."""
        place = self._place(user, None, channel)
        if values is None:
            component: dict[str, Any] = {
                "type": 2,
                "style": 1,
                "label": "?",
                "custom_id": custom_id,
            }
            data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        else:
            options = [{"label": value[:100] or "?", "value": value} for value in values] or [
                {"label": "?", "value": "?"}
            ]
            component = {"type": 3, "custom_id": custom_id, "options": options}
            data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        carrier = Message(
            id=self.snowflakes.next(),
            channel_id=place.id,
            guild_id=place.guild_id,
            author=self.bot,
            components=[{"type": 1, "id": 1, "components": [component]}],
            application_id=self.application_id,
            created_at=self.clock(),
            timestamp=self.now(),
        )
        self.store_message(carrier)
        interaction = self._send_interaction(
            3, data, user, place, source=carrier, custom_id=custom_id
        )
        return await self._settle(interaction, timeout) if wait else interaction

    async def submit_forged_form(
        self,
        user: User,
        custom_id: str,
        /,
        values: Mapping[str, str],
        *,
        channel: Channel | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Interaction:
        """Submit a form (modal) with any ``custom_id`` and text ``values`` by input custom
        id, without the bot having opened it: no check of lengths or required inputs. In
        ``channel`` (default: the user's DM with the bot); ``wait`` as for
        :meth:`press_forged`."""
        place = self._place(user, None, channel)
        rows = [
            {
                "type": 1,
                "id": index * 2 + 1,
                "components": [{"type": 4, "id": index * 2 + 2, "custom_id": key, "value": value}],
            }
            for index, (key, value) in enumerate(values.items())
        ]
        data = {"custom_id": custom_id, "components": rows}
        # Discord ties a submission to the interaction that opened the form: one that the
        # bot never saw stands in for it (the forged client's own).
        ident, token, payload = interaction_payload(self, kind=2, data={}, user=user, channel=place)
        opener = Interaction(
            ident, token, 2, payload, user, self.guild_of(place), place, self.clock(), self.changes
        )
        interaction = self._send_interaction(
            5, data, user, place, custom_id=custom_id, opened_by=opener
        )
        return await self._settle(interaction, timeout) if wait else interaction

    async def dm(
        self, user: User, content: str, /, *, attachments: list[Upload] | None = None
    ) -> Message:
        """``user`` writes to the bot in DMs (MESSAGE_CREATE without ``guild_id``)."""
        self._require_client()
        channel = self.dm_channel(user, create=True)
        assert channel is not None
        message = message_from_user(self, channel, user, content, attachments=attachments)
        self.store_message(message)
        self.gateway.dispatch(
            "MESSAGE_CREATE", event_payload(self, message), self.gateway.message_intent(None)
        )
        return message

    async def say(self, channel: Channel, user: User, content: str, /) -> Message:
        """``user`` posts in a guild channel (MESSAGE_CREATE; content needs the
        MESSAGE_CONTENT intent unless the bot is mentioned)."""
        self._require_client()
        self._place(user, None, channel)
        message = message_from_user(self, channel, user, content)
        self.store_message(message)
        self.gateway.dispatch(
            "MESSAGE_CREATE",
            event_payload(self, message),
            self.gateway.message_intent(channel.guild_id),
        )
        return message

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for_message(
        self,
        where: Where,
        predicate: Callable[[Message], bool] | None = None,
        *,
        from_bot: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Message:
        """The earliest message in ``where`` (a channel, its id, or a user's DM) matching
        ``predicate`` — already there or still to come. Only the bot's by default."""

        def probe() -> Message | None:
            for message in self.messages(where):
                if from_bot and message.author is not self.bot:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        return await self.changes.wait_for(probe, timeout=timeout, what=f"a message in {where!r}")

    # -- gateway control ---------------------------------------------------------------------

    async def disconnect(
        self,
        code: int = CLOSE_UNKNOWN_ERROR,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Drop every gateway connection (close code 4000); wait until the client RESUMEs."""
        before = self.gateway.resume_count
        closed = await self.gateway.disconnect(code)
        assert closed, "no gateway connection to close"
        if wait:
            await self._wait_resumed(before, timeout)

    async def request_reconnect(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send RECONNECT (op 7) and wait until the client has resumed."""
        before = self.gateway.resume_count
        self.gateway.request_reconnect()
        await self._wait_resumed(before, timeout)

    async def invalidate_session(
        self, *, resumable: bool = False, timeout: float = 2 * DEFAULT_TIMEOUT
    ) -> None:
        """Send INVALID_SESSION (op 9) and wait for a fresh IDENTIFY, or with
        ``resumable=True`` (``d: true``) for the client to RESUME.

        discord.py sleeps 5 s before any non-initial IDENTIFY (``before_identify_hook``);
        a test client can override that hook to skip the wait.
        """
        if resumable:
            resumed = self.gateway.resume_count
            self.gateway.invalidate_sessions(resumable=True)
            await self._wait_resumed(resumed, timeout)
            return
        before = self.gateway.identifies
        self.gateway.invalidate_sessions(resumable=False)
        await self.changes.wait_for(
            lambda: True if self.gateway.identifies > before else None,
            timeout=timeout,
            what="a new IDENTIFY",
        )

    async def _wait_resumed(self, before: int, timeout: float) -> None:
        await self.changes.wait_for(
            lambda: True if self.gateway.resume_count > before else None,
            timeout=timeout,
            what="the client to RESUME",
        )
