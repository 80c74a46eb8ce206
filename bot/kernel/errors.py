"""Refusals: the clear "no" a user gets for bad input, a missing permission or an unknown
thing. Raised anywhere below a command; the Discord side shows it and nothing is
changed (the transaction, if any, is rolled back by the raise)."""

from __future__ import annotations


class Refusal(Exception):
    """A clear, ephemeral "no" to the user.

    `message` is the whole answer. Exceptions are never logged with their message (see
    `bot.kernel.logs.log_failure`), so nothing a user typed reaches the log this way.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
