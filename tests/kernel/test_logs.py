"""discord.py's DEBUG records keep their wording and numbers, never a payload."""

from __future__ import annotations

import logging

import discord  # noqa: F401  (creates discord.py's loggers)
import pytest

from bot.kernel.logs import WithholdPayloads, withhold_discord_payloads

NOTE = "Mrs Hargreaves told me about her son"


def test_debug_payloads_are_withheld_and_numbers_kept(caplog: pytest.LogCaptureFixture) -> None:
    withhold_discord_payloads()
    caplog.set_level(logging.DEBUG, logger="discord")
    logging.getLogger("discord.gateway").debug(
        "For Shard ID %s: WebSocket Event: %s", 0, {"t": "MESSAGE_CREATE", "d": {"content": NOTE}}
    )
    logging.getLogger("discord.http").debug(
        "%s %s with %s has returned %s", "POST", "https://x/channels/1", NOTE, 200
    )
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "For Shard ID 0: WebSocket Event: [withheld]",
        "POST [withheld] with [withheld] has returned 200",
    ]


def test_every_discord_logger_has_the_filter() -> None:
    withhold_discord_payloads()
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "discord"]
    assert "discord.http" in names
    for name in names:
        assert any(isinstance(f, WithholdPayloads) for f in logging.getLogger(name).filters), name


def test_an_exception_at_debug_keeps_only_its_type(caplog: pytest.LogCaptureFixture) -> None:
    withhold_discord_payloads()
    caplog.set_level(logging.DEBUG, logger="discord")
    try:
        raise ValueError(NOTE)
    except ValueError:
        logging.getLogger("discord.client").debug("failed with %r", NOTE, exc_info=True)
    [record] = caplog.records
    assert NOTE not in caplog.text
    assert "ValueError" in record.getMessage()


def test_info_records_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    withhold_discord_payloads()
    caplog.set_level(logging.DEBUG, logger="discord")
    logging.getLogger("discord.gateway").info("Shard ID %s has connected.", "None")
    assert caplog.records[0].getMessage() == "Shard ID None has connected."
