"""discord.py's and aiosqlite's DEBUG records keep their wording and numbers, never a
payload or a statement's parameters."""

from __future__ import annotations

import logging

import discord  # noqa: F401  (creates discord.py's loggers)
import pytest

from bot.kernel.logs import WithholdPayloads, withhold_library_payloads

NOTE = "Mrs Hargreaves told me about her son"


def test_debug_payloads_are_withheld_and_numbers_kept(caplog: pytest.LogCaptureFixture) -> None:
    withhold_library_payloads()
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


def test_every_library_logger_has_the_filter() -> None:
    import aiosqlite  # noqa: F401  (creates its logger)

    withhold_library_payloads()
    names = [
        n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in ("discord", "aiosqlite")
    ]
    assert {"discord.http", "aiosqlite"} <= set(names)
    for name in names:
        assert any(isinstance(f, WithholdPayloads) for f in logging.getLogger(name).filters), name


def test_an_exception_at_debug_keeps_only_its_type(caplog: pytest.LogCaptureFixture) -> None:
    withhold_library_payloads()
    caplog.set_level(logging.DEBUG, logger="discord")
    try:
        raise ValueError(NOTE)
    except ValueError:
        logging.getLogger("discord.client").debug("failed with %r", NOTE, exc_info=True)
    [record] = caplog.records
    assert NOTE not in caplog.text
    assert "ValueError" in record.getMessage()


def test_statement_parameters_are_withheld(caplog: pytest.LogCaptureFixture) -> None:
    withhold_library_payloads()
    caplog.set_level(logging.DEBUG, logger="aiosqlite")
    logging.getLogger("aiosqlite").debug("executing %s", ("SELECT ? ", 1577300603363655682))
    assert caplog.records[0].getMessage() == "executing [withheld]"


def test_info_records_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    withhold_library_payloads()
    caplog.set_level(logging.DEBUG, logger="discord")
    logging.getLogger("discord.gateway").info("Shard ID %s has connected.", "None")
    assert caplog.records[0].getMessage() == "Shard ID None has connected."


def test_a_failure_is_logged_by_type_and_place_never_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.kernel.logs import log_failure

    try:
        try:
            raise KeyError(NOTE)
        except KeyError as cause:
            raise ValueError(NOTE) from cause
    except ValueError as error:
        log_failure(logging.getLogger("bot.test"), "a test", error)
    assert "ValueError" in caplog.text
    assert "caused by KeyError" in caplog.text
    assert "Hargreaves" not in caplog.text
