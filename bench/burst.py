"""A burst of channel reminders under Discord's rate limits.

REMINDERS channel reminders (1,000 by default) fall due at the same second, in as many
channels (one group in each of as many servers). The project's bot runs in its own
process (`bench.speed_bots`) against the project's test double of Discord with Discord's
rate limits turned on (`tests/double/ratelimits.py`: 50 requests a second for the bot's
token, 5 messages per 5 seconds in a channel; the double answers 429 past them). Printed:

- the burst's duration, from the due second to the double accepting the last reminder,
  next to the floor the double's limits set for that many requests (the first 50 at
  once, then 50 a second), as a ratio;
- how many requests the double answered 429 (the bot must keep under the limits itself:
  Discord publishes no headers for the global one);
- the bot's delay from the due moment to handing each reminder to discord.py: to calling
  its `send` (the bot's own part), and to discord.py calling its HTTP client with the
  request built (before any pacing): median, 99th percentile (and worst);
- the same for a bare discord.py bot handed the same messages (each with two buttons)
  all at once: what discord.py alone costs to take them. It does not pace itself, so
  Discord answers it 429, and discord.py gives up on a message after five tries.

Once on the bot's manual clock (the clock jumps to the due second, as after an outage or
in the tests) and once on the real clock (the reminders fall due a few seconds after the
bot is ready, and its timer wakes it).

Run: `.venv/bin/python -m bench.burst` (`--reminders N`, `--clock manual|system`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.speed import (
    BotProcess,
    build_servers,
    new_double,
    spawn,
    use_bytecode_cache,
)
from bench.speed_bots import START_UNIX
from tests.double import DiscordDouble

REMINDERS = 1_000
LEAD = 8  # seconds between starting the bot and the reminders falling due, real clock
DUE_MANUAL = START_UNIX + 3_600  # an hour after the manual clock starts


def seed_burst(path: Path, homes: list[tuple[int, int]], due: int) -> None:
    """One group per (server, channel), a session a day after `due`, and its channel
    reminder due at `due`."""
    start = due + 24 * 3_600
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        for number, (guild_id, channel_id) in enumerate(homes, start=1):
            raw.execute(
                "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (?, ?, ?, ?, ?, 'Europe/London', 0)",
                (number, guild_id, f"group {number}", f"group {number}", channel_id),
            )
            raw.execute(
                "INSERT INTO sessions (id, group_id, starts_at, duration_min, created_at)"
                " VALUES (?, ?, ?, 90, 0)",
                (number, number, start),
            )
            raw.execute(
                "INSERT INTO jobs (kind, key, due_at, expires_at, payload, group_id)"
                " VALUES ('reminder.channel', ?, ?, ?, ?, ?)",
                (
                    f"bench:group:{number}:session:{number}:channel",
                    due,
                    start,
                    json.dumps({"group_id": number, "presenter_id": None, "session_id": number}),
                    number,
                ),
            )


async def wait_for_messages(double: DiscordDouble, count: int, seconds: float) -> None:
    await double.changes.wait_for(
        lambda: True if len(double.messages_by_id) >= count else None,
        timeout=seconds,
        what=f"{count} reminders",
    )


async def run_burst(
    reminders: int, clock: str, folder: Path, profile: Path | None = None
) -> dict[str, float]:
    async with new_double(validate=False) as double:
        homes = build_servers(double, reminders, 2)
        template = folder / "template.db"
        if not template.exists():  # made once: migrated, key checked, commands synced
            await (await spawn("project", double, database=template)).quit()
        database = folder / f"burst-{clock}.db"
        shutil.copy(template, database)
        due = DUE_MANUAL if clock == "manual" else int(time.time()) + LEAD
        seed_burst(database, homes, due)
        limits = double.rest.rate_limits
        limits.enable()
        bot = await spawn("project", double, database=database, clock=clock)
        try:
            await bot.ask("watch-sends")
            if profile is not None:
                await bot.ask("profile-start")
            due_at = await fall_due(bot, clock, due)
            floor = limits.floor(reminders)
            if profile is not None:  # the hand-off: the first seconds of the burst
                await asyncio.sleep(max(0.0, due_at + 2 - time.perf_counter()))
                await bot.ask(f"profile-stop {profile}")
            await wait_for_messages(double, reminders, seconds=3 * floor + 60)
            last = max(message.created_at for message in double.messages_by_id.values())
            watched = await bot.ask("sends")
        finally:
            await bot.quit()
        return summary(last - due_at, floor, len(limits.refused), watched, due_at)


async def fall_due(bot: BotProcess, clock: str, due: int) -> float:
    """Let the reminders fall due; returns when they did (`time.perf_counter()`)."""
    if clock == "manual":
        due_at = time.perf_counter()
        await bot.ask(f"clock {due}")
        return due_at
    wait = due - time.time()
    if wait < 1:
        raise RuntimeError(f"the bot took too long to start: raise LEAD ({LEAD} s)")
    return time.perf_counter() + wait


async def run_bare_burst(reminders: int, folder: Path, *, limited: bool) -> dict[str, float]:
    """The same burst from a bare discord.py bot: the same number of messages with two
    buttons, one per channel, handed to discord.py all at once (no pacing of its own),
    against the same limits (`limited`) or none. What discord.py itself costs to take
    them."""
    async with new_double(validate=False) as double:
        homes = build_servers(double, reminders, 2)
        limits = double.rest.rate_limits
        if limited:
            limits.enable()
        bot = await spawn("bare", double)
        try:
            await bot.ask("watch-sends")
            burst = folder / "bare-burst.json"
            text = (
                "**group 1** meets <t:1795514400:F> (<t:1795514400:R>) for 90 minutes.\n"
                "No presenter yet.\nWill you be there? 0 attending, 0 can't make it."
            )
            burst.write_text(json.dumps({"channels": [c for _, c in homes], "text": text}))
            due_at = float((await bot.ask(f"burst {burst}"))["started"])
            failed = int((await bot.ask("burst-done"))["failed"])
            last = max(message.created_at for message in double.messages_by_id.values())
            watched = await bot.ask("sends")
        finally:
            await bot.quit()
    figures = summary(last - due_at, limits.floor(reminders), len(limits.refused), watched, due_at)
    figures["failed"] = float(failed)
    return figures


def summary(
    duration: float, floor: float, refused: int, watched: dict[str, list[float]], due_at: float
) -> dict[str, float]:
    handed = [at - due_at for at in watched["sends"]]
    entered = [at - due_at for at in watched["entered"]]
    return {
        "duration": duration,
        "floor": floor,
        "refused": float(refused),
        "median": statistics.median(handed),
        "p99": statistics.quantiles(handed, n=100, method="inclusive")[98],
        "worst": max(handed),
        "entered median": statistics.median(entered),
        "entered p99": statistics.quantiles(entered, n=100, method="inclusive")[98],
    }


def report(clock: str, figures: dict[str, float], reminders: int) -> None:
    duration, floor = figures["duration"], figures["floor"] or float("nan")
    what = f"{clock} discord.py bot" if clock.startswith("bare") else f"this bot, {clock} clock"
    print(
        f"\n{what}: {reminders:,} channel reminders due at the same second\n"
        f"  burst: {duration:.2f} s; floor the double's limits set: {floor:.2f} s; "
        f"ratio x{duration / floor:.3f}\n"
        f"  answered 429: {int(figures['refused'])}"
        + (
            f"; messages discord.py gave up on: {int(figures['failed'])}"
            if "failed" in figures
            else ""
        )
        + "\n"
        f"  due to discord.py's send called: median {figures['entered median'] * 1000:.1f} ms, "
        f"99th percentile {figures['entered p99'] * 1000:.1f} ms\n"
        f"  due to handed to discord.py's HTTP client: median {figures['median'] * 1000:.1f} ms, "
        f"99th percentile {figures['p99'] * 1000:.1f} ms, worst {figures['worst'] * 1000:.1f} ms"
    )
    sys.stdout.flush()


async def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("--reminders", type=int, default=REMINDERS)
    parser.add_argument("--clock", choices=("manual", "system", "both"), default="both")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare bot's burst")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        default=None,
        help="profile the bot's first 2 seconds of each burst (DIR/burst-CLOCK.prof)",
    )
    options = parser.parse_args(arguments)
    clocks = ("manual", "system") if options.clock == "both" else (options.clock,)
    with tempfile.TemporaryDirectory() as folder:
        use_bytecode_cache(Path(folder) / "bytecode")
        if not options.no_bare:
            for limited in (False, True):
                figures = await run_bare_burst(options.reminders, Path(folder), limited=limited)
                report("bare" if limited else "bare, no limits", figures, options.reminders)
        for clock in clocks:
            profile = None if options.profile is None else Path(options.profile)
            figures = await run_burst(
                options.reminders,
                clock,
                Path(folder),
                None if profile is None else profile / f"burst-{clock}.prof",
            )
            report(clock, figures, options.reminders)


if __name__ == "__main__":
    asyncio.run(main())
