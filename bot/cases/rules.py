"""What a case note may be, what it is bound to, and how long a draft waits: plain rules.

The identifier check itself is `bot.cases.identifiers`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from bot.kernel.errors import Refusal

NOTE_LIMIT: Final = 1500  # characters, by DM or by form
DRAFT_LIFETIME: Final = timedelta(minutes=15)


def checked_note(text: str) -> str:
    """The note as it will be kept (surrounding blank space trimmed), or a refusal that
    says why not: nothing to send, or too long (with the count)."""
    note = text.strip()
    if not note:
        raise Refusal("There is no text to send: write your note in words.")
    if len(note) > NOTE_LIMIT:
        raise Refusal(
            f"Your note is {len(note):,} characters long; the limit is {NOTE_LIMIT:,}. "
            "Please shorten it and send it again. Nothing was kept."
        )
    return note


def note_context(group_id: int, session_id: int, member_id: int) -> bytes:
    """The associated data a note is encrypted under: its group, session and author. A
    ciphertext copied into another row (another session, another member, another
    group) fails to decrypt instead of showing up where it does not belong."""
    return f"balint case note v1|group={group_id}|session={session_id}|member={member_id}".encode()


def purge_time(session_ends_at: datetime, retention: timedelta) -> datetime:
    """When a session's notes are deleted: at its end, plus the group's retention."""
    return session_ends_at + retention
