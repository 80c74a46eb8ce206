"""Logging that keeps confidential text out of the log: exceptions by type and place only,
secrets (the bot token) redacted from every record, discord.py's payloads withheld.

Two formats (`LOG_FORMAT`): `text`, one readable line a record, and `json`, one JSON object
a line (`JsonLines`) for log collectors: time, level, logger, event, and the ids of the
group and session (and the job) a record is about, from `log_context`. Member ids are
never among them: a reflection's writer must not be linkable to the time it was written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import traceback
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

# The ids a JSON record may carry, from `log_context` or a log call's `extra=`.
CONTEXT_FIELDS = ("guild_id", "group_id", "session_id", "job", "job_kind")
_context: ContextVar[Mapping[str, int | str]] = ContextVar(
    "log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**ids: int | str | None) -> Iterator[None]:
    """Every record logged inside the block (by this task, and by the tasks it starts)
    carries these ids (`None` values are left out); see `CONTEXT_FIELDS`."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"not log context fields: {sorted(unknown)}")
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _context.reset(token)


class AddContext(logging.Filter):
    """Copies the ids of `log_context` onto each record (an `extra=` of the call wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line. An exception is given by its type and stack frames only,
    never its message (which could quote what a member wrote), like `log_failure`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, int | str) and not isinstance(value, bool):
                entry[name] = value
        if record.exc_info is not None and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            frames = traceback.format_list(traceback.extract_tb(record.exc_info[2]))
            entry["where"] = "".join(frames).rstrip()
        return json.dumps(entry, ensure_ascii=False)


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Log where an unexpected error happened without its message.

    Exception messages can quote their input (a decoding error quotes the bytes, a
    constraint error the value), and input here may be confidential, so only the
    exception's type and the stack frames are logged.
    """
    frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    cause = error.__cause__ or error.__context__
    chain = f" (caused by {type(cause).__name__})" if cause is not None else ""
    logger.error("%s failed: %s%s\n%s", what, type(error).__name__, chain, frames.rstrip())


class RedactSecrets(logging.Filter):
    """Replaces the given secrets (the bot token) in every log record, whatever logs it."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


# Arguments a withheld record keeps: numbers (shard ids, statuses, counts) and HTTP verbs.
_KEPT_WORDS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def _kept(value: object) -> bool:
    if isinstance(value, bool | int | float) or value is None:
        return True
    return isinstance(value, str) and value in _KEPT_WORDS


class WithholdPayloads(logging.Filter):
    """Keeps what members wrote, and who wrote it, out of the libraries' DEBUG records.

    At DEBUG, discord.py logs whole payloads: every gateway event (a DM's text, a form's
    answers) and every request and response body (a leader's `/case view` answer); and
    aiosqlite logs every statement with its parameters (a member's id looked up next to
    the reflection written). On their loggers, a DEBUG record keeps its wording and its
    plain numbers; every other argument (and any exception attached) is replaced by
    "[withheld]". Records at INFO and above are left alone: neither library puts content
    in those."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if record.args is None:
            args = ()
        values = iter(args)

        def conversion(match: re.Match[str]) -> str:
            if match[1] == "%":
                return "%"
            value = next(values, None)
            return str(value) if _kept(value) else "[withheld]"

        record.msg = _CONVERSION.sub(conversion, str(record.msg))
        record.args = None
        if record.exc_info is not None and record.exc_info[0] is not None:
            record.msg += f" ({record.exc_info[0].__name__}, details withheld)"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


WITHHELD_LIBRARIES = ("discord", "aiosqlite")


def withhold_library_payloads() -> None:
    """Put `WithholdPayloads` on every logger of discord.py and aiosqlite (they exist once
    the libraries are imported; a logger's filters apply to the records it emits itself,
    so each needs its own). Safe to call more than once."""
    names = [
        name
        for name in logging.Logger.manager.loggerDict
        if name.split(".")[0] in WITHHELD_LIBRARIES
    ]
    for name in [*WITHHELD_LIBRARIES, *names]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdPayloads) for f in logger.filters):
            logger.addFilter(WithholdPayloads())
