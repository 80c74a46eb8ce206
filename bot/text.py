"""Text helpers for what users read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import discord

MESSAGE_LIMIT = 2000


def chunk_sections(sections: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join sections with blank lines into messages of at most `limit` characters.

    A section that fits in one message is never split: it joins the current message or
    starts the next one. A longer section is split between its lines, its first lines
    filling up the current message (so a short heading is not left alone). Only a line
    longer than `limit` is itself cut, after a space where it has one: Discord markup
    such as ``<t:…:F>`` or ``<@…>`` would show as raw text if cut in two. Blank sections,
    and blank lines at the start or end of a message, are left out, since Discord
    refuses an empty message.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    messages = _Messages(limit)
    for section in sections:
        if not section.strip():
            continue
        if len(section) <= limit:
            messages.add(section, separator="\n\n")
            continue
        separator = "\n\n"
        for line in section.split("\n"):
            for piece in _cut_line(line, limit):
                messages.add(piece, separator=separator)
                separator = "\n"
    return messages.finish()


class _Messages:
    """Messages being filled, the last one still open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done: list[str] = []
        self.current = ""

    def add(self, text: str, *, separator: str) -> None:
        """`text` (at most `limit` long) after `separator` in the current message if it
        fits there, else at the start of the next one."""
        if not self.current.strip():
            self.current = text
        elif len(self.current) + len(separator) + len(text) <= self.limit:
            self.current += separator + text
        else:
            self._close()
            self.current = text

    def finish(self) -> list[str]:
        self._close()
        return self.done

    def _close(self) -> None:
        lines = self.current.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines:
            self.done.append("\n".join(lines))
        self.current = ""


def _cut_line(line: str, limit: int) -> Iterator[str]:
    """`line` in pieces of at most `limit` characters, cut after the last space that
    allows it (a hard cut at `limit` only for a run of text without spaces)."""
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit) + 1 or limit
        yield line[:cut]
        line = line[cut:]
    yield line


def plain(text: str) -> str:
    """User-supplied text made safe to show: markdown escaped, mentions neutralised.

    (Allowed mentions are also restricted on every message; this keeps the text itself
    from rendering as a ping or as formatting.)
    """
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))
