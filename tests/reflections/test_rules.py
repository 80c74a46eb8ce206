"""The anonymity rules: tags, threshold, the random order, the mean, the checks."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.errors import Refusal
from bot.reflections import rules


@given(st.integers(min_value=1), st.integers(min_value=1), st.integers(min_value=1))
def test_a_tag_is_the_hmac_of_member_and_session(member: int, other: int, session: int) -> None:
    secret = rules.new_secret()
    tag = rules.author_tag(secret, member, session)
    expected = hmac.new(secret, f"reflection|{session}|{member}".encode(), hashlib.sha256)
    assert tag == expected.digest()
    assert (tag == rules.author_tag(secret, other, session)) == (member == other)
    assert tag != rules.author_tag(rules.new_secret(), member, session)  # a new secret


@given(st.integers(min_value=1, max_value=60))
def test_positions_are_a_permutation(count: int) -> None:
    assert sorted(rules.shuffled_positions(count)) == list(range(1, count + 1))


def test_the_order_is_not_the_order_of_writing() -> None:
    """Over many batches of four, each position takes each place about equally often."""
    first_places = Counter(rules.shuffled_positions(4)[0] for _ in range(4000))
    assert set(first_places) == {1, 2, 3, 4}
    assert all(800 <= n <= 1200 for n in first_places.values()), first_places


@pytest.mark.parametrize(
    ("count", "configured", "released"),
    [(3, 4, False), (4, 4, True), (2, 1, False), (3, 1, True), (5, 5, True)],
)
def test_the_threshold_is_never_below_three(count: int, configured: int, released: bool) -> None:
    assert rules.released(count, configured) is released


def test_the_mean_ignores_missing_ratings() -> None:
    assert rules.mean_rating([5, 4, None, 2]) == 3.7
    assert rules.mean_rating([None, None]) is None


@pytest.mark.parametrize("typed", ["0", "6", "3.5", "three", "-1", "1 2"])
def test_a_rating_outside_one_to_five_is_refused(typed: str) -> None:
    with pytest.raises(Refusal, match="from 1"):
        rules.parse_rating(typed)


@pytest.mark.parametrize(("typed", "value"), [("", None), ("  ", None), (None, None), (" 4 ", 4)])
def test_a_rating_may_be_left_out(typed: str | None, value: int | None) -> None:
    assert rules.parse_rating(typed) == value


def test_text_limits() -> None:
    assert rules.checked_text("  fine  ") == "fine"
    with pytest.raises(Refusal, match="nothing to send"):
        rules.checked_text(" \n ")
    with pytest.raises(Refusal, match="1,001 characters"):
        rules.checked_text("x" * 1001)


def test_keys_are_random() -> None:
    keys = [rules.new_key() for _ in range(200)]
    assert len(set(keys)) == 200
    assert keys != sorted(keys)
