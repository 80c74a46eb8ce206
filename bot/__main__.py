"""`python -m bot`: run the bot until SIGINT or SIGTERM.

Every start-up problem the operator can fix (configuration, database, key, token) ends
the program with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

import aiohttp
import discord

from bot.app import BalintBot
from bot.kernel.clock import Clock
from bot.kernel.config import ConfigError, Settings, key_file_for, load_settings
from bot.kernel.crypto import KeyMismatch
from bot.kernel.db import DatabaseError
from bot.kernel.logs import RedactSecrets

log = logging.getLogger("bot")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


def fail(message: str) -> None:
    # The one line an operator reads when the bot cannot start (logging may not be set up).
    print(f"balint-bot: error: {message}", file=sys.stderr)  # noqa: T201


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # discord.py's DEBUG output contains whole payloads (DM text included), so its loggers
    # never go below INFO, whatever LOG_LEVEL says.
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))


async def serve(settings: Settings, *, clock: Clock | None = None, **options: Any) -> int:
    """Run the bot until it is closed; return the process exit status."""
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


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        fail(str(error))
        return EXIT_CONFIG
    configure_logging(settings)
    if settings.key_was_generated:
        log.warning(
            "generated a new encryption key in %s: back it up now; without it the "
            "confidential data in the database cannot be read",
            key_file_for(settings.database_path),
        )
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
