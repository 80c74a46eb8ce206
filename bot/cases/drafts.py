"""A case note waiting for its author's Confirm (in a `bot.kernel.drafts.DraftBook`, in
memory only, for `DRAFT_LIFETIME`): what it says, and where it would go."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.cases.rules import DRAFT_LIFETIME
from bot.kernel.drafts import DraftBook, Waiting


@dataclass(frozen=True)
class Draft:
    group_id: int
    session_id: int
    text: str = field(repr=False)
    via_form: bool = False  # written in the form (it can be edited there) or by DM


CaseDraft = Waiting[Draft]


def case_drafts() -> DraftBook[Draft]:
    return DraftBook(DRAFT_LIFETIME)
