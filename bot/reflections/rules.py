"""The anonymity rules of reflections, as plain functions.

- One reflection per member per session, found (while the window is open) by an HMAC of
  the member and the session under a per-session secret. Once the secret is destroyed at
  the close, nothing computes the tag again: not the leaders, not whoever holds the
  database and the key file.
- A batch is released only when at least the threshold (never below 3) came in, in an
  order drawn at random (not the order of writing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from bot.kernel.errors import Refusal

TEXT_LIMIT: Final = 1000
MIN_THRESHOLD: Final = 3
SECRET_BYTES: Final = 32
KEY_BYTES: Final = 16
_shuffler = random.SystemRandom()


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def new_key() -> bytes:
    """A reflection's primary key: random, so it says nothing of when it was written."""
    return secrets.token_bytes(KEY_BYTES)


def author_tag(secret: bytes, member_id: int, session_id: int) -> bytes:
    return hmac.new(
        secret, f"reflection|{session_id}|{member_id}".encode(), hashlib.sha256
    ).digest()


def secret_context(group_id: int, session_id: int) -> bytes:
    return f"balint reflection secret v1|group={group_id}|session={session_id}".encode()


def text_context(group_id: int, session_id: int) -> bytes:
    """A reflection is bound to its group and session (not to its author)."""
    return f"balint reflection v1|group={group_id}|session={session_id}".encode()


# Every sealed reflection has this many bytes of plaintext (JSON padded with spaces): 1,000
# characters escape to at most 6,000 bytes, so no text can make its row stand out by size.
PAYLOAD_BYTES: Final = 6144


def sealed_payload(text: str, rating: int | None) -> str:
    """The text and the rating as one fixed-size plaintext to encrypt: neither a rating
    nor a length is visible in the database."""
    body = json.dumps({"text": text, "rating": rating}, ensure_ascii=False)
    size = len(body.encode("utf-8"))
    if size > PAYLOAD_BYTES:
        raise ValueError("a checked reflection always fits the payload")
    return body + " " * (PAYLOAD_BYTES - size)


def opened_payload(payload: str) -> tuple[str, int | None]:
    data = json.loads(payload)
    rating = data.get("rating")
    return str(data["text"]), int(rating) if isinstance(rating, int) else None


def checked_text(text: str) -> str:
    reflection = text.strip()
    if not reflection:
        raise Refusal("There is nothing to send: write your reflection in words.")
    if len(reflection) > TEXT_LIMIT:
        raise Refusal(
            f"Your reflection is {len(reflection):,} characters long; the limit is "
            f"{TEXT_LIMIT:,}. Please shorten it. Nothing was kept."
        )
    return reflection


def parse_rating(text: str | None) -> int | None:
    """The optional 1 to 5 rating as typed in the form ("" for none)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value not in {"1", "2", "3", "4", "5"}:
        raise Refusal(
            "The rating is a whole number from 1 (not useful) to 5 (very useful), or "
            "empty; **{value}** is not one. Nothing was kept.",
            value=value,
        )
    return int(value)


def effective_threshold(configured: int) -> int:
    return max(MIN_THRESHOLD, configured)


def released(count: int, configured_threshold: int) -> bool:
    return count >= effective_threshold(configured_threshold)


def shuffled_positions(count: int) -> list[int]:
    """Positions 1..count in an order drawn by the system's random source."""
    positions = list(range(1, count + 1))
    _shuffler.shuffle(positions)
    return positions


def mean_rating(ratings: Sequence[int | None]) -> float | None:
    given = [r for r in ratings if r is not None]
    return round(sum(given) / len(given), 1) if given else None


def closes_at(session_ends_at: datetime, window: timedelta) -> datetime:
    return session_ends_at + window
