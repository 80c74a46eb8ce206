"""The bot side of `bench.speed`: one bot in a process of its own, against a double.

`python -m bench.speed_bots KIND API_BASE GATEWAY_URL TOKEN [--database PATH]
[--button-channel ID] [--answers PATH]` starts the project's `BalintBot` (KIND `project`) or a bare
discord.py bot (KIND `bare`) against the double at API_BASE / GATEWAY_URL, and writes one
JSON line on stdout when it is ready: seconds from constructing the bot to `on_ready`,
seconds its imports took, and the resident set size then. It then answers one JSON line
per line it reads on stdin:

- `cpu`: the process's CPU seconds so far (every thread: the bot's, and the database's
  worker thread where there is one), from `time.process_time()`;
- `rss`: the resident set size now, in KiB (`VmRSS` of `/proc/self/status`);
- `profile-start` / `profile-stop PATH`: run cProfile (timed by the process's CPU time)
  over what happens in between, and
  write its statistics to PATH;
- `clock UNIX` (the project's bot, with `--clock manual`, the default): set its clock;
- `watch-sends` / `sends`: record, then tell, when each channel message was handed to
  discord.py (`time.perf_counter()`, the same clock as the benchmark's process);
- `watch-notes` / `notes`: record, then tell, when storing each confirmed case note
  started and when it had committed;
- `burst PATH` (the bare bot): send a text to many channels at once (see `do_burst`);
- `quit`: close the bot and exit.

The bot runs alone in its process so that its CPU time is its own: the double (its HTTP
server, its gateway and its bookkeeping) runs in the benchmark's process.

The bare bot is what discord.py itself costs for the same exchanges: a
`commands.AutoShardedBot` (like the project's bot), with the project bot's intents and
allowed mentions, one slash command `/ping` answering fixed text privately, and one
button (a `DynamicItem`, as the RSVP buttons are) that edits its message with fixed text
and sends a private follow-up, which is what an RSVP does on Discord's side. The fixed
texts can be given (`--answers`, a JSON file: `slash` maps a channel id to the text
`/ping` answers there, `edit` and `followup` are the button's): the benchmark gives the
texts the project's bot answered, so that both bots send the same bytes and only the
bots' own work differs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import time
from pathlib import Path
from typing import Any

_IMPORTS_STARTED = time.perf_counter()

import discord  # noqa: E402
import discord.asset  # noqa: E402
import discord.gateway  # noqa: E402
import discord.http  # noqa: E402
import yarl  # noqa: E402
from discord import app_commands  # noqa: E402
from discord.ext import commands  # noqa: E402

START_UNIX = 1_795_424_400  # 2026-11-23 09:00 UTC: the e2e tests' Monday morning
BENCH_KEY = bytes(range(32))
BARE_BUTTON = "bare:{number}"
READY_TIMEOUT = 0.05  # seconds after the last GUILD_CREATE (the e2e tests' value)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the bare bot ------------------------------------------------------------------------


class BareButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bare:(?P<number>[0-9]+)"
):
    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(
            discord.ui.Button(label="Press", custom_id=BARE_BUTTON.format(number=number))
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> BareButton:
        return cls(int(match["number"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        answers: Answers = interaction.client.answers
        none = discord.AllowedMentions.none()
        await interaction.response.edit_message(content=answers.edit, allowed_mentions=none)
        await interaction.followup.send(answers.followup, ephemeral=True)


class Answers:
    """The bare bot's fixed texts."""

    def __init__(self, path: str | None) -> None:
        given = json.loads(Path(path).read_text()) if path else {}
        self.slash: dict[int, str] = {int(k): v for k, v in given.get("slash", {}).items()}
        self.edit: str = given.get("edit", "Pressed.")
        self.followup: str = given.get("followup", "Noted.")


class BareBot(commands.AutoShardedBot):
    def __init__(self, button_channel: int | None, answers: Answers, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.button_channel = button_channel
        self.answers = answers

    async def setup_hook(self) -> None:
        self.add_dynamic_items(BareButton)
        slash = self.answers.slash

        @app_commands.command(name="ping", description="Answers with fixed text")
        async def ping(interaction: discord.Interaction[Any]) -> None:
            text = slash.get(interaction.channel_id or 0, "Pong.")
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

        self.tree.add_command(ping)
        if self.button_channel is not None:  # the first start registers the command
            await self.tree.sync()

    async def on_ready(self) -> None:
        if self.button_channel is not None:
            view = discord.ui.View(timeout=None)
            view.add_item(BareButton(1))
            channel = self.get_partial_messageable(self.button_channel)
            await channel.send("A button.", view=view)


# -- the process -------------------------------------------------------------------------


def make_bot(arguments: argparse.Namespace) -> commands.AutoShardedBot:
    if arguments.kind == "bare":
        answers = Answers(arguments.answers)
        return BareBot(arguments.button_channel, answers, guild_ready_timeout=READY_TIMEOUT)
    from datetime import UTC, datetime

    from bot.app import BalintBot
    from bot.kernel.clock import ManualClock
    from bot.kernel.config import Settings

    settings = Settings(
        token=arguments.token, database_path=Path(arguments.database), encryption_key=BENCH_KEY
    )
    if arguments.clock == "system":
        from bot.kernel.clock import SystemClock

        return BalintBot(settings, clock=SystemClock(), guild_ready_timeout=READY_TIMEOUT)
    clock = ManualClock(datetime.fromtimestamp(START_UNIX, UTC))
    return BalintBot(settings, clock=clock, guild_ready_timeout=READY_TIMEOUT)


def point_at_double(api_base: str, gateway: str) -> None:
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    discord.asset.Asset.BASE = api_base.rsplit("/api/", 1)[0] + "/cdn"


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def serve(arguments: argparse.Namespace, imports: float) -> None:
    point_at_double(arguments.api_base, arguments.gateway)
    profiler = None
    if arguments.profile_start:  # from constructing the bot to ready, by the wall clock
        profiler = cProfile.Profile(time.perf_counter)
        profiler.enable()
    started = time.perf_counter()
    bot = make_bot(arguments)
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    bot.add_listener(on_ready, "on_ready")
    runner = asyncio.create_task(bot.start(arguments.token))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        runner.result()  # re-raises what stopped the bot
        raise SystemExit("the bot stopped before it was ready")
    took = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile_start)
    say({"ready": took, "imports": imports, "rss_kib": rss_kib()})
    try:
        await Probe(bot).answer_requests()
    finally:
        await bot.close()
        await asyncio.wait_for(runner, 10)


