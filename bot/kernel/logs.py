"""Logging that keeps confidential text out of the log: exceptions by type and place only,
secrets (the bot token) redacted from every record."""

from __future__ import annotations

import logging
import traceback


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
