"""The bot: a `commands.AutoShardedBot` that owns the database, the scheduler and the cogs.

It always runs sharded: with one shard (Discord's recommendation below about 2,500 servers)
that costs nothing, and a bot that grows only changes ``SHARD_COUNT`` (or nothing, when it
is left to Discord's recommendation)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import time
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.capabilities import RECONCILERS
from bot.kernel.clock import Clock, SystemClock
from bot.kernel.config import Settings
from bot.kernel.crypto import Cipher, verify_key
from bot.kernel.db import Database
from bot.kernel.logs import withhold_library_payloads
from bot.kernel.pacing import Pacer
from bot.kernel.scheduler import JobScheduler
from cogs._common.messages import answer_error, defer_if_slow

log = logging.getLogger(__name__)

SCOPES = ("bot", "applications.commands")

# Discord's global limit is 50 requests a second for everything sent with the bot's token
# (interaction answers are not counted). It publishes no headers for it, and discord.py
# only waits once answered 429, so the bot keeps under it itself, with room to spare: at
# most GLOBAL_BURST unanswered at once (a stalled loop or network can deliver those
# together) and, beyond them, GLOBAL_RATE a second.
GLOBAL_RATE = 48.0
GLOBAL_BURST = 20


def required_intents() -> discord.Intents:
    """Only non-privileged intents.

    - guilds: the server, channel and role cache, and knowing when the bot leaves a server
      (its data is then deleted).
    - dm_messages: members write confidential case notes to the bot by DM; DM content
      arrives without the privileged message-content intent.
    Leaders come from each group's roster, so the privileged members intent is not needed.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.dm_messages = True
    return intents


def required_permissions() -> discord.Permissions:
    """Exactly what the bot uses in a server: see its channels, post reminders and
    announcements there, and (for groups that turn it on) show sessions in the server's
    Events. Replies to commands need no permission."""
    return discord.Permissions(view_channel=True, send_messages=True, manage_events=True)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=required_permissions(), scopes=SCOPES
    )


def pace_requests(http: discord.http.HTTPClient, pacer: Pacer) -> None:
    """Make every request of `http` (discord.py's client for the routes Discord counts:
    interaction answers and follow-ups go another way) take its turn in `pacer`, and
    hold its place there until it is answered, discord.py's retries after a 429 or a 5xx
    included. (A request that discord.py holds back for its route's own limit holds its
    place too: rare for this bot, which sends a few messages to a channel at a time.)
    Paced here rather than in aiohttp's hooks, which would cost every interaction
    answer too."""
    request = http.request

    async def paced(route: discord.http.Route, **options: Any) -> Any:
        return await pacer.run(lambda: request(route, **options))

    http.request = paced  # type: ignore[method-assign]


BUCKET_SWEEP_SECONDS = 60.0


def sweep_buckets_less_often(http: discord.http.HTTPClient) -> None:
    """discord.py keeps a rate-limit bucket per route and channel, and once it holds 256
    it looks through all of them for idle ones (unused for 5 minutes) each time it adds
    one. A burst to a thousand channels (every group's reminder at once) adds a thousand,
    so it looked through them a thousand times: most of the burst's time in discord.py
    (docs/performance.md). Looking once a minute forgets the same idle buckets."""
    sweep = getattr(http, "_try_clear_expired_ratelimits", None)
    if sweep is None:  # not this version of discord.py: nothing to change
        return
    last = float("-inf")

    def sweep_at_most_every_minute() -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= BUCKET_SWEEP_SECONDS:
            last = now
            sweep()

    http._try_clear_expired_ratelimits = sweep_at_most_every_minute  # type: ignore[method-assign]


# One extension per capability's Discord side; `cogs._common` is shared code, not one.
EXTENSIONS = (
    "cogs.attendance",
    "cogs.cases",
    "cogs.groups",
    "cogs.meta",
    "cogs.privacy",
    "cogs.reflections",
    "cogs.reminders",
    "cogs.rota",
    "cogs.sessions",
)