class Probe:
    """Answers the benchmark's requests about the bot (see the module's docstring)."""

    def __init__(self, bot: commands.AutoShardedBot) -> None:
        self.bot = bot
        self.profiler: cProfile.Profile | None = None
        self.sends: list[float] = []
        self.notes: list[tuple[float, float]] = []
        self.entered: list[float] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def answer_requests(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().strip():
            command, _, argument = line.partition(" ")
            if command == "quit":
                say({"quit": True})
                return
            answer = getattr(self, "do_" + command.replace("-", "_"), None)
            if answer is None:
                say({"error": f"unknown request {line!r}"})
                continue
            said = answer(argument)
            say(await said if asyncio.iscoroutine(said) else said)

    def do_cpu(self, _: str) -> dict[str, Any]:
        return {"cpu": time.process_time()}

    def do_rss(self, _: str) -> dict[str, Any]:
        return {"rss_kib": rss_kib()}

    def do_profile_start(self, _: str) -> dict[str, Any]:
        self.profiler = cProfile.Profile(time.process_time)
        self.profiler.enable()
        return {"profiling": True}

    def do_profile_stop(self, path: str) -> dict[str, Any]:
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(path)
            self.profiler = None
        return {"profiling": False}

    def do_clock(self, unix: str) -> dict[str, Any]:
        """Set the project bot's manual clock to `unix` (its scheduler wakes)."""
        from datetime import UTC, datetime

        self.bot.clock.set(datetime.fromtimestamp(float(unix), UTC))  # type: ignore[attr-defined]
        return {"clock": float(unix)}

    def do_watch_sends(self, _: str) -> dict[str, Any]:
        """Record when each channel message is handed to discord.py: when its `send` is
        called (`entered`), and when its HTTP client is called (`sends`: discord.py has
        built the request; before any pacing or rate limit)."""
        request = self.bot.http.request
        sends, entered = self.sends, self.entered
        send = discord.PartialMessageable.send

        async def watched(route: discord.http.Route, **options: Any) -> Any:
            if route.method == "POST" and route.path == "/channels/{channel_id}/messages":
                sends.append(time.perf_counter())
            return await request(route, **options)

        async def entering(channel: discord.PartialMessageable, *args: Any, **options: Any) -> Any:
            entered.append(time.perf_counter())
            return await send(channel, *args, **options)

        self.bot.http.request = watched  # type: ignore[method-assign]
        discord.PartialMessageable.send = entering  # type: ignore[assignment,method-assign]
        return {"watching": "sends"}

    def do_sends(self, _: str) -> dict[str, Any]:
        return {"sends": self.sends, "entered": self.entered}

    def do_watch_notes(self, _: str) -> dict[str, Any]:
        """Record when each confirmed case note's storing starts and has committed."""
        from bot.cases import service

        send_note = service.send_note
        notes = self.notes

        async def watched(*arguments: Any, **options: Any) -> Any:
            started = time.perf_counter()
            sent = await send_note(*arguments, **options)
            notes.append((started, time.perf_counter()))
            return sent

        service.send_note = watched  # type: ignore[assignment]
        return {"watching": "notes"}

    def do_notes(self, _: str) -> dict[str, Any]:
        return {"notes": self.notes}

    def do_burst(self, path: str) -> dict[str, Any]:
        """The bare bot: send the text of `path` (JSON: `channels`, `text`) to every
        channel at once, each with two buttons, as the project's channel reminders are
        sent; returns when it started."""
        given = json.loads(Path(path).read_text())
        none = discord.AllowedMentions.none()

        async def send(channel_id: int) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(BareButton(channel_id))
            view.add_item(BareButton(channel_id + 1))
            channel = self.bot.get_partial_messageable(channel_id)
            await channel.send(given["text"], view=view, allowed_mentions=none)

        started = time.perf_counter()
        self.tasks = [asyncio.create_task(send(int(c))) for c in given["channels"]]
        return {"started": started}

    async def do_burst_done(self, _: str) -> dict[str, Any]:
        """Wait for the burst's sends; how many discord.py gave up on."""
        outcomes = await asyncio.gather(*self.tasks, return_exceptions=True)
        return {"failed": sum(isinstance(outcome, Exception) for outcome in outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("project", "bare"))
    parser.add_argument("api_base")
    parser.add_argument("gateway")
    parser.add_argument("token")
    parser.add_argument("--database", default="balint.db")
    parser.add_argument("--button-channel", type=int, default=None)
    parser.add_argument("--answers", default=None)
    parser.add_argument("--clock", choices=("manual", "system"), default="manual")
    parser.add_argument("--profile-start", metavar="PATH", default=None)
    arguments = parser.parse_args()
    if arguments.kind == "project":  # its modules, so that `imports` holds them all
        import importlib

        import bot.app

        for name in bot.app.EXTENSIONS:
            importlib.import_module(name)
    imports = time.perf_counter() - _IMPORTS_STARTED
    asyncio.run(serve(arguments, imports))


if __name__ == "__main__":
    main()
