"""Presenters' case notes and flags. The notes themselves are ciphertext (see
`bot.kernel.crypto`); this module never sees plaintext."""

from __future__ import annotations

from bot.kernel.db import Reader


async def has_submitted_or_flagged(database: Reader, session_id: int, member_id: int) -> bool:
    """Whether the member sent a note or flagged a case for the session."""
    found = await database.scalar(
        "SELECT 1 FROM cases WHERE session_id = ? AND member_id = ?", (session_id, member_id)
    )
    return found is not None
