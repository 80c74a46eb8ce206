"""Case notes waiting for their author's Confirm: in memory only, never in the database.

A draft lives for `DRAFT_LIFETIME` (and not across a restart): a Confirm pressed later
finds nothing and the author is asked to send the note again. Each author has at most
one draft; a new one replaces it. Drafts are found by a random token (carried in the
buttons' custom ids), and only by their author.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.cases.rules import DRAFT_LIFETIME

MAX_DRAFTS = 10_000  # a bound on memory, far above what any society's groups produce


@dataclass(frozen=True)
class Draft:
    token: str
    author_id: int
    group_id: int
    session_id: int
    created_at: datetime
    # The note itself never appears in a repr (a log line, a traceback's locals).
    text: str = field(repr=False)
    via_form: bool = False  # written in the form (it can be edited there) or by DM


class DraftBook:
    def __init__(self, lifetime: timedelta = DRAFT_LIFETIME) -> None:
        self._lifetime = lifetime
        self._drafts: dict[str, Draft] = {}

    def put(
        self,
        author_id: int,
        group_id: int,
        session_id: int,
        text: str,
        now: datetime,
        *,
        via_form: bool = False,
    ) -> Draft:
        """Keep a new draft (replacing the author's earlier one) and return it."""
        self._forget_expired(now)
        for token in [t for t, d in self._drafts.items() if d.author_id == author_id]:
            del self._drafts[token]
        while len(self._drafts) >= MAX_DRAFTS:
            del self._drafts[next(iter(self._drafts))]  # the oldest
        draft = Draft(
            secrets.token_urlsafe(12), author_id, group_id, session_id, now, text, via_form
        )
        self._drafts[draft.token] = draft
        return draft

    def get(self, token: str, author_id: int, now: datetime) -> Draft | None:
        """The author's draft, if it is still waiting."""
        draft = self._drafts.get(token)
        if draft is None or draft.author_id != author_id:
            return None
        if now - draft.created_at >= self._lifetime:
            del self._drafts[token]
            return None
        return draft

    def retarget(self, draft: Draft, group_id: int, session_id: int) -> Draft:
        """The same draft, for another of its author's groups."""
        moved = replace(draft, group_id=group_id, session_id=session_id)
        if draft.token in self._drafts:
            self._drafts[draft.token] = moved
        return moved

    def discard(self, token: str) -> None:
        self._drafts.pop(token, None)

    def _forget_expired(self, now: datetime) -> None:
        for token in [t for t, d in self._drafts.items() if now - d.created_at >= self._lifetime]:
            del self._drafts[token]

    def __len__(self) -> int:
        return len(self._drafts)
