"""Refusals quote user text only through placeholders, shortened in one place."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.errors import QUOTE_LIMIT, Refusal, shorten
from bot.kernel.zones import InvalidTimeZone, SchedulingError
from bot.sessions.recurrence import MalformedLocalStart


def test_a_refusal_without_quotes_is_its_message_even_with_braces() -> None:
    refusal = Refusal("Use `{like this}` literally.")
    assert refusal.render(str.upper) == "Use `{like this}` literally."


def test_quoted_text_is_shortened_then_escaped() -> None:
    refusal = Refusal("No group called **{name}** here.", name="x" * 500)
    shown = refusal.render(lambda text: f"<{text}>")
    assert shown == "No group called **<" + "x" * (QUOTE_LIMIT - 1) + "…>** here."


@given(st.text(max_size=5000))
def test_shorten_never_exceeds_the_limit_and_keeps_short_text(text: str) -> None:
    cut = shorten(text)
    assert len(cut) <= QUOTE_LIMIT
    if len(text) <= QUOTE_LIMIT:
        assert cut == text
    else:
        assert cut.endswith("…")
        assert text.startswith(cut[:-1])


def test_scheduling_errors_are_refusals_that_quote_what_was_typed() -> None:
    typed = "2026-12-01 **7pm** @everyone " + "!" * 3000
    error = MalformedLocalStart(typed)
    assert isinstance(error, Refusal)
    assert isinstance(error, SchedulingError)
    assert error.quoted == {"text": typed}
    assert len(error.render(str)) < 300
    zone = InvalidTimeZone("Europe/Londn", ("Europe/London",))
    assert zone.render(str).startswith("**Europe/Londn** is not a time zone I know.")
