"""Tools for the person who hosts the bot: `python -m bot check | backup | rotate-key |
status`. Each reads the same configuration as the bot; none of them talks to the gateway.

`check` and `status` only read (the database is opened read-only and nothing is created
beside it); `backup` writes only the copy; `rotate-key` writes, and only while the bot is
stopped (it takes the lock a running bot holds, see `lock`).
"""

from __future__ import annotations


class OpsError(Exception):
    """A tool cannot do what was asked; the message is one line for the operator."""


def printable(text: str) -> str:
    """`text` safe to print on the operator's terminal: names come from Discord users
    (a group's, a server's), and a control character could move the cursor or worse."""
    return "".join(char if char.isprintable() else "?" for char in text)
