"""The one source of time.

Everything that needs "now" asks a `Clock`. Production uses `SystemClock`; tests use
`ManualClock`, which only moves when told to and tells its listeners (the scheduler)
so that time-driven work runs without waiting in real time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the clock jumps (never, for a real clock)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def on_change(self, listener: Callable[[], None]) -> None:
        # Real time never jumps; timers armed against it stay valid.
        return None


class ManualClock:
    """A clock for tests: starts at a given instant and moves only when told."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = instant.astimezone(UTC)
        for listener in list(self._listeners):
            listener()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)


def require_aware(instant: datetime) -> datetime:
    """Reject naive datetimes: they would silently be read in the host's time zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime; every instant in this project is aware")
    return instant


def to_unix(instant: datetime) -> int:
    """Whole seconds since the epoch; how instants are stored in the database."""
    return int(require_aware(instant).timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


__all__ = ["Clock", "ManualClock", "SystemClock", "from_unix", "require_aware", "to_unix"]
