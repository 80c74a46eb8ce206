"""discord.py's and aiosqlite's DEBUG records keep their wording and numbers, never a
payload or a statement's parameters."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord  # noqa: F401  (creates discord.py's loggers)
import pytest

from bot.__main__ import configure_logging
from bot.kernel.clock import ManualClock
from bot.kernel.config import Settings
from bot.kernel.db import Database
from bot.kernel.logs import WithholdPayloads, log_context, withhold_library_payloads
from bot.kernel.scheduler import Job, JobScheduler

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


# -- LOG_FORMAT=json ------------------------------------------------------------------------

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[str], None]]:
    """Set logging up as `python -m bot` does, for a LOG_FORMAT; restored afterwards
    (before capsys closes the stream it writes to)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("discord").level

    def configure(log_format: str) -> None:
        settings = Settings(
            token=TOKEN,
            database_path=tmp_path / "b.db",
            encryption_key=bytes(32),
            log_level="DEBUG",
            log_format=log_format,
        )
        configure_logging(settings)

    yield configure
    root.handlers[:], level, discord_level = saved
    root.setLevel(level)
    logging.getLogger("discord").setLevel(discord_level)


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines()]


def test_json_is_one_object_a_line_with_the_context_ids(
    configured: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    configured("json")
    log = logging.getLogger("bot.somewhere")
    with log_context(group_id=3, session_id=41):
        log.info("reminder sent for session %s", 41)
        log.warning("moved", extra={"session_id": 42})  # an explicit id wins
    log.info("outside any context")
    first, second, third = json_lines(capsys.readouterr().err)
    assert set(first) == {"time", "level", "logger", "event", "group_id", "session_id"}
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.somewhere"
    assert first["event"] == "reminder sent for session 41"
    assert (first["group_id"], first["session_id"]) == (3, 41)
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert (second["group_id"], second["session_id"]) == (3, 42)
    assert "group_id" not in third


def test_json_keeps_the_redaction_and_the_withheld_payloads(
    configured: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    configured("json")
    withhold_library_payloads()
    logging.getLogger("discord.gateway").setLevel(logging.DEBUG)
    logging.getLogger("discord.gateway").debug("WebSocket Event: %s", {"content": NOTE})
    logging.getLogger("bot.x").warning("token is %s", TOKEN)
    try:
        raise ValueError(NOTE)
    except ValueError:
        logging.getLogger("bot.x").exception("while handling a DM")
    err = capsys.readouterr().err
    assert NOTE not in err
    assert "Hargreaves" not in err
    assert TOKEN not in err
    withheld, redacted, failure = json_lines(err)
    assert withheld["event"] == "WebSocket Event: [withheld]"
    assert redacted["event"] == "token is [redacted]"
    assert failure["error"] == "ValueError"
    assert "test_logs.py" in failure["where"]  # where it happened, not what it said


def test_the_default_stays_readable_text(
    configured: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    configured("text")
    with log_context(group_id=3):
        logging.getLogger("bot.x").info("hello %s", "there")
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("INFO    bot.x: hello there")
    assert not line.startswith("{")


def test_unknown_context_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="member_id"), log_context(member_id=5):
        pass


async def test_a_job_s_records_name_its_job_group_and_session(
    configured: Callable[[str], None], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What the scheduler logs about a job, and what the job's handler logs, carry its ids."""
    configured("json")
    database = await Database.open(tmp_path / "jobs.db")
    await database.migrate()
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    async def handler(job: Job) -> None:
        logging.getLogger("cogs.reminders").info("sending")
        raise ConnectionError(NOTE)

    scheduler = JobScheduler(database, clock)
    scheduler.register("reminder.channel", handler)
    try:
        await scheduler.schedule(
            "reminder.channel", "r1", clock.now(), payload={"group_id": 7, "session_id": 70}
        )
        await scheduler.run_due()
    finally:
        await scheduler.stop()
        await database.close()
    records = json_lines(capsys.readouterr().err)
    sending = next(r for r in records if r["event"] == "sending")
    retrying = next(r for r in records if "failed (ConnectionError)" in r["event"])
    for record in (sending, retrying):
        assert (record["group_id"], record["session_id"]) == (7, 70)
        assert record["job_kind"] == "reminder.channel"
        assert isinstance(record["job"], int)
    assert NOTE not in str(records)
