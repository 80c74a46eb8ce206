"""End-to-end fixtures: the real BalintBot, unmodified discord.py, against the double.

A `Scene` is one Discord server ("Clinic") with a home channel and people in it; the bot
runs with a `ManualClock` and its own database file, and can be stopped and started
again on the same database (restarts, outages).

Every test here is under the same guards (`_e2e_guards`, autouse), checked after the test
and its fixtures have finished (so the bot's shutdown counts too):

- nothing the bot sent could ping anyone it did not name (`mention_problems`);
- the bot (`bot.*`, `cogs.*`, its `apscheduler`) and discord.py (`discord.*`) logged no
  ERROR. A test that provokes one on purpose says which, with
  `@pytest.mark.allow_logged_errors(pattern)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import HANDLER_TASK_NAMES, BalintBot
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from bot.kernel.pacing import Pacer
from tests.double import Channel, DiscordDouble, Guild, Interaction, Message, Request, User

# A Monday morning, well before the sessions the tests plan.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST_KEY = bytes(range(32))


@dataclass
class Scene:
    double: DiscordDouble
    clock: ManualClock
    settings: Settings
    guild: Guild
    home: Channel
    other_channel: Channel
    admin: User  # the server owner: Manage Server
    leader: User
    members: list[User]
    outsider: User
    robot: User
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    bot: BalintBot | None = None

    async def start(self, **options: Any) -> BalintBot:
        assert self.bot is None, "the bot is already running"
        bot = BalintBot(self.settings, clock=self.clock, guild_ready_timeout=0.05, **options)
        await self._stack.enter_async_context(self.double.run_client(bot))
        self.bot = bot
        return bot

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None

    async def restart(self, **options: Any) -> BalintBot:
        await self.stop()
        return await self.start(**options)

    @property
    def running(self) -> BalintBot:
        assert self.bot is not None, "the bot is not running"
        return self.bot

    async def slash(self, command: str, user: User, **values: Any) -> Interaction:
        """Run a slash command in the home channel (unless `channel=` says otherwise)."""
        channel = values.pop("in_channel", self.home)
        if "channel" in values:
            options = dict(values.pop("options", {}))
            options["channel"] = values.pop("channel")
            values["options"] = options
        return await self.double.slash(command, user, guild=self.guild, channel=channel, **values)

    async def settle(self) -> None:
        """Let scheduled work due at the clock's time finish."""
        await asyncio.wait_for(self.running.scheduler.wait_idle(), 5)

    async def create_group(
        self,
        name: str = "Tuesday group",
        *,
        timezone: str = "Europe/London",
        members: list[User] | None = None,
    ) -> int:
        """A group in the home channel, led by `leader`, with `members` (default: all four)
        on its roster, set up through the commands a server manager and a leader would run."""
        created = await self.slash(
            "group create",
            self.admin,
            name=name,
            channel=self.home,
            timezone=timezone,
            leader=self.leader,
        )
        assert "Created" in reply_text(created), reply_text(created)
        for member in self.members if members is None else members:
            await self.slash("group add", self.leader, member=member)
        group_id = await self.running.database.scalar(
            "SELECT id FROM groups WHERE guild_id = ? AND name = ?", (self.guild.id, name)
        )
        assert group_id is not None
        return int(group_id)

    def home_messages(self) -> list[Message]:
        return [m for m in self.double.messages(self.home) if not m.ephemeral]


async def handlers_done() -> None:
    """Wait (bounded) until the bot has finished every command, button and form handler.

    The bot tells people by DM inside those handlers after replying, so a test waits for
    them before asserting that something was, or was not, sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while busy := {
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name().startswith(HANDLER_TASK_NAMES)
    }:
        remaining = deadline - loop.time()
        assert remaining > 0, f"the bot is still handling {busy}"
        await asyncio.wait(busy, timeout=remaining)


def instant_pacer() -> Pacer:
    """The production DM pacer on a clock that jumps instead of sleeping: DMs keep their
    order and nothing is dropped, but a test telling a dozen people takes no real time."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds
        await asyncio.sleep(0)

    return Pacer(monotonic=lambda: now[0], sleep=sleep)


def reply_text(interaction: Interaction) -> str:
    message = interaction.reply
    assert message is not None, "the bot did not reply"
    return message.content or ""


# -- the guards every end-to-end test is under -----------------------------------------------

ALLOW_LOGGED_ERRORS = "allow_logged_errors"
GUARDED_LOGGERS = ("bot", "cogs", "discord", "apscheduler")
"""The bot's loggers (`logging.getLogger(__name__)` under bot/ and cogs/, and "bot" in
bot/__main__.py), discord.py's, and APScheduler's, which runs only the bot's scheduler
(bot/kernel/scheduler.py) and logs what escapes its jobs. Their children's records reach
them."""

MASS_MENTION = re.compile(r"@(everyone|here)")
"""A mass mention that would render (the bot escapes user text: a zero-width space after @)."""

_CALLBACK = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
_MESSAGE_CALLBACKS = frozenset({4, 7})  # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE
_MESSAGE_ROUTES = frozenset(
    {
        ("POST", "/channels/{channel_id}/messages"),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
        ("POST", "/webhooks/{webhook_id}/{webhook_token}"),  # follow-up
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_LOGGED_ERRORS}(pattern, ...): the test makes the bot log an ERROR on "
        "purpose; errors whose message matches one of the regular expressions are allowed "
        "(and each pattern must match one), any other still fails the test. The mention "
        "check still applies.",
    )


def _route(request: Request) -> tuple[str, str | None]:
    route = request.route
    if route is None and request.path.endswith("/callback"):
        route = _CALLBACK[1]  # even a callback the double could not route is checked
    return request.method, route


