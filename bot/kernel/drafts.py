"""Things waiting for their author's confirmation, in memory only, never in the database:
a case note before Confirm, a reflection before Replace.

An entry lives for its book's lifetime (and not across a restart): a confirmation that
comes later finds nothing, and the author is asked to start again. Each author has at
most one entry per book; a new one replaces it. Entries are found by a random token
(carried in the buttons' custom ids), and only by their author. What an entry holds is
never in its repr (a log line, a traceback's locals).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 10_000  # a bound on memory, far above what any society's groups produce


class Gone(StrEnum):
    """Why an entry is no longer waiting, so its author hears the right thing."""

    EXPIRED = "expired"  # its lifetime ran out, or the bot restarted (nothing is known)
    REPLACED = "replaced"  # its author started a newer one
    DONE = "done"  # it was confirmed (or cancelled) already


@dataclass(frozen=True)
class Waiting(Generic[T]):
    token: str
    author_id: int
    created_at: datetime
    item: T = field(repr=False)


class DraftBook(Generic[T]):
    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._entries: dict[str, Waiting[T]] = {}
        self._gone: dict[str, Gone] = {}

    def put(self, author_id: int, item: T, now: datetime) -> Waiting[T]:
        """Keep a new entry (replacing the author's earlier one) and return it."""
        self._forget_expired(now)
        for token in [t for t, e in self._entries.items() if e.author_id == author_id]:
            self._forget(token, Gone.REPLACED)
        while len(self._entries) >= MAX_ENTRIES:
            self._forget(next(iter(self._entries)), Gone.EXPIRED)  # the oldest
        entry = Waiting(secrets.token_urlsafe(12), author_id, now, item)
        self._entries[entry.token] = entry
        return entry

    def get(self, token: str, author_id: int, now: datetime) -> Waiting[T] | None:
        """The author's entry, if it is still waiting."""
        entry = self._entries.get(token)
        if entry is None or entry.author_id != author_id:
            return None
        if now - entry.created_at >= self.lifetime:
            self._forget(token, Gone.EXPIRED)
            return None
        return entry

    def take(self, token: str, author_id: int, now: datetime) -> Waiting[T] | None:
        """The author's entry, taken out to be acted on (confirmed, cancelled): a second
        press finds it `Gone.DONE`."""
        entry = self.get(token, author_id, now)
        if entry is not None:
            self._forget(token, Gone.DONE)
        return entry

    def why_gone(self, token: str) -> Gone:
        return self._gone.get(token, Gone.EXPIRED)

    def update(self, entry: Waiting[T], item: T) -> Waiting[T]:
        """The same entry (same token, same age) holding `item` instead."""
        changed = replace(entry, item=item)
        if entry.token in self._entries:
            self._entries[entry.token] = changed
        return changed

    def discard(self, token: str) -> None:
        if token in self._entries:
            self._forget(token, Gone.DONE)

    def _forget(self, token: str, why: Gone) -> None:
        self._entries.pop(token, None)
        self._gone[token] = why
        while len(self._gone) > MAX_ENTRIES:
            del self._gone[next(iter(self._gone))]

    def _forget_expired(self, now: datetime) -> None:
        for token in [t for t, e in self._entries.items() if now - e.created_at >= self.lifetime]:
            self._forget(token, Gone.EXPIRED)

    def __len__(self) -> int:
        return len(self._entries)
