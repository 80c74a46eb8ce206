"""Pacing direct messages so a burst never looks like spam to Discord.

Discord's published rate limits are enforced with 429 responses that discord.py waits
out, but DMs have a second, unpublished anti-spam limit: a bot that opens many DMs in a
short time can be flagged, and its DMs then quietly fail. A session's reminders can
produce exactly such a burst (a restart after an outage sends every overdue reminder at
once), so every DM goes through one `Pacer`.

The pacer is a token bucket: up to `burst` messages may go out back to back, after which
they go out at `rate` per second. Rules decided here (tested in tests/kernel/test_pacing.py):

- First come, first served: callers get their turn in the order they called `run`, so a
  DM is never overtaken and starved by later ones.
- Nothing is dropped. A message that has to wait, waits; it is the caller's business to
  give up (cancel) if it no longer wants to send. A cancelled caller leaves the queue
  without using up a token, so the next caller takes its place.
- At most `burst` sends run at the same time. The bucket limits how fast sends *start*;
  if Discord slows down (discord.py sleeping out a 429 inside a send), starting more
  would only pile them up, so a slow send holds back the next.
- An exception from a send is its caller's alone: it propagates from that `run` call and
  the pacer carries on with the next caller.

Time is injected (`monotonic`, `sleep`) so tests run a burst of hundreds of messages
instantly on a fake clock. `stats` tells a benchmark how long messages waited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

T = TypeVar("T")

DEFAULT_RATE: Final = 1.0  # messages per second once the burst is spent
DEFAULT_BURST: Final = 5


@dataclass(frozen=True)
class PacerStats:
    """What a pacer has done so far; waits are in seconds of its `monotonic` clock.

    A wait runs from the call to `run` until the send starts. Cancelled callers that
    never got their turn are not counted.
    """

    sent: int  # sends that returned normally
    failed: int  # sends that raised (or were cancelled while sending)
    waiting: int  # callers queued for their turn right now
    in_flight: int  # sends running right now
    total_wait: float
    max_wait: float

    @property
    def started(self) -> int:
        """Sends that got their turn, whatever their outcome (or still running)."""
        return self.sent + self.failed + self.in_flight

    @property
    def mean_wait(self) -> float:
        """Average wait of the sends that got their turn; 0.0 before the first."""
        return self.total_wait / self.started if self.started else 0.0


class Pacer:
    """A first-come, first-served token bucket for outgoing messages.

    Used as ``message = await pacer.run(lambda: member.send(text))``. `run` takes a
    zero-argument callable rather than an awaitable so that nothing is started (no
    request built, no coroutine created and left unawaited) until the caller's turn.
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:  # also refuses NaN
            raise ValueError(f"rate must be a positive number of messages per second: {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1: {burst}")
        self.rate: Final = rate
        self.burst: Final = burst
        self._interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        # asyncio.Lock is documented as fair: waiters acquire it in the order they asked,
        # which is what makes the queue first come, first served.
        self._turn = asyncio.Lock()
        self._slot_freed = asyncio.Event()
        # The bucket as a "theoretical arrival time" (GCRA): the moment the bucket would
        # be full again. A send may start once now >= _full_at - (burst - 1) * interval.
        # One number instead of a token count and a refill time: no drift from adding up
        # fractional tokens, and an idle pacer needs no timer to refill.
        self._full_at: float | None = None
        self._waiting = 0
        self._in_flight = 0
        self._sent = 0
        self._failed = 0
        self._total_wait = 0.0
        self._max_wait = 0.0

    @property
    def stats(self) -> PacerStats:
        """A snapshot of the counters (see `PacerStats`)."""
        return PacerStats(
            sent=self._sent,
            failed=self._failed,
            waiting=self._waiting,
            in_flight=self._in_flight,
            total_wait=self._total_wait,
            max_wait=self._max_wait,
        )

    async def run(self, send: Callable[[], Awaitable[T]]) -> T:
        """Wait for this caller's turn, then call `send` and return what it returns.

        Whatever `send` raises is raised here and affects no other caller. Cancelling
        the caller while it waits gives its place to the next one.
        """
        called_at = self._monotonic()
        self._waiting += 1
        try:
            async with self._turn:
                await self._wait_for_room()
                self._take_token()
        finally:
            self._waiting -= 1
        # No await between taking the token and counting the send in flight, so another
        # caller can never see the bucket and the in-flight count disagree.
        self._in_flight += 1
        self._record_wait(self._monotonic() - called_at)
        try:
            result = await send()
        except BaseException:
            self._failed += 1
            raise
        else:
            self._sent += 1
            return result
        finally:
            self._in_flight -= 1
            self._slot_freed.set()

    async def _wait_for_room(self) -> None:
        """Return once a send may start: a token is available and a slot is free.

        Only the caller holding `_turn` waits here, so there is a single sleeper.
        """
        while True:
            if self._in_flight >= self.burst:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            delay = self._next_start() - self._monotonic()
            if delay <= 0:
                return
            await self._sleep(delay)

    def _next_start(self) -> float:
        """The earliest moment the bucket has a token for the next send."""
        if self._full_at is None:
            return float("-inf")
        return self._full_at - (self.burst - 1) * self._interval

    def _take_token(self) -> None:
        now = self._monotonic()
        full_at = now if self._full_at is None else max(self._full_at, now)
        self._full_at = full_at + self._interval

    def _record_wait(self, wait: float) -> None:
        self._total_wait += wait
        self._max_wait = max(self._max_wait, wait)


__all__ = ["DEFAULT_BURST", "DEFAULT_RATE", "Pacer", "PacerStats"]
