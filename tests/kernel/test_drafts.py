"""Drafts: their author's only, one per author, gone after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.cases.drafts import Draft
from bot.kernel.drafts import MAX_ENTRIES, DraftBook, Gone

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=15)


def test_an_entry_is_found_by_its_author_only_until_it_expires() -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    entry = book.put(1, "the note", NOW)
    assert book.get(entry.token, 2, NOW) is None
    assert book.get(entry.token, 1, NOW + LIFETIME - timedelta(seconds=1)) == entry
    assert book.get(entry.token, 1, NOW + LIFETIME) is None
    assert len(book) == 0


def test_a_new_entry_replaces_the_authors_earlier_one() -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    first = book.put(1, "first", NOW)
    other = book.put(2, "someone else's", NOW)
    second = book.put(1, "second", NOW)
    assert book.get(first.token, 1, NOW) is None
    assert book.get(second.token, 1, NOW) == second
    assert book.get(other.token, 2, NOW) == other


def test_an_update_keeps_the_token_and_the_age() -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    entry = book.put(1, "first", NOW)
    changed = book.update(entry, "second")
    assert book.get(entry.token, 1, NOW) == changed
    assert changed.item == "second"
    assert book.get(entry.token, 1, NOW + LIFETIME) is None


def test_the_text_never_shows_in_a_repr() -> None:
    entry = DraftBook[Draft](LIFETIME).put(1, Draft(10, 100, "Mrs Hargreaves"), NOW)
    assert "Hargreaves" not in repr(entry)
    assert "Hargreaves" not in repr(entry.item)


def test_memory_is_bounded() -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    for author in range(MAX_ENTRIES + 5):
        book.put(author, "n", NOW)
    assert len(book) == MAX_ENTRIES


@given(st.lists(st.integers(min_value=1, max_value=5), max_size=30))
def test_tokens_are_unique_and_one_entry_per_author(authors: list[int]) -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    tokens = [book.put(author, "n", NOW).token for author in authors]
    assert len(set(tokens)) == len(tokens)
    assert len(book) == len(set(authors))


def test_each_way_of_going_is_told_apart() -> None:
    book: DraftBook[str] = DraftBook(LIFETIME)
    first = book.put(1, "first", NOW)
    second = book.put(1, "second", NOW)
    assert book.why_gone(first.token) is Gone.REPLACED
    assert book.take(second.token, 1, NOW) == second
    assert book.take(second.token, 1, NOW) is None  # a second press
    assert book.why_gone(second.token) is Gone.DONE
    third = book.put(1, "third", NOW)
    assert book.get(third.token, 1, NOW + LIFETIME) is None
    assert book.why_gone(third.token) is Gone.EXPIRED
    assert book.why_gone("unknown, e.g. from before a restart") is Gone.EXPIRED
