"""`python -m bot`: run the bot until SIGINT or SIGTERM, or one of the tools for the person
who hosts it (`check`, `backup`, `rotate-key`, `status`; their work is in `bot/ops/`).

Every problem the operator can fix (configuration, database, key, token) ends the program
with one line on stderr ("balint-bot: error: ...") and a non-zero exit status, never a
traceback.

discord.py (and the bot with its cogs) is imported only by the commands that talk to
Discord (`run`, `check`): `status`, `backup` and `rotate-key` start in well under a second,
which a cron job running `status` every few minutes appreciates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.kernel.clock import Clock, SystemClock
from bot.kernel.config import ConfigError, Settings, key_file_for, load_settings
from bot.kernel.crypto import KeyMismatch
from bot.kernel.db import DatabaseError
from bot.kernel.logs import AddContext, JsonLines, RedactSecrets
from bot.ops import OpsError, backup, check, rotate, status
from bot.ops.lock import RunLock

if TYPE_CHECKING:
    import discord.http

log = logging.getLogger("bot")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
PROBE_TIMEOUT_SECONDS = 15.0
"""How long `check` waits for Discord's answers before calling it unreachable."""


def fail(message: str) -> None:
    # The one line an operator reads when the bot cannot start (logging may not be set up).
    print(f"balint-bot: error: {message}", file=sys.stderr)  # noqa: T201


def say(lines: Iterable[str]) -> None:
    """What a tool reports, on stdout."""
    for line in lines:
        print(line)  # noqa: T201


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.token))
    handler.addFilter(AddContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # discord.py's DEBUG output contains whole payloads (DM text included), so its loggers
    # never go below INFO, whatever LOG_LEVEL says.
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))


async def serve(settings: Settings, *, clock: Clock | None = None, **options: Any) -> int:
    """Run the bot until it is closed; return the process exit status. The database's
    lock is held throughout: a second bot on it, or a key rotation, is refused."""
    lock = RunLock(settings.database_path)
    try:
        lock.acquire()
    except OpsError as error:
        fail(str(error))
        return EXIT_CONFIG
    try:
        return await _serve_locked(settings, clock=clock, **options)
    finally:
        lock.release()


async def _serve_locked(settings: Settings, *, clock: Clock | None, **options: Any) -> int:
    import aiohttp
    import discord

    from bot.app import BalintBot

    bot = BalintBot(settings, clock=clock, **options)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def request_shutdown(signame: str) -> None:
        log.info("received %s; shutting down", signame)
        if not closing:
            closing.append(loop.create_task(bot.close()))

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_shutdown, signum.name)
    try:
        async with bot:
            await bot.open_database()
            await bot.start(settings.token)
    except discord.LoginFailure:
        fail("Discord rejected DISCORD_TOKEN (401); copy the token again from the Bot page")
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        fail("Discord refused the gateway intents; this bot needs no privileged intents")
        return EXIT_CONFIG
    except (ConfigError, DatabaseError, KeyMismatch) as error:
        fail(str(error))
        return EXIT_CONFIG
    except (discord.Forbidden, discord.NotFound) as error:
        # At start-up the only server-specific call is syncing commands to DEV_GUILD_ID.
        fail(
            f"Discord refused a start-up request (HTTP {error.status}); if DEV_GUILD_ID is "
            "set, check that it is the id of a server the bot is in"
        )
        return EXIT_CONFIG
    except discord.HTTPException as error:
        fail(f"Discord refused a start-up request (HTTP {error.status}); try again later")
        return EXIT_FAILURE
    except (aiohttp.ClientError, OSError) as error:
        fail(f"cannot reach Discord: {type(error).__name__}")
        return EXIT_FAILURE
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)
    log.info("stopped cleanly")
    return EXIT_OK


async def probe_discord(token: str, dev_guild_id: int | None) -> check.DiscordIdentity:
    """Ask Discord over REST who the token is (the two calls the bot's login makes) and,
    with DEV_GUILD_ID, whether the bot is in that server; no gateway connection."""
    import aiohttp
    import discord

    from bot.app import invite_url

    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            user = await http.static_login(token)
            application = await http.application_info()
            guild_name = None
            if dev_guild_id is not None:
                guild_name = await _dev_guild_name(http, dev_guild_id)
    except discord.LoginFailure:
        raise check.ProbeFailed(
            "Discord rejected DISCORD_TOKEN (401): copy the token again from the Bot page",
            transient=False,
        ) from None
    except discord.HTTPException as error:
        raise check.ProbeFailed(
            f"Discord answered HTTP {error.status}; try again later", transient=True
        ) from None
    except TimeoutError:
        raise check.ProbeFailed(
            f"no answer from Discord within {PROBE_TIMEOUT_SECONDS:g} seconds", transient=True
        ) from None
    except (aiohttp.ClientError, OSError) as error:
        raise check.ProbeFailed(
            f"cannot reach Discord: {type(error).__name__}", transient=True
        ) from None
    finally:
        await http.close()
    application_id = int(application["id"])
    return check.DiscordIdentity(
        bot_name=user["username"],
        application_id=application_id,
        invite_url=invite_url(application_id),
        dev_guild_name=guild_name,
    )


async def _dev_guild_name(http: discord.http.HTTPClient, guild_id: int) -> str:
    import discord

    try:
        guild = await http.get_guild(guild_id, with_counts=False)
    except (discord.Forbidden, discord.NotFound):
        raise check.ProbeFailed(
            f"the bot is not in the server DEV_GUILD_ID={guild_id}: invite it there, or "
            "correct DEV_GUILD_ID",
            transient=False,
        ) from None
    return guild["name"]


