"""Drafts: their author's only, one per author, gone after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.cases.drafts import MAX_DRAFTS, DraftBook
from bot.cases.rules import DRAFT_LIFETIME

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_draft_is_found_by_its_author_only_until_it_expires() -> None:
    book = DraftBook()
    draft = book.put(1, 10, 100, "the note", NOW)
    assert book.get(draft.token, 2, NOW) is None
    assert book.get(draft.token, 1, NOW + DRAFT_LIFETIME - timedelta(seconds=1)) == draft
    assert book.get(draft.token, 1, NOW + DRAFT_LIFETIME) is None
    assert len(book) == 0


def test_a_new_draft_replaces_the_authors_earlier_one() -> None:
    book = DraftBook()
    first = book.put(1, 10, 100, "first", NOW)
    other = book.put(2, 10, 100, "someone else's", NOW)
    second = book.put(1, 10, 100, "second", NOW)
    assert book.get(first.token, 1, NOW) is None
    assert book.get(second.token, 1, NOW) == second
    assert book.get(other.token, 2, NOW) == other


def test_the_text_never_shows_in_a_repr() -> None:
    draft = DraftBook().put(1, 10, 100, "Mrs Hargreaves", NOW)
    assert "Hargreaves" not in repr(draft)


def test_memory_is_bounded() -> None:
    book = DraftBook()
    for author in range(MAX_DRAFTS + 5):
        book.put(author, 10, 100, "n", NOW)
    assert len(book) == MAX_DRAFTS


@given(st.lists(st.integers(min_value=1, max_value=5), max_size=30))
def test_tokens_are_unique_and_one_draft_per_author(authors: list[int]) -> None:
    book = DraftBook()
    tokens = [book.put(author, 1, 1, "n", NOW).token for author in authors]
    assert len(set(tokens)) == len(tokens)
    assert len(book) == len(set(authors))