def sent_message_bodies(double: DiscordDouble) -> list[tuple[Request, dict[str, Any]]]:
    """Every message body the bot sent, accepted or not: channel messages and DMs,
    interaction responses with a message, follow-ups and edits of any of them."""
    bodies = []
    for request in double.requests:
        route = _route(request)
        body = request.json
        if route == _CALLBACK:
            if not isinstance(body, dict) or body.get("type") not in _MESSAGE_CALLBACKS:
                continue
            body = body.get("data")
        elif route not in _MESSAGE_ROUTES:
            continue
        bodies.append((request, body if isinstance(body, dict) else {}))
    return bodies


def mention_problems(double: DiscordDouble) -> tuple[int, list[str]]:
    """Check every body `sent_message_bodies` finds: it restricts mentions
    (`allowed_mentions` is given), parses none of everyone/roles/users (users are listed
    by id), lists no role, and its content has no @everyone/@here that would render.
    Returns (bodies checked, problems)."""
    bodies = sent_message_bodies(double)
    problems = []
    for request, body in bodies:
        where = f"{request.method} {request.path}"
        allowed = body.get("allowed_mentions")
        if not isinstance(allowed, dict):
            # without allowed_mentions Discord pings whatever the content names
            problems.append(f"{where}: no allowed_mentions in {body}")
        else:
            wrong = [
                f"parse {kind!r}"
                for kind in ("everyone", "roles", "users")
                if kind in (allowed.get("parse") or [])
            ]
            if allowed.get("roles"):
                wrong.append(f"roles {allowed['roles']}")
            if wrong:
                problems.append(f"{where}: allowed_mentions {allowed} allows {', '.join(wrong)}")
        content = body.get("content") or ""
        if MASS_MENTION.search(content):
            problems.append(f"{where}: unescaped mass mention in {content!r}")
    return len(bodies), problems


def unchecked_contents(double: DiscordDouble) -> list[str]:
    """Texts the double shows as the bot's (messages and their earlier versions) that no
    checked body carried: a way of sending that `sent_message_bodies` does not know."""
    sent = {body.get("content") for _, body in sent_message_bodies(double)}
    shown = [
        content
        for message in double.messages_by_id.values()
        if message.author is double.bot
        for content in (message.content, *(old.get("content") for old in message.history))
    ]
    return [content for content in shown if content and content not in sent]


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Guards:
    doubles: list[DiscordDouble] = field(default_factory=list)
    errors: _ErrorRecords = field(default_factory=_ErrorRecords)

    def watch(self, double: DiscordDouble) -> None:
        self.doubles.append(double)


@pytest.fixture(autouse=True)
def _e2e_guards(request: pytest.FixtureRequest) -> Iterator[Guards]:
    """After every test: nothing the bot sent could ping anyone it did not name, and no
    ERROR was logged by the bot or discord.py (unless the test allows it explicitly).

    Its own handler on each guarded logger, so `caplog` settings and `caplog.clear()` in
    a test change nothing here. The `double` fixture registers itself (`watch`), and is
    torn down first, so the bot's shutdown is checked too."""
    guards = Guards()
    loggers = [logging.getLogger(name) for name in GUARDED_LOGGERS]
    for logger in loggers:
        logger.addHandler(guards.errors)
    try:
        yield guards
    finally:
        for logger in loggers:
            logger.removeHandler(guards.errors)

    problems: list[str] = []
    for double in guards.doubles:
        problems += mention_problems(double)[1]
        problems += [
            f"the guard did not see the body that sent {content!r}"
            for content in unchecked_contents(double)
        ]

    allowed = [
        re.compile(pattern)
        for marker in request.node.iter_markers(ALLOW_LOGGED_ERRORS)
        for pattern in marker.args
    ]
    if request.node.get_closest_marker(ALLOW_LOGGED_ERRORS) is not None and not allowed:
        problems.append(f"@pytest.mark.{ALLOW_LOGGED_ERRORS} needs the patterns it allows")
    messages = [(record.name, record.getMessage()) for record in guards.errors.records]
    problems += [
        f"{name} logged an error: {message}"
        for name, message in messages
        if not any(pattern.search(message) for pattern in allowed)
    ]
    problems += [
        f"no error matched {ALLOW_LOGGED_ERRORS}({pattern.pattern!r})"
        for pattern in allowed
        if not any(pattern.search(message) for _, message in messages)
    ]
    assert not problems, "\n".join(problems)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def double(clock: ManualClock, _e2e_guards: Guards) -> AsyncIterator[DiscordDouble]:
    # Discord's own "now" (scheduled events must start in the future) follows the test
    # clock, so the tests do not depend on the real date.
    async with DiscordDouble(now=clock.now) as double:
        _e2e_guards.watch(double)
        yield double
        double.assert_no_errors()


@pytest.fixture
async def scene(double: DiscordDouble, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Scene]:
    guild = double.add_guild("Clinic")
    home = double.add_channel(guild, "balint-tuesday")
    other = double.add_channel(guild, "general")
    leader = double.add_user("dr-lead")
    members = [double.add_user(name) for name in ("alice", "bob", "carol", "dave")]
    outsider = double.add_user("olga")
    robot = double.add_user("some-bot", bot=True)
    for user in (leader, *members, outsider, robot):
        double.add_member(guild, user)
    admin = next(m.user for m in guild.members.values() if m.user.id == guild.owner_id)
    settings = Settings(
        token=double.token,
        database_path=tmp_path / "balint.db",
        encryption_key=TEST_KEY,
    )
    scene = Scene(
        double=double,
        clock=clock,
        settings=settings,
        guild=guild,
        home=home,
        other_channel=other,
        admin=admin,
        leader=leader,
        members=members,
        outsider=outsider,
        robot=robot,
    )
    await scene.start()
    try:
        yield scene
    finally:
        await scene.stop()
