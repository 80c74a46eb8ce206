"""The foundation end to end: start-up, commands, /help, /about, shutdown, reconnects."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import discord
import pytest

from bot import __version__
from bot.__main__ import configure_logging, serve
from bot.app import BalintBot, required_permissions
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from bot.kernel.db import bundled_migrations
from tests.double import DiscordDouble
from tests.e2e.conftest import START, TEST_KEY, Scene, handlers_done, reply_text


def settings_for(token: str, tmp_path: Path) -> Settings:
    return Settings(token=token, database_path=tmp_path / "b.db", encryption_key=TEST_KEY)


PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
GUILDS, DIRECT_MESSAGES = 1 << 0, 1 << 12


async def test_start_registers_every_capability_with_only_needed_intents(scene: Scene) -> None:
    names = {command.name for command in scene.double.commands()}
    assert {"help", "about", "group", "session", "rota"} <= names
    intents = scene.double.identify_intents
    assert intents is not None
    assert intents & PRIVILEGED_INTENTS == 0
    assert intents == GUILDS | DIRECT_MESSAGES


async def test_help_is_private_and_lists_what_the_user_may_run(scene: Scene) -> None:
    outsider = await scene.slash("help", scene.outsider)
    assert outsider.reply is not None
    assert outsider.reply.ephemeral
    text = reply_text(outsider)
    assert "/about" in text
    assert "/group create" not in text
    assert "/rota generate" not in text
    assert "not in a group here yet" in text

    admin = await scene.slash("help", scene.admin)
    await handlers_done()  # a long help arrives in several messages
    admin_text = "\n".join(m.content or "" for m in [admin.reply, *admin.followups] if m)
    assert "/group create" in admin_text
    assert "For server managers" in admin_text


async def test_help_shows_leader_commands_to_a_groups_leader(scene: Scene) -> None:
    await scene.slash(
        "group create",
        scene.admin,
        name="Tuesday",
        channel=scene.home,
        timezone="Europe/London",
        leader=scene.leader,
    )
    interaction = await scene.slash("help", scene.leader)
    await handlers_done()  # a long help arrives in several messages
    shown = "\n".join(m.content or "" for m in [interaction.reply, *interaction.followups] if m)
    assert "/rota generate" in shown
    assert "/session schedule" in shown
    assert "/group create" not in shown  # Manage Server only


async def test_about_reports_version_uptime_and_schema(scene: Scene) -> None:
    scene.clock.advance(timedelta(hours=2, minutes=5))
    interaction = await scene.slash("about", scene.members[0])
    text = reply_text(interaction)
    assert interaction.reply is not None
    assert interaction.reply.ephemeral
    assert __version__ in text
    assert "2 h 5 min" in text
    assert f"schema version {bundled_migrations()[-1].version}" in text


async def test_help_in_a_dm_lists_only_what_works_there(scene: Scene) -> None:
    await scene.create_group()
    interaction = await scene.double.slash("help", scene.members[0])
    text = "\n".join(m.content or "" for m in [interaction.reply, *interaction.followups] if m)
    assert "/about" in text
    assert "/rota me" in text  # the rota works in DMs
    assert "/session list" not in text  # sessions are a server's business
    assert "/group show" not in text


async def test_bot_answers_after_a_gateway_disconnect(scene: Scene) -> None:
    await scene.double.disconnect()
    interaction = await scene.slash("about", scene.members[1])
    assert __version__ in reply_text(interaction)


async def test_restart_keeps_the_database_and_skips_an_unchanged_sync(scene: Scene) -> None:
    await scene.create_group()
    syncs_before = [r for r in scene.double.requests if r.method == "PUT" and "commands" in r.path]
    await scene.restart()
    syncs_after = [r for r in scene.double.requests if r.method == "PUT" and "commands" in r.path]
    assert len(syncs_before) == 1
    assert len(syncs_after) == 1  # the commands did not change, so no second sync
    interaction = await scene.slash("about", scene.members[1])
    assert __version__ in reply_text(interaction)
    shown = await scene.slash("group show", scene.members[1])
    assert reply_text(shown).startswith("**Tuesday group**: 5 people")


async def test_invite_url_has_exactly_the_needed_permissions(
    double: DiscordDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    settings = Settings(
        token=double.token, database_path=tmp_path / "b.db", encryption_key=TEST_KEY
    )
    bot = BalintBot(settings, clock=ManualClock(START), guild_ready_timeout=0.05)
    async with double.run_client(bot):
        pass
    invite = next(r.getMessage() for r in caplog.records if "invite the bot" in r.getMessage())
    assert f"client_id={bot.application_id}" in invite
    assert f"permissions={required_permissions().value}" in invite
    assert "scope=bot+applications.commands" in invite
    assert required_permissions() == discord.Permissions(
        view_channel=True, send_messages=True, manage_events=True
    )


async def test_token_never_reaches_the_logs(
    double: DiscordDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        token=double.token, database_path=tmp_path / "b.db", encryption_key=TEST_KEY
    )
    bot = BalintBot(settings, clock=ManualClock(START), guild_ready_timeout=0.05)
    guild = double.add_guild("G")
    user = double.add_user("u")
    double.add_member(guild, user)
    async with double.run_client(bot):
        await double.slash("about", user, guild=guild, channel=double.add_channel(guild, "c"))
    assert caplog.records
    assert double.token not in caplog.text


def test_log_handler_redacts_the_token_whoever_logs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
    settings = settings_for(token, tmp_path)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(settings)
        logging.getLogger("somewhere").warning("oops, the token is %s", token)
        for handler in root.handlers:
            handler.flush()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "oops, the token is [redacted]" in err
    assert token not in err


async def test_rejected_token_exits_2_with_one_line(
    double: DiscordDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for("wrong-token", tmp_path)
    with double.patch_discord():
        status = await serve(settings, guild_ready_timeout=0.05)
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "balint-bot: error: Discord rejected DISCORD_TOKEN (401); "
        "copy the token again from the Bot page"
    ]
    assert double.take_errors("401")  # the double recorded the refused login


async def test_sigterm_shuts_down_cleanly_with_status_0(
    double: DiscordDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(double.token, tmp_path)
    with double.patch_discord():
        running = asyncio.create_task(
            serve(settings, clock=ManualClock(START), guild_ready_timeout=0.05)
        )
        for _ in range(200):
            if double.gateway.identifies:
                break
            await asyncio.sleep(0.01)
        assert double.gateway.identifies
        os.kill(os.getpid(), signal.SIGTERM)
        status = await asyncio.wait_for(running, 10)
    assert status == 0
    messages = [r.getMessage() for r in caplog.records]
    assert "received SIGTERM; shutting down" in messages
    assert "stopped cleanly" in messages


async def test_dev_guild_id_syncs_commands_to_that_server_only(
    double: DiscordDouble, tmp_path: Path
) -> None:
    guild = double.add_guild("Dev server")
    settings = replace(settings_for(double.token, tmp_path), dev_guild_id=guild.id)
    bot = BalintBot(settings, clock=ManualClock(START), guild_ready_timeout=0.05)
    async with double.run_client(bot):
        pass
    assert {c.name for c in double.commands(guild)} >= {"help", "group", "session", "rota"}
    assert double.commands() == []  # nothing global


async def test_dev_guild_the_bot_is_not_in_exits_with_one_line(
    double: DiscordDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = replace(settings_for(double.token, tmp_path), dev_guild_id=123456789012345678)
    with double.patch_discord():
        status = await serve(settings, clock=ManualClock(START), guild_ready_timeout=0.05)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert err[0].startswith("balint-bot: error: Discord refused a start-up request")
    assert "DEV_GUILD_ID" in err[0]
