"""`python -m bot check` against the test double: what the operator reads, the exit
status, and that nothing was created or changed."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import discord.http
import pytest

from bot import __main__ as entry
from bot.app import invite_url
from bot.kernel.config import encode_key
from tests.double import DiscordDouble
from tests.ops.conftest import KEY, Written, listing, put_key_file


async def run_check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    status = await entry.dispatch(entry.build_parser().parse_args(["check", *argv]))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def line(lines: list[str], topic: str) -> str:
    [found] = [text for text in lines if text.split()[1:2] == [topic]]
    return found


async def test_everything_in_order_prints_the_invite_and_exits_0(
    double: DiscordDouble, written: Written, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_key_file(operator_env)
    before = listing(operator_env)
    content = written.path.read_bytes()
    with double.patch_discord():
        status, lines, err = await run_check(capsys)
    assert status == 0, lines
    assert err == ""
    assert line(lines, "database").startswith("ok")
    assert "up to date; 1 group(s)" in line(lines, "database")
    assert line(lines, "key").startswith("ok")
    assert "is the key this database was written with" in line(lines, "key")
    assert line(lines, "discord").startswith("ok")
    assert f"invite the bot with: {invite_url(double.application_id)}" in lines
    assert lines[-1] == "the bot would start"
    # REST only: who the token is; no gateway
    routes = [(r.method, r.route) for r in double.requests]
    assert routes == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert double.gateway.identifies == 0
    # read-only: nothing created beside the database, not a byte changed in it
    assert listing(operator_env) == before
    assert written.path.read_bytes() == content
    double.assert_no_errors()


async def test_a_fresh_install_would_start_and_nothing_is_created(
    double: DiscordDouble, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 0, lines
    assert f"none yet at {operator_env / 'balint.db'}" in line(lines, "database")
    assert f"the bot generates one into {operator_env / 'balint.db.key'}" in line(lines, "key")
    assert listing(operator_env) == set()  # no database, no key file, no lock


async def test_a_wrong_token_is_a_problem_with_exit_2(
    operator_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with DiscordDouble(token="another-token") as double:
        with double.patch_discord():
            status, lines, err = await run_check(capsys)
        assert double.take_errors("401")
    assert status == 2
    assert line(lines, "discord").startswith("problem")
    assert "Discord rejected DISCORD_TOKEN (401)" in line(lines, "discord")
    assert not any(text.startswith("invite") for text in lines)
    assert err.splitlines() == [
        "balint-bot: error: the bot would not start: 1 problem(s), listed above"
    ]


async def test_a_closed_port_is_unreachable_with_exit_1(
    operator_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    status, lines, err = await run_check(capsys)
    assert status == 1  # may go away by itself: try again later
    assert "cannot reach Discord: ClientConnectorError" in line(lines, "discord")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_no_answer_at_all_times_out_with_exit_1(
    operator_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    silent_server: int,
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{silent_server}/api/v10")
    monkeypatch.setattr(entry, "PROBE_TIMEOUT_SECONDS", 0.3)
    status, lines, _ = await run_check(capsys)
    assert status == 1
    assert "no answer from Discord within 0.3 seconds" in line(lines, "discord")


async def test_a_wrong_key_is_a_problem_and_the_rest_is_still_checked(
    double: DiscordDouble, written: Written, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_key_file(operator_env, b"\x01" * 32)
    with double.patch_discord():
        status, lines, err = await run_check(capsys)
    assert status == 2
    assert line(lines, "key").startswith("problem")
    assert "not the key this database was written with; restore the backed-up key" in line(
        lines, "key"
    )
    assert line(lines, "discord").startswith("ok")  # one problem hides no other finding
    assert len(err.splitlines()) == 1


async def test_a_lost_key_is_a_problem_not_a_new_key(
    double: DiscordDouble,
    written: Written,
    operator_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 2
    assert "the database was written with a key: restore the backed-up key" in line(lines, "key")
    assert not (operator_env / "balint.db.key").exists()  # check generated nothing


async def test_the_key_from_the_environment_is_checked_too(
    double: DiscordDouble,
    written: Written,
    operator_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", encode_key(KEY))
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 0
    assert "from ENCRYPTION_KEY: it is the key" in line(lines, "key")


async def test_a_newer_database_is_a_problem(
    double: DiscordDouble, written: Written, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_key_file(operator_env)
    with sqlite3.connect(written.path) as raw:
        raw.execute("PRAGMA user_version = 4242")
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 2
    assert "written by a newer version of the bot (schema 4242" in line(lines, "database")


async def test_an_older_database_will_be_migrated(
    double: DiscordDouble, operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(operator_env / "balint.db") as raw:
        raw.execute("PRAGMA user_version = 0")
        raw.execute("CREATE TABLE leftover (x)")
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 0
    assert "schema 0, will be migrated to" in line(lines, "database")
    assert line(lines, "database").startswith("note")


async def test_dev_guild_the_bot_is_not_in_is_a_problem(
    double: DiscordDouble,
    operator_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEV_GUILD_ID", "123456789012345678")
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 2
    assert "the bot is not in the server DEV_GUILD_ID=123456789012345678" in line(lines, "discord")
    double.take_errors()


async def test_dev_guild_the_bot_is_in_is_named(
    double: DiscordDouble,
    operator_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guild = double.add_guild("Dev server")
    monkeypatch.setenv("DEV_GUILD_ID", str(guild.id))
    with double.patch_discord():
        status, lines, _ = await run_check(capsys)
    assert status == 0
    assert "it is in the DEV_GUILD_ID server Dev server" in line(lines, "discord")
    double.assert_no_errors()