class BalintTree(app_commands.CommandTree["BalintBot"]):
    """The command tree: every command answers in time, and every error is answered."""

    def __init__(self, client: BalintBot, **options: Any) -> None:
        super().__init__(client, **options)
        self._timers: set[asyncio.TimerHandle] = set()
        self._deferrals: set[asyncio.Task[bool]] = set()

    async def interaction_check(self, interaction: discord.Interaction[BalintBot]) -> bool:
        """A slash command still unanswered after `DEFER_AFTER_SECONDS` is deferred, so a
        slow answer (the database busy, a queue of commands) is not lost to Discord's 3
        seconds. The deferral is private, so the answer is too (even `/group create`'s,
        public otherwise: a refusal must never become public)."""
        if interaction.type is discord.InteractionType.application_command and not (
            self.client.is_closed()
        ):
            # A timer, not a task: on the path of every command, and rarely due.
            timer = defer_if_slow(interaction, self._deferrals)
            self._timers.add(timer)
            # The command's own task (this check runs in it) ending ends the wait.
            command_task = asyncio.current_task()
            if command_task is not None:
                command_task.add_done_callback(lambda _: self._stop_timer(timer))
        return True

    def _stop_timer(self, timer: asyncio.TimerHandle) -> None:
        timer.cancel()
        self._timers.discard(timer)

    async def cancel_deferrals(self) -> None:
        for timer in list(self._timers):
            self._stop_timer(timer)
        waiting = list(self._deferrals)
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def on_error(
        self, interaction: discord.Interaction[BalintBot], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        await answer_error(interaction, error, f"/{command}")


# Names discord.py gives the tasks that run command, button, form and event handlers.
HANDLER_TASK_NAMES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-dynamic-item",
    "discord-ui-modal-dispatch",
    "discord.py: on_guild_remove",
    "discord.py: on_ready",
    "discord.py: on_message",
    "discord.py: on_interaction",
)
SHUTDOWN_GRACE_SECONDS = 10.0


class BalintBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        dm_pacer: Pacer | None = None,
        **options: Any,
    ) -> None:
        # Every request with the bot's token waits its turn here (see GLOBAL_RATE).
        self.rest_pacer = Pacer(GLOBAL_RATE, GLOBAL_BURST)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=required_intents(),
            help_command=None,
            tree_cls=BalintTree,
            # Nobody is pinged unless a message names them explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            **options,
        )
        pace_requests(self.http, self.rest_pacer)
        sweep_buckets_less_often(self.http)
        # Whatever level logging is set to, the libraries' DEBUG records never carry what
        # members wrote (a DM's case note, a leader's `/case view` answer) or who wrote it.
        withhold_library_payloads()
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.cipher = Cipher(settings.encryption_key)
        # One queue for every DM the bot sends, so bursts stay under Discord's limits.
        self.dm_pacer = dm_pacer or Pacer()
        self.started_at: datetime = self.clock.now()
        self._database: Database | None = None
        self._scheduler: JobScheduler | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            raise RuntimeError("the database is opened in setup_hook")
        return self._database

    @property
    def scheduler(self) -> JobScheduler:
        if self._scheduler is None:
            raise RuntimeError("the scheduler is created in setup_hook")
        return self._scheduler

    async def _drain_handlers(self) -> None:
        current = asyncio.current_task()
        running = [
            task
            for task in asyncio.all_tasks()
            if task is not current
            and not task.done()
            and task.get_name().startswith(HANDLER_TASK_NAMES)
        ]
        if running:
            log.info("waiting for %d handler(s) to finish before shutting down", len(running))
            await asyncio.wait(running, timeout=SHUTDOWN_GRACE_SECONDS)

    async def open_database(self) -> None:
        """Open, migrate and check the database against the key. `python -m bot` calls this
        before logging in, so a database problem is reported without contacting Discord."""
        if self._database is not None:
            return
        database = await Database.open(self.settings.database_path, reconcilers=RECONCILERS)
        try:
            await database.migrate()
            await verify_key(database, self.cipher)
            # The bot is its database's only writer while it runs (the run lock): what it
            # reads can be remembered until it writes what was read.
            await database.remember_reads()
        except BaseException:
            await database.close()
            raise
        self._database = database

    async def setup_hook(self) -> None:
        await self.open_database()
        assert self._database is not None
        self._scheduler = JobScheduler(self._database, self.clock)
        # Extensions register their job handlers, persistent views and commands here.
        # Imported as any module is (`load_extension` would run each module's code
        # afresh for every bot, a third of the start); each `setup` makes this bot's cogs.
        for name in EXTENSIONS:
            await importlib.import_module(name).setup(self)
        await self._scheduler.start()
        await self.sync_commands()
        assert self.application_id is not None
        log.info("invite the bot with: %s", invite_url(self.application_id))

    async def sync_commands(self) -> None:
        """Sync application commands (to DEV_GUILD_ID when set, which is instant), skipping
        the call when they are unchanged since the last sync, to spare Discord's limits."""
        guild = None
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        meta_key = f"commands_synced:{guild.id if guild else 'global'}"
        if await self.database.scalar("SELECT value FROM meta WHERE key = ?", (meta_key,)) == (
            digest
        ):
            log.info("application commands unchanged; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        async with self.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (meta_key, digest),
            )
        log.info("synced %d application commands %s", len(synced), meta_key.split(":")[1])

    async def close(self) -> None:
        """Stop cleanly: let the commands and buttons in progress finish (they may still be
        telling people things), stop the scheduler, then disconnect and close the database."""
        await self._drain_handlers()
        if isinstance(self.tree, BalintTree):
            await self.tree.cancel_deferrals()
        if self._scheduler is not None:
            await self._scheduler.stop()
        await super().close()
        if self._database is not None:
            await self._database.close()
            self._database = None
