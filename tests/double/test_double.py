"""Tests of the Discord double itself, driven through a small plain discord.py bot.

The bot below is not the project's bot: it exists to exercise the double the way any bot
would (app commands with a subcommand and user/string/int options, a button opening a modal,
DMs, deferrals, raw HTTP), so the double's own behaviour is pinned down here.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from tests.double import (
    EPHEMERAL,
    INTENT_GUILD_MEMBERS,
    CommandUnavailable,
    DiscordDouble,
    Permission,
    User,
)

SESSION_NAMES = ["case review", "case intake", "reflection"]


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(
        label="Your feedback", custom_id="feedback-text", max_length=1000
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


class Pick(discord.ui.View):
    @discord.ui.select(
        custom_id="pick-slot",
        options=[
            discord.SelectOption(label="Monday", value="mon"),
            discord.SelectOption(label="Friday", value="fri"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Pick]) -> None:
        embed = discord.Embed(title="Slot").add_field(name="Day", value=select.values[0])
        await interaction.response.edit_message(content="Slot chosen", embed=embed, view=None)


class FeedbackButton(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Give feedback", custom_id="feedback-open")
    async def open(
        self, interaction: discord.Interaction, button: discord.ui.Button[FeedbackButton]
    ) -> None:
        await interaction.response.send_modal(Feedback())


@dataclass
class Seen:
    """What the probe bot observed, for assertions."""

    def failed(self, error: discord.HTTPException) -> None:
        self.http_errors.append(error)
        self.http_error.set()

    dms: list[discord.Message] = field(default_factory=list)
    guild_messages: list[discord.Message] = field(default_factory=list)
    guild_message: asyncio.Event = field(default_factory=asyncio.Event)
    dm_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    forbidden: list[discord.Forbidden] = field(default_factory=list)
    http_errors: list[discord.HTTPException] = field(default_factory=list)
    http_error: asyncio.Event = field(default_factory=asyncio.Event)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)


class ProbeBot(commands.Bot):
    """A plain bot with a handful of app commands covering the double's features."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.seen = Seen()
        self.slow_delay = 0.0

    async def setup_hook(self) -> None:
        registered: list[app_commands.Command[Any, Any, None] | app_commands.Group] = [
            self._session_group(),
            *self._view_commands(),
            *self._dm_and_deferral_commands(),
            *self._failing_response_commands(),
            self._managers_only_command(),
        ]
        for command in registered:
            self.tree.add_command(command)
        self.add_view(FeedbackButton())
        await self.tree.sync()

    def _session_group(self) -> app_commands.Group:
        """A group with subcommands taking user/string/int options and an autocomplete."""
        session = app_commands.Group(name="session", description="Balint sessions")

        @session.command(name="create", description="Create a session")
        async def create(
            interaction: discord.Interaction, name: str, presenter: discord.Member, size: int = 8
        ) -> None:
            await interaction.response.send_message(
                f"Created {name}: presenter {presenter.display_name}, {size} seats", ephemeral=True
            )

        @session.command(name="cancel", description="Cancel a session")
        async def cancel(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"Cancelled {name}")

        @cancel.autocomplete("name")
        async def cancel_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=n, value=n) for n in SESSION_NAMES if current in n]

        return session

    def _view_commands(self) -> list[app_commands.Command[Any, Any, None]]:
        """Replies carrying a button that opens a modal, and a select menu."""

        @app_commands.command(name="feedback", description="Ask for feedback")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Tell us", view=FeedbackButton())

        @app_commands.command(name="pick", description="Pick a slot")
        async def pick(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Which day?", view=Pick())

        return [feedback, pick]

    def _dm_and_deferral_commands(self) -> list[app_commands.Command[Any, Any, None]]:
        """A DM that may be refused, and a deferred reply with a file follow-up."""

        @app_commands.command(name="remind", description="DM a reminder")
        async def remind(
            interaction: discord.Interaction, member: discord.Member, text: str
        ) -> None:
            try:
                await member.send(text)
            except discord.Forbidden as error:
                self.seen.forbidden.append(error)
                await interaction.response.send_message("Cannot DM them", ephemeral=True)
            else:
                await interaction.response.send_message("Sent", ephemeral=True)

        @app_commands.command(name="report", description="A deferred reply")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(
                "Report ready",
                file=discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="report.csv"),
            )

        return [remind, report]

    def _failing_response_commands(self) -> list[app_commands.Command[Any, Any, None]]:
        """Responses the double refuses: too late, a second acknowledgement, too long."""

        @app_commands.command(name="slow", description="Answers late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.slow_delay)
            try:
                await interaction.response.send_message("Finally")
            except discord.HTTPException as error:
                self.seen.failed(error)

        @app_commands.command(name="twice", description="Acknowledges twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Once")
            route = Route(
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                interaction_id=interaction.id,
                interaction_token=interaction.token,
            )
            try:
                await self.http.request(route, json={"type": 4, "data": {"content": "Twice"}})
            except discord.HTTPException as error:
                self.seen.failed(error)

        @app_commands.command(name="essay", description="Too long")
        async def essay(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException as error:
                self.seen.failed(error)
                await interaction.response.send_message("Too long", ephemeral=True)

        return [slow, twice, essay]

    def _managers_only_command(self) -> app_commands.Command[Any, Any, None]:
        """A command with default member permissions."""

        @app_commands.command(name="admin", description="Managers only")
        @app_commands.default_permissions(manage_guild=True)
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Hello manager", ephemeral=True)

        return admin

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user:
            return
        if message.guild is None:
            self.seen.dms.append(message)
            self.seen.dm_arrived.set()
        else:
            self.seen.guild_messages.append(message)
            self.seen.guild_message.set()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before re-identifying; a test has no rate limit to respect."""

    async def on_resumed(self) -> None:
        self.seen.resumed.set()


@dataclass
class Scene:
    double: DiscordDouble
    bot: ProbeBot
    guild_id: int
    channel_id: int
    alice: User
    bob: User
    manager: User


@pytest.fixture
async def scene() -> AsyncIterator[Scene]:
    async with DiscordDouble() as double:
        guild = double.add_guild("Balint group")
        channel = double.add_channel(guild, "sessions")
        managers = double.add_role(guild, "Managers", permissions=Permission.MANAGE_GUILD)
        alice = double.add_user("alice")
        bob = double.add_user("bob", dms_open=False)
        manager = double.add_user("maria")
        double.add_member(guild, alice)
        double.add_member(guild, bob)
        double.add_member(guild, manager, roles=[managers])
        bot = ProbeBot()
        async with double.run_client(bot):
            yield Scene(double, bot, guild.id, channel.id, alice, bob, manager)
        double.assert_no_errors()


def channel_of(scene: Scene) -> discord.TextChannel:
    channel = scene.bot.get_channel(scene.channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_start_up_registers_commands_and_delivers_the_guild(scene: Scene) -> None:
    double = scene.double
    names = {c.name for c in double.commands()}
    assert names == {
        "session",
        "feedback",
        "pick",
        "remind",
        "report",
        "slow",
        "twice",
        "essay",
        "admin",
    }
    session = next(c for c in double.commands() if c.name == "session")
    create = next(o for o in session.options if o["name"] == "create")
    assert [o["name"] for o in create["options"]] == ["name", "presenter", "size"]
    assert all(c.id for c in double.commands())
    assert (double.identify_intents or 0) & INTENT_GUILD_MEMBERS
    guild = scene.bot.get_guild(scene.guild_id)
    assert guild is not None
    assert guild.chunked
    assert {m.name for m in guild.members} >= {"alice", "bob", "maria"}
    assert [r.route for r in double.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


async def test_slash_reply_is_recorded_with_its_ephemeral_flag(scene: Scene) -> None:
    double = scene.double
    channel = double.channels[scene.channel_id]
    interaction = await double.slash(
        "session create", scene.alice, channel=channel, name="Tuesday", presenter=scene.bob
    )
    assert interaction.response is not None
    assert interaction.response.type == 4
    assert interaction.response.ephemeral
    assert interaction.reply.content == "Created Tuesday: presenter bob, 8 seats"
    assert interaction.reply.flags & EPHEMERAL
    assert double.messages(channel)[-1] is interaction.reply


async def test_slash_fails_clearly_for_what_discord_would_not_send(scene: Scene) -> None:
    double, alice = scene.double, scene.alice
    channel = double.channels[scene.channel_id]
    with pytest.raises(AssertionError, match="no slash command /nope"):
        await double.slash("nope", alice, channel=channel)
    with pytest.raises(AssertionError, match="not a subcommand"):
        await double.slash("session delete", alice, channel=channel)
    with pytest.raises(AssertionError, match="no option"):
        await double.slash(
            "session create", alice, channel=channel, name="x", presenter=alice, room=3
        )
    with pytest.raises(AssertionError, match="required option 'presenter'"):
        await double.slash("session create", alice, channel=channel, name="x")
    with pytest.raises(AssertionError, match="expected a number"):
        await double.slash(
            "session create", alice, channel=channel, name="x", presenter=alice, size="8"
        )
    with pytest.raises(CommandUnavailable):
        await double.slash("admin", alice, channel=channel)
    allowed = await double.slash("admin", scene.manager, channel=channel)
    assert allowed.reply.content == "Hello manager"
    assert double.interactions == [allowed]


async def test_autocomplete_returns_the_bots_choices(scene: Scene) -> None:
    channel = scene.double.channels[scene.channel_id]
    choices = await scene.double.autocomplete(
        "session cancel", scene.alice, channel=channel, focused="name", name="case"
    )
    assert [c["value"] for c in choices] == ["case review", "case intake"]


async def test_button_opens_a_modal_whose_submission_is_echoed(scene: Scene) -> None:
    double = scene.double
    channel = double.channels[scene.channel_id]
    asked = await double.slash("feedback", scene.alice, channel=channel)
    assert asked.reply.custom_ids() == ["feedback-open"]
    opened = await double.click(asked.reply, "feedback-open", scene.alice)
    assert opened.response is not None
    assert opened.response.type == 9
    assert opened.response.modal["title"] == "Feedback"
    with pytest.raises(AssertionError, match="no input"):
        await double.submit_modal(opened, scene.alice, {"other": "x"})
    submitted = await double.submit_modal(opened, scene.alice, {"feedback-text": "Very helpful"})
    assert submitted.reply.content == "Thanks: Very helpful"
    assert submitted.reply.ephemeral


async def test_dm_to_a_user_with_closed_dms_is_forbidden(scene: Scene) -> None:
    double = scene.double
    channel = double.channels[scene.channel_id]
    refused = await double.slash(
        "remind", scene.alice, channel=channel, member=scene.bob, text="Hi"
    )
    assert refused.reply.content == "Cannot DM them"
    assert [e.code for e in scene.bot.seen.forbidden] == [50007]
    assert double.dms(scene.bob) == []
    sent = await double.slash("remind", scene.bob, channel=channel, member=scene.alice, text="Hi")
    assert sent.reply.content == "Sent"
    assert [m.content for m in double.dms(scene.alice)] == ["Hi"]


async def test_enforce_nonce_returns_the_earlier_message(scene: Scene) -> None:
    channel = channel_of(scene)
    first = await channel.send("Reminder: session tomorrow", nonce="reminder-42")
    again = await channel.send("Reminder: session tomorrow", nonce="reminder-42")
    other = await channel.send("Reminder: session tomorrow", nonce="reminder-43")
    assert again.id == first.id != other.id
    assert len(scene.double.messages(scene.channel_id)) == 2


async def test_message_over_2000_characters_is_rejected(scene: Scene) -> None:
    double = scene.double
    channel = double.channels[scene.channel_id]
    interaction = await double.slash("essay", scene.alice, channel=channel)
    assert [e.status for e in scene.bot.seen.http_errors] == [400]
    assert scene.bot.seen.http_errors[0].code == 50035
    assert interaction.rejected[0].error_code == 50035
    with pytest.raises(discord.HTTPException):
        await channel_of(scene).send("y" * 2001)
    problems = double.take_errors()
    assert len(problems) == 2
    assert "$.data.content: length 2001 is over the maximum of 2000" in problems[0]
    assert "Must be 2000 or fewer in length" in problems[1]


async def test_second_initial_response_gets_40060(scene: Scene) -> None:
    double = scene.double
    interaction = await double.slash(
        "twice", scene.alice, channel=double.channels[scene.channel_id]
    )
    await asyncio.wait_for(scene.bot.seen.http_error.wait(), 2)
    assert [a.status for a in interaction.attempts] == [200, 400]
    assert [e.code for e in scene.bot.seen.http_errors] == [40060]
    assert double.take_errors("40060")


async def test_a_late_first_response_is_unknown_interaction(scene: Scene) -> None:
    double = scene.double
    double.interaction_deadline = 0.05
    scene.bot.slow_delay = 0.1
    interaction = await double.slash("slow", scene.alice, channel=double.channels[scene.channel_id])
    assert interaction.response is None
    assert interaction.rejected[0].error_code == 10062
    assert [e.code for e in scene.bot.seen.http_errors] == [10062]
    assert double.take_errors("10062")


async def test_deferred_reply_waits_for_the_follow_up_with_its_file(scene: Scene) -> None:
    double = scene.double
    interaction = await double.slash(
        "report", scene.alice, channel=double.channels[scene.channel_id]
    )
    assert interaction.response is not None
    assert interaction.response.type == 5
    followup = interaction.followups[0]
    assert followup.content == "Report ready"
    assert followup.files == {"report.csv": b"a,b\n1,2\n"}
    assert interaction.reply is followup


async def test_invalid_body_is_caught_by_openapi_validation(scene: Scene) -> None:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=scene.channel_id)
    with pytest.raises(discord.HTTPException) as raised:
        await scene.bot.http.request(route, json={"content": 5, "tts": "yes"})
    assert raised.value.status == 400
    problems = scene.double.take_errors("bot sent POST")
    assert any("$.content" in p for p in problems)
    assert any("$.tts" in p for p in problems)


async def test_unknown_routes_are_404_and_recorded(scene: Scene) -> None:
    route = Route("GET", "/channels/{channel_id}/nothing-here", channel_id=scene.channel_id)
    with pytest.raises(discord.NotFound):
        await scene.bot.http.request(route)
    assert scene.double.take_errors("no such route")


async def test_answers_are_json_with_the_exact_content_type(scene: Scene) -> None:
    double = scene.double
    headers = {"Authorization": f"Bot {double.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{double.api_base}/users/@me", headers=headers) as response,
    ):
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(await response.text())["id"] == str(double.bot.id)


async def test_disconnect_makes_the_client_resume(scene: Scene) -> None:
    double = scene.double
    await double.disconnect()
    await asyncio.wait_for(scene.bot.seen.resumed.wait(), 2)
    assert double.gateway.resume_count == 1
    again = await double.slash("feedback", scene.alice, channel=double.channels[scene.channel_id])
    assert again.reply.content == "Tell us"


async def test_dm_reaches_on_message_without_a_guild(scene: Scene) -> None:
    await scene.double.dm(scene.alice, "Can I swap my presenting slot?")
    await asyncio.wait_for(scene.bot.seen.dm_arrived.wait(), 2)
    [message] = scene.bot.seen.dms
    assert message.guild is None
    assert message.content == "Can I swap my presenting slot?"
    assert message.author.id == scene.alice.id


async def test_scheduled_events_round_trip(scene: Scene) -> None:
    guild = scene.bot.get_guild(scene.guild_id)
    assert guild is not None
    start = datetime.now(UTC) + timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Balint session",
        start_time=start,
        end_time=start + timedelta(hours=2),
        entity_type=discord.EntityType.external,
        location="Room 4",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    edited = await event.edit(name="Balint session (moved)")
    assert edited.name == "Balint session (moved)"
    fetched = await guild.fetch_scheduled_events()
    assert [e.id for e in fetched] == [event.id]
    await event.delete()
    assert scene.double.guilds[scene.guild_id].scheduled_events == {}


async def test_select_updates_the_message_in_place(scene: Scene) -> None:
    double = scene.double
    asked = await double.slash("pick", scene.alice, channel=double.channels[scene.channel_id])
    message = asked.reply
    with pytest.raises(AssertionError, match="not an option"):
        await double.select(message, "pick-slot", scene.alice, ["sun"])
    chosen = await double.select(message, "pick-slot", scene.alice, ["fri"])
    assert chosen.response is not None
    assert chosen.response.type == 7
    assert chosen.reply is message
    assert message.content == "Slot chosen"
    assert message.embeds[0]["fields"] == [{"name": "Day", "value": "fri", "inline": True}]
    assert message.components == []
    assert message.history[0]["content"] == "Which day?"


async def test_guild_message_content_needs_the_intent(scene: Scene) -> None:
    double = scene.double
    channel = double.channels[scene.channel_id]
    await double.say(channel, scene.alice, "hello everyone")
    await double.say(channel, scene.alice, f"{double.bot.mention} hello bot")
    seen = scene.bot.seen
    async with asyncio.timeout(2):
        while len(seen.guild_messages) < 2:
            seen.guild_message.clear()
            await seen.guild_message.wait()
    assert [m.content for m in seen.guild_messages] == [
        "",
        f"{double.bot.mention} hello bot",
    ]


async def test_reconnect_and_invalid_session(scene: Scene) -> None:
    double = scene.double
    await double.request_reconnect()
    assert double.gateway.resume_count == 1
    await double.invalidate_session()
    assert double.gateway.identifies == 2
    again = await double.slash("feedback", scene.alice, channel=double.channels[scene.channel_id])
    assert again.reply.content == "Tell us"


# -- faults: Discord's 5xx and 429 answers, and the gateway's close codes ---------------------

MESSAGES = "/channels/{channel_id}/messages"


async def post_raw(scene: Scene, content: str) -> tuple[int, Any, Any]:
    """POST a message with plain aiohttp: (status, headers, JSON body)."""
    double = scene.double
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{double.api_base}/channels/{scene.channel_id}/messages",
            headers={"Authorization": f"Bot {double.token}"},
            json={"content": content},
        ) as response,
    ):
        return response.status, response.headers, await response.json()


def header_problems(scene: Scene, headers: Any) -> list[str]:
    """The X-RateLimit-* headers against their types in Discord's OpenAPI description."""
    declared = scene.double.openapi.document["components"]["headers"]
    problems = []
    for name, spec in declared.items():
        if name not in headers:
            continue
        kind, value = spec["schema"]["type"], headers[name]
        try:
            {"integer": int, "number": float, "string": str}[kind](value)
        except ValueError:
            problems.append(f"{name}: {value!r} is not an {kind}")
    return problems


async def test_a_rate_limited_answer_has_discords_shape_and_headers(scene: Scene) -> None:
    double = scene.double
    double.faults.add(429, route=MESSAGES, times=1, retry_after=0.25)
    status, headers, body = await post_raw(scene, "per route")
    assert status == 429
    assert double.openapi.validate_schema("RatelimitedResponse", body, "429") == []
    assert body["retry_after"] == 0.25
    assert body["global"] is False
    assert headers["Retry-After"] == "1"  # whole seconds, rounded up
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset-After"] == "0.250"
    assert headers["X-RateLimit-Scope"] == "user"
    assert len(headers["X-RateLimit-Bucket"]) == 32
    assert "X-RateLimit-Global" not in headers
    assert headers["Via"] == "1.1 google"  # without it discord.py assumes a Cloudflare ban
    assert header_problems(scene, headers) == []

    double.faults.add(429, times=1, retry_after=2, is_global=True)
    status, headers, body = await post_raw(scene, "global")
    assert status == 429
    assert double.openapi.validate_schema("RatelimitedResponse", body, "429") == []
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true"
    assert headers["X-RateLimit-Scope"] == "global"
    assert headers["Retry-After"] == "2"
    assert "X-RateLimit-Bucket" not in headers
    assert double.messages(scene.channel_id) == []  # neither was carried out
    assert double.faults.count(429) == 2
    assert double.faults.count(429, is_global=True) == 1
    assert [r.status for r in double.requests[-2:]] == [429, 429]
    assert double.errors == []  # the double's own check of its answers found nothing


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_has_the_error_shape_and_is_not_carried_out(
    scene: Scene, status: int
) -> None:
    double = scene.double
    rule = double.faults.add(status, route=MESSAGES)
    answered, headers, body = await post_raw(scene, "lost")
    assert answered == status
    assert double.openapi.validate_schema("Error", body, str(status)) == []
    assert body == {"code": 0, "message": f"{status}: {body['message'].split(': ', 1)[1]}"}
    assert headers["Via"] == "1.1 google"
    assert double.messages(scene.channel_id) == []
    rule.stop()  # Discord has recovered
    assert (await post_raw(scene, "delivered"))[0] == 200
    assert [m.content for m in double.messages(scene.channel_id)] == ["delivered"]
    assert double.faults.count(status, route=MESSAGES) == 1
    assert double.errors == []


async def test_discord_py_waits_out_rate_limits_then_sends_once(scene: Scene) -> None:
    double = scene.double
    double.faults.add(429, route=MESSAGES, times=2, retry_after=0.01)
    double.faults.add(429, route=MESSAGES, times=1, retry_after=0.01, is_global=True)
    message = await channel_of(scene).send("Session tomorrow at 19:00")
    assert [m.id for m in double.messages(scene.channel_id)] == [message.id]
    assert double.faults.count(429) == 3
    assert [r.status for r in double.requests if r.route == MESSAGES] == [429, 429, 429, 200]


async def test_a_503_reaches_the_bot_and_an_applied_one_is_collapsed_by_its_nonce(
    scene: Scene,
) -> None:
    """discord.py's HTTP client does not retry a 503: the caller sees it. When Discord had
    created the message before failing, sending again with the same nonce gives it back."""
    double = scene.double
    channel = channel_of(scene)
    double.faults.add(503, route=MESSAGES, times=1)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("Reminder", nonce="reminder-1")
    assert double.messages(scene.channel_id) == []
    double.faults.add(503, route=MESSAGES, times=1, applied=True)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("Reminder", nonce="reminder-1")
    [created] = double.messages(scene.channel_id)
    again = await channel.send("Reminder", nonce="reminder-1")
    assert again.id == created.id
    assert len(double.messages(scene.channel_id)) == 1


async def test_a_share_of_requests_is_faulted_the_same_way_for_a_seed(scene: Scene) -> None:
    double = scene.double
    patterns = []
    for _ in range(2):
        rule = double.faults.add(503, route=MESSAGES, share=0.5, seed=3)
        patterns.append([(await post_raw(scene, "x"))[0] for _ in range(12)])
        rule.stop()
    assert patterns[0] == patterns[1]
    assert 0 < patterns[0].count(503) < 12
    assert double.faults.count(503) == 2 * patterns[0].count(503)


async def test_a_resumable_invalid_session_is_resumed_with_the_missed_events(
    scene: Scene,
) -> None:
    double = scene.double
    await double.invalidate_session(resumable=True)
    assert (double.gateway.identifies, double.gateway.resume_count) == (1, 1)
    again = await double.slash("feedback", scene.alice, channel=double.channels[scene.channel_id])
    assert again.reply.content == "Tell us"


@pytest.mark.parametrize("code", [4007, 4009])
async def test_a_close_that_ends_the_session_makes_the_client_identify_anew(
    scene: Scene, code: int
) -> None:
    """Discord's 4007 (invalid seq) and 4009 (session timed out): discord.py tries to
    RESUME, is told the session is invalid, and identifies again."""
    double = scene.double
    before = double.gateway.identifies
    await double.disconnect(code, wait=False)
    await double.changes.wait_for(
        lambda: True if double.gateway.identifies > before else None,
        timeout=5,
        what="a new IDENTIFY",
    )
    assert double.gateway.resume_count == 0
    again = await double.slash("feedback", scene.alice, channel=double.channels[scene.channel_id])
    assert again.reply.content == "Tell us"