# -- the commands -------------------------------------------------------------------------


async def run_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings)
    if settings.key_was_generated:
        log.warning(
            "generated a new encryption key in %s: back it up now; without it the "
            "confidential data in the database cannot be read",
            key_file_for(settings.database_path),
        )
    return await serve(settings)


async def check_command(args: argparse.Namespace) -> int:
    settings = load_settings(create_key=False)
    report = await check.run_check(settings, probe_discord)
    say(check.render(report))
    if not report.problems:
        return EXIT_OK
    fail(f"the bot would not start: {len(report.problems)} problem(s), listed above")
    return EXIT_FAILURE if report.only_transient_problems else EXIT_CONFIG


def _key_location(settings: Settings) -> str:
    if settings.key_source == "environment":
        return "ENCRYPTION_KEY in the bot's environment"
    return f"the key file {key_file_for(settings.database_path)}"


async def backup_command(args: argparse.Namespace) -> int:
    settings = load_settings(create_key=False, require_token=False)
    done = backup.back_up(
        settings.database_path, args.path, now=SystemClock().now(), overwrite=args.overwrite
    )
    say(backup.report(done, _key_location(settings)))
    return EXIT_OK


async def rotate_command(args: argparse.Namespace) -> int:
    settings = load_settings(create_key=False, require_token=False)
    rotated = await rotate.rotate_key(settings, SystemClock().now())
    say(rotate.report(rotated))
    return EXIT_OK


async def status_command(args: argparse.Namespace) -> int:
    settings = load_settings(create_key=False, require_token=False)
    found = status.read_status(
        settings.database_path,
        SystemClock().now(),
        days=args.days,
        overdue_minutes=args.overdue_minutes,
        failed_hours=args.failed_hours,
    )
    if args.json:
        say([json.dumps(status.as_json(found), ensure_ascii=False)])
    else:
        say(status.render(found, args.days))
    return EXIT_FAILURE if found.problems else EXIT_OK


Command = Callable[[argparse.Namespace], Awaitable[int]]


class _Parser(argparse.ArgumentParser):
    """Mistakes on the command line are one line too, like every other error."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see: python -m bot --help)")
        sys.exit(EXIT_CONFIG)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bot",
        description="Runs the Balint groups bot, or one of the tools for the person who "
        "hosts it. Every command reads the same settings as the bot: the environment, "
        "and a .env file in the current folder.",
        epilog="Run `python -m bot COMMAND --help` for what a command does. Each ends with "
        "exit status 0 when all went well; a problem is explained in one line.",
    )
    parser.set_defaults(command=run_command)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser(
        "run",
        help="run the bot (what `python -m bot` does without a command)",
        description="Runs the bot until it is stopped (Ctrl-C, or SIGTERM from systemd).",
    ).set_defaults(command=run_command)

    commands.add_parser(
        "check",
        help="check that the bot would start, without starting it",
        description="Checks the settings, the database, the encryption key and the Discord "
        "token, and prints what it found and the bot's invite link. It changes nothing: "
        "it creates no database and no key file, migrates nothing, and only asks Discord "
        "who the token belongs to. Exit status: 0 the bot would start; 2 something needs "
        "fixing; 1 Discord could not be reached (try again later).",
    ).set_defaults(command=check_command)

    backing_up = commands.add_parser(
        "backup",
        help="make a safe copy of the database (also while the bot runs)",
        description="Copies the database to PATH with SQLite's backup function, which is "
        "safe while the bot is running, then opens the copy to check it. The encryption "
        "key is not in the copy: keep a copy of the key too, somewhere else.",
    )
    backing_up.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="the file to write; or a folder, to get a file named with the date and time",
    )
    backing_up.add_argument(
        "--overwrite", action="store_true", help="replace PATH if it already exists"
    )
    backing_up.set_defaults(command=backup_command)

    commands.add_parser(
        "rotate-key",
        help="re-encrypt the stored case notes and reflections under a new key",
        description="Makes a new encryption key and re-encrypts every stored case note "
        "and reflection with it, all at once. Stop the bot first: this refuses to run "
        "while the bot is running. The new key goes into the key file beside the "
        "database (the old one is kept beside it, for older backups); if the key comes "
        "from ENCRYPTION_KEY, the new key is printed for you to put there.",
    ).set_defaults(command=rotate_command)

    showing = commands.add_parser(
        "status",
        help="what the bot has planned and done, from the database",
        description="Shows the groups, the coming sessions, the bot's scheduled jobs "
        "(pending, overdue, failed) and the last reminder sent, read from the database "
        "only (it does not contact Discord, and works while the bot runs). Exit status: 0 "
        "all well; 1 something needs attention (a job overdue, or failed for good "
        "recently), handy for a cron job; 2 the database cannot be read.",
    )
    showing.add_argument("--json", action="store_true", help="print one JSON object instead")
    showing.add_argument(
        "--days", type=_positive, default=14, help="how far ahead to list sessions (14)"
    )
    showing.add_argument(
        "--overdue-minutes",
        type=_positive,
        default=15,
        help="a job later than this many minutes needs attention (15)",
    )
    showing.add_argument(
        "--failed-hours",
        type=_positive,
        default=24,
        help="a job that failed for good within this many hours needs attention (24)",
    )
    showing.set_defaults(command=status_command)
    return parser


async def dispatch(args: argparse.Namespace) -> int:
    command: Command = args.command
    try:
        return await command(args)
    except (ConfigError, OpsError) as error:
        fail(str(error))
        return EXIT_CONFIG


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(dispatch(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
