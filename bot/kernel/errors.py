"""Refusals: the clear "no" a user gets for bad input, a missing permission or an unknown
thing. Raised anywhere below a command; the Discord side shows it and nothing is
changed (the transaction, if any, is rolled back by the raise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

# Input quoted back to the user is cut to this length: a 2,500-character `start` must not
# make the refusal itself too long for Discord to send.
QUOTE_LIMIT: Final = 60


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Refusal(Exception):
    """A clear, ephemeral "no" to the user.

    `message` is the answer. Text that came from a user (a group's name, what they typed)
    is never put into it directly: it is passed as a keyword and named in the message as a
    `{placeholder}`, so that the Discord side escapes it (markdown, mentions) and
    shortens it in one place (`render`). Confidential text (a case note) is never quoted.
    """

    def __init__(self, message: str, **quoted: str) -> None:
        self.message = message
        self.quoted = quoted
        super().__init__(self.render(lambda text: text))

    def render(self, escape: Callable[[str], str]) -> str:
        """The message with each quoted value shortened, then passed through `escape`."""
        if not self.quoted:
            return self.message
        return self.message.format_map(
            {name: escape(shorten(value)) for name, value in self.quoted.items()}
        )
