"""Configuration: environment variables (and `.env`) into one typed, validated object.

Every problem is reported as a `ConfigError` whose message is one line a non-programmer
can act on; `bot.__main__` prints it and exits with status 2.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# text: one readable line a record (the default); json: one JSON object a line, for tools.
LOG_FORMATS = ("text", "json")
# A bot token is three base64url parts separated by dots: user id, timestamp, HMAC.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{17,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
KEY_BYTES = 32  # AES-256-GCM
# Discord requires sharding from 2,500 servers; each shard serves at most that many.
MAX_SHARD_COUNT = 1024


SETTINGS_VARIABLES = (
    "DISCORD_TOKEN",
    "DATABASE_PATH",
    "ENCRYPTION_KEY",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SHARD_COUNT",
)
"""Every environment variable `load_settings` reads (config.example.env documents each)."""


class ConfigError(Exception):
    """A configuration problem, explained in one line."""


KeySource = Literal["environment", "file", "generated", "missing"]
"""Where the encryption key came from: ENCRYPTION_KEY, the key file beside the database,
a key file generated just now, or nowhere (only when asked not to generate one)."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    database_path: Path
    encryption_key: bytes = field(repr=False)
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    key_was_generated: bool = False
    shard_count: int | None = None
    """How many gateway shards to run; None asks Discord for its recommendation."""
    log_format: str = "text"
    key_source: KeySource = "environment"


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """Parse ENCRYPTION_KEY: 32 random bytes, URL-safe base64 (44 characters)."""
    try:
        key = base64.b64decode(text.strip().encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(
            "ENCRYPTION_KEY is not valid URL-safe base64; "
            "remove it to have a new one generated, or restore the backed-up key"
        ) from None
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"ENCRYPTION_KEY must decode to {KEY_BYTES} bytes, not {len(key)}; "
            "remove it to have a new one generated, or restore the backed-up key"
        )
    return key


def key_file_for(database_path: Path) -> Path:
    """Where a generated key is kept when ENCRYPTION_KEY is not set: beside the database."""
    return database_path.with_name(database_path.name + ".key")


def _check_database_path(path: Path) -> None:
    if path.exists():
        if path.is_dir():
            raise ConfigError(f"DATABASE_PATH {path} is a directory, not a file")
        if not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(f"DATABASE_PATH {path} cannot be read and written by this user")
        return
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        raise ConfigError(f"DATABASE_PATH {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"DATABASE_PATH {path}: the folder {parent} is not writable")


def _load_key(
    env: Mapping[str, str], database_path: Path, *, create: bool
) -> tuple[bytes, KeySource]:
    """The key from ENCRYPTION_KEY, else from the key file; without either, a new key file
    (or, when `create` is false, no key at all: `b""`, source "missing")."""
    text = env.get("ENCRYPTION_KEY", "").strip()
    if text:
        return decode_key(text), "environment"
    key_file = key_file_for(database_path)
    if key_file.exists():
        try:
            return decode_key(key_file.read_text(encoding="ascii")), "file"
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"the key file {key_file} cannot be read") from None
    if not create:
        return b"", "missing"
    key = secrets.token_bytes(KEY_BYTES)
    try:
        write_key_file(key_file, key)
    except OSError as error:
        raise ConfigError(f"cannot write a new key file {key_file}: {error.strerror}") from None
    return key, "generated"


def write_key_file(path: Path, key: bytes) -> None:
    """Write `key` to a new file readable by this user only; refuse to replace one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    create_key: bool = True,
    require_token: bool = True,
) -> Settings:
    """Read and validate the configuration; raise `ConfigError` with one line on a problem.

    With `env` omitted, `.env` in the working directory is loaded first (real environment
    variables win over it). The operator's tools read it without side effects:
    `create_key=False` never writes a key file (a missing key is reported as such), and
    `require_token=False` is for the tools that do not talk to Discord.
    """
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ

    token = env.get("DISCORD_TOKEN", "").strip()
    if not token and require_token:
        raise ConfigError(
            "DISCORD_TOKEN is not set; copy config.example.env to .env and fill it in"
        )
    if token and not _TOKEN_SHAPE.match(token):
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token (three parts separated by dots); "
            "copy it again from the Developer Portal, Bot page"
        )

    database_path = Path(env.get("DATABASE_PATH", "").strip() or "balint.db")
    _check_database_path(database_path)

    dev_guild_text = env.get("DEV_GUILD_ID", "").strip()
    dev_guild_id: int | None = None
    if dev_guild_text:
        if not dev_guild_text.isdigit():
            raise ConfigError(
                f"DEV_GUILD_ID must be a server id (digits only), not {dev_guild_text!r}"
            )
        dev_guild_id = int(dev_guild_text)

    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

    log_format = (env.get("LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text (the default) or json, not {log_format!r}")

    shard_count = _shard_count(env.get("SHARD_COUNT", ""))
    key, key_source = _load_key(env, database_path, create=create_key)
    return Settings(
        token=token,
        database_path=database_path,
        encryption_key=key,
        dev_guild_id=dev_guild_id,
        log_level=log_level,
        key_was_generated=key_source == "generated",
        shard_count=shard_count,
        log_format=log_format,
        key_source=key_source,
    )


def _shard_count(text: str) -> int | None:
    """SHARD_COUNT: empty or ``auto`` for Discord's recommendation, else 1 to 1024."""
    text = text.strip().lower()
    if text in ("", "auto"):
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_SHARD_COUNT:
        raise ConfigError(
            f"SHARD_COUNT must be auto (Discord's recommendation) or a whole number from 1 "
            f"to {MAX_SHARD_COUNT}, not {text!r}"
        )
    return int(text)
