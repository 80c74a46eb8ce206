"""Text helpers for what users read."""

from __future__ import annotations

from collections.abc import Iterable

import discord

MESSAGE_LIMIT = 2000


def chunk_sections(sections: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join sections with blank lines into messages of at most `limit` characters,
    breaking between sections (and inside one only when it alone is too long)."""
    messages: list[str] = []
    current = ""
    for section in sections:
        pieces = [section[i : i + limit] for i in range(0, len(section), limit)] or [""]
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def plain(text: str) -> str:
    """User-supplied text made safe to show: markdown escaped, mentions neutralised.

    (Allowed mentions are also restricted on every message; this keeps the text itself
    from rendering as a ping or as formatting.)
    """
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))
