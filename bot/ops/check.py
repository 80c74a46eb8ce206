"""`python -m bot check`: would the bot start? Configuration, database, key and token,
checked without changing anything: the database is only read (not created, not
migrated), no key file is generated, and Discord is asked over REST only (who the token
belongs to), never through the gateway.

Discord is reached through a `TokenProbe` that the entry point provides (discord.py's own
HTTP client, the one the bot logs in with): nothing under `bot/` but the entry point and
`bot/app.py` imports discord.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.kernel.config import Settings, key_file_for
from bot.ops import OpsError, printable
from bot.ops.readonly import (
    has_table,
    judge_key,
    latest_schema,
    open_read_only,
    schema_version,
    stored_key_check,
)
from bot.ops.rotate import new_key_file_for

State = Literal["ok", "note", "problem"]


@dataclass(frozen=True)
class Finding:
    topic: str
    state: State
    text: str
    transient: bool = False
    """A problem that may go away by itself (Discord unreachable): try again later."""


@dataclass(frozen=True)
class DiscordIdentity:
    """Who the token belongs to, as Discord said."""

    bot_name: str
    application_id: int
    invite_url: str
    dev_guild_name: str | None = None


class ProbeFailed(Exception):
    """Discord refused the token or could not be reached; the message is one line."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


TokenProbe = Callable[[str, int | None], Awaitable[DiscordIdentity]]
"""Ask Discord (REST) who `token` is, and whether the bot is in the server `dev_guild_id`;
raise `ProbeFailed`."""


@dataclass(frozen=True)
class CheckReport:
    findings: list[Finding]
    invite_url: str | None

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.state == "problem"]

    @property
    def only_transient_problems(self) -> bool:
        return all(finding.transient for finding in self.problems)


async def run_check(settings: Settings, probe: TokenProbe) -> CheckReport:
    """Every finding, problems included: one problem does not hide the others."""
    findings = [_configuration(settings)]
    findings += check_database_and_key(settings)
    discord, identity = await _discord(settings, probe)
    findings.append(discord)
    return CheckReport(findings, identity.invite_url if identity else None)


def _configuration(settings: Settings) -> Finding:
    shards = "auto" if settings.shard_count is None else str(settings.shard_count)
    guild = f", DEV_GUILD_ID={settings.dev_guild_id}" if settings.dev_guild_id else ""
    return Finding(
        "configuration",
        "ok",
        f"DATABASE_PATH={settings.database_path}, LOG_LEVEL={settings.log_level}, "
        f"LOG_FORMAT={settings.log_format}, SHARD_COUNT={shards}{guild}",
    )


def check_database_and_key(settings: Settings) -> list[Finding]:
    path = settings.database_path
    if not path.exists():
        return [
            Finding(
                "database", "note", f"none yet at {path}: the bot creates it at its first start"
            ),
            _key_without_database(settings),
        ]
    try:
        connection = open_read_only(path)
    except OpsError as error:
        return [Finding("database", "problem", str(error))]
    try:
        return [_database(connection, settings), _key(connection, settings)]
    except sqlite3.DatabaseError as error:
        return [Finding("database", "problem", f"the database {path} is unreadable: {error}")]
    finally:
        connection.close()


def _database(connection: sqlite3.Connection, settings: Settings) -> Finding:
    path = settings.database_path
    version, latest = schema_version(connection), latest_schema()
    if version > latest:
        return Finding(
            "database",
            "problem",
            f"{path} was written by a newer version of the bot (schema {version}; this "
            f"version knows up to {latest}): upgrade the bot, or restore an older backup",
        )
    damage = [str(row[0]) for row in connection.execute("PRAGMA quick_check(3)")]
    if damage != ["ok"]:
        return Finding("database", "problem", f"{path} is damaged ({damage[0]}): restore a backup")
    groups = ""
    if has_table(connection, "groups"):
        count = connection.execute("SELECT count(*) FROM groups").fetchone()[0]
        groups = f"; {count} group(s)"
    if version < latest:
        return Finding(
            "database",
            "note",
            f"{path}: schema {version}, will be migrated to {latest} at the next start "
            f"(back it up first){groups}",
        )
    return Finding("database", "ok", f"{path}: schema {version}, up to date{groups}")


def _key_origin(settings: Settings) -> str:
    if settings.key_source == "environment":
        return "from ENCRYPTION_KEY"
    return f"from the key file {key_file_for(settings.database_path)}"


def _key_without_database(settings: Settings) -> Finding:
    if settings.key_source == "missing":
        return Finding(
            "key",
            "note",
            f"none yet: the bot generates one into {key_file_for(settings.database_path)} at "
            "its first start; back that file up then",
        )
    return Finding("key", "ok", f"{_key_origin(settings)}; recorded at the first start")


def _key(connection: sqlite3.Connection, settings: Settings) -> Finding:
    path = settings.database_path
    if settings.key_source == "missing":
        if stored_key_check(connection) is None:
            return _key_without_database(settings)
        return Finding(
            "key",
            "problem",
            f"ENCRYPTION_KEY is empty and {key_file_for(path)} does not exist, but the "
            "database was written with a key: restore the backed-up key",
        )
    verdict = judge_key(connection, settings.encryption_key)
    if verdict.matches is None:
        return Finding("key", "ok", f"{_key_origin(settings)}; {verdict.detail}")
    if verdict.matches:
        return Finding("key", "ok", f"{_key_origin(settings)}: {verdict.detail}")
    hint = "restore the backed-up key"
    if new_key_file_for(path).exists():
        hint = (
            f"a key rotation was interrupted: {new_key_file_for(path)} holds the new key "
            "(see the README, 'Rotating the key')"
        )
    return Finding("key", "problem", f"{_key_origin(settings)}: {verdict.detail}; {hint}")


async def _discord(settings: Settings, probe: TokenProbe) -> tuple[Finding, DiscordIdentity | None]:
    try:
        identity = await probe(settings.token, settings.dev_guild_id)
    except ProbeFailed as failure:
        return Finding("discord", "problem", str(failure), transient=failure.transient), None
    text = (
        f"the token works: it is the bot {printable(identity.bot_name)} "
        f"(application {identity.application_id})"
    )
    if identity.dev_guild_name is not None:
        text += f"; it is in the DEV_GUILD_ID server {printable(identity.dev_guild_name)}"
    return Finding("discord", "ok", text), identity


def render(report: CheckReport) -> list[str]:
    """One line a finding, then the invite URL."""
    lines = [
        f"{finding.state:<8} {finding.topic:<14} {finding.text}" for finding in report.findings
    ]
    if report.invite_url is not None:
        lines.append(f"invite the bot with: {report.invite_url}")
    if not report.problems:
        lines.append("the bot would start")
    return lines
