"""The DM pacer: token-bucket timing, FIFO order, failures, cancellation, concurrency.

Two fake time sources keep these tests instant:

- `FakeClock` is the pacer's injected `monotonic`/`sleep`: a sleep moves the clock on by
  exactly what was asked. That is only a faithful model while one coroutine sleeps at a
  time, which holds for the pacer itself (only the caller whose turn it is sleeps) as
  long as the sends and callers do not sleep.
- `VirtualTimeLoop` is an event loop whose clock jumps straight to the next timer
  whenever nothing is ready to run, so any number of coroutines may sleep (slow sends,
  callers arriving at different times). The pacer is given ``loop.time`` and the real
  ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kernel.pacing import DEFAULT_BURST, DEFAULT_RATE, Pacer, PacerStats

T = TypeVar("T")
EPSILON = 1e-6


class FakeClock:
    """Monotonic time that moves only when the pacer sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        # Let the tasks that are ready run first, as they would during a real sleep, and
        # only then move time on: callers that arrived "now" are stamped with now.
        await asyncio.sleep(0)
        self.now += max(seconds, 0.0)

    def pacer(self, rate: float = 1.0, burst: int = 5) -> Pacer:
        return Pacer(rate, burst, monotonic=self.monotonic, sleep=self.sleep)


class _JumpingSelector(selectors.DefaultSelector):
    """Instead of blocking until the next timer, move the loop's clock to it."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: every task is waiting and no timer is set")
        self._loop.virtual_now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def virtual_pacer(rate: float = 1.0, burst: int = 5) -> Pacer:
    """A pacer on the running `VirtualTimeLoop`'s clock and the real asyncio.sleep."""
    return Pacer(rate, burst, monotonic=asyncio.get_running_loop().time)


def recorder(
    log: list[tuple[int, float]], index: int, now: Callable[[], float]
) -> Callable[[], Awaitable[int]]:
    async def send() -> int:
        log.append((index, now()))
        return index

    return send


def assert_conforms_to_bucket(times: list[float], rate: float, burst: int) -> None:
    """Any run of sends from the i-th to the j-th fits in one bucket: at most `burst`
    plus what refilled between them."""
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= burst + rate * (times[j] - times[i]) + EPSILON, (i, j)


# --- timing of a burst -----------------------------------------------------------------


async def test_burst_of_200_goes_out_burst_first_then_at_rate() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1.0, burst=5)
    log: list[tuple[int, float]] = []

    results = await asyncio.gather(
        *(pacer.run(recorder(log, index, clock.monotonic)) for index in range(200))
    )

    assert results == list(range(200))  # every caller got its own send's value
    assert [index for index, _ in log] == list(range(200))  # FIFO, none dropped
    offsets = [at - 1000.0 for _, at in log]
    assert offsets == [0.0] * 5 + [float(n) for n in range(1, 196)]
    assert_conforms_to_bucket(offsets, 1.0, 5)
    assert pacer.stats == PacerStats(
        sent=200, failed=0, waiting=0, in_flight=0, total_wait=sum(offsets), max_wait=195.0
    )
    assert pacer.stats.mean_wait == pytest.approx(sum(offsets) / 200)
    # The pacer slept once per throttled send, exactly as long as needed.
    assert clock.sleeps == [1.0] * 195


async def test_burst_at_a_fractional_rate() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=3.0, burst=2)
    log: list[tuple[int, float]] = []
    await asyncio.gather(*(pacer.run(recorder(log, index, clock.monotonic)) for index in range(30)))
    offsets = [at - 1000.0 for _, at in log]
    expected = [0.0, 0.0] + [n / 3 for n in range(1, 29)]
    assert offsets == pytest.approx(expected, abs=EPSILON)
    assert_conforms_to_bucket(offsets, 3.0, 2)


async def test_burst_of_one_is_strictly_spaced() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=0.5, burst=1)
    log: list[tuple[int, float]] = []
    await asyncio.gather(*(pacer.run(recorder(log, index, clock.monotonic)) for index in range(4)))
    assert [at - 1000.0 for _, at in log] == [0.0, 2.0, 4.0, 6.0]


async def test_an_idle_pacer_refills_to_the_burst_and_no_further() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1.0, burst=5)
    log: list[tuple[int, float]] = []
    await asyncio.gather(*(pacer.run(recorder(log, index, clock.monotonic)) for index in range(5)))
    clock.now += 3600.0  # an hour of quiet refills the bucket, but only to 5
    await asyncio.gather(
        *(pacer.run(recorder(log, index, clock.monotonic)) for index in range(5, 12))
    )
    later = [at - 4600.0 for _, at in log[5:]]
    assert later == [0.0] * 5 + [1.0, 2.0]


async def test_a_partly_refilled_bucket_allows_what_has_refilled() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1.0, burst=5)
    log: list[tuple[int, float]] = []
    await asyncio.gather(*(pacer.run(recorder(log, index, clock.monotonic)) for index in range(5)))
    clock.now += 2.5  # two and a half tokens back
    await asyncio.gather(
        *(pacer.run(recorder(log, index, clock.monotonic)) for index in range(5, 9))
    )
    assert [at - 1002.5 for _, at in log[5:]] == [0.0, 0.0, 0.5, 1.5]


async def test_defaults_use_real_time() -> None:
    pacer = Pacer()
    assert (pacer.rate, pacer.burst) == (DEFAULT_RATE, DEFAULT_BURST)
    log: list[tuple[int, float]] = []
    # Within the burst nothing waits, so this is instant on the real clock too.
    await asyncio.gather(*(pacer.run(recorder(log, index, lambda: 0.0)) for index in range(5)))
    assert [index for index, _ in log] == list(range(5))
    assert pacer.stats.max_wait < 1.0


@pytest.mark.parametrize(
    ("rate", "burst"), [(0.0, 5), (-1.0, 5), (math.nan, 5), (1.0, 0), (1.0, -3)]
)
def test_nonsense_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"rate|burst"):
        Pacer(rate, burst)


# --- failures --------------------------------------------------------------------------


class SendFailed(Exception):
    pass


async def test_an_exception_reaches_its_caller_only() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1.0, burst=2)
    log: list[tuple[int, float]] = []

    async def failing() -> int:
        log.append((-1, clock.now))
        raise SendFailed("Cannot send messages to this user")

    sends = [recorder(log, 0, clock.monotonic), failing, recorder(log, 2, clock.monotonic)]
    sends += [recorder(log, index, clock.monotonic) for index in range(3, 6)]
    outcomes = await asyncio.gather(*(pacer.run(send) for send in sends), return_exceptions=True)

    assert isinstance(outcomes[1], SendFailed)
    assert [outcome for position, outcome in enumerate(outcomes) if position != 1] == [
        0,
        2,
        3,
        4,
        5,
    ]
    # The failed send used its token (Discord saw the attempt); the rest keep their pace.
    assert [at - 1000.0 for _, at in log] == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    stats = pacer.stats
    assert (stats.sent, stats.failed, stats.in_flight, stats.waiting) == (5, 1, 0, 0)


async def test_the_pacer_keeps_working_after_a_failure() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1.0, burst=1)

    async def failing() -> None:
        raise SendFailed

    with pytest.raises(SendFailed):
        await pacer.run(failing)

    async def succeeding() -> str:
        return "sent"

    assert await pacer.run(succeeding) == "sent"
    assert clock.now == 1001.0
    assert (pacer.stats.sent, pacer.stats.failed) == (1, 1)


# --- concurrency -----------------------------------------------------------------------


async def test_no_more_than_burst_sends_run_at_once() -> None:
    clock = FakeClock()
    pacer = clock.pacer(rate=1000.0, burst=3)
    release = [asyncio.Event() for _ in range(6)]
    started: list[int] = []

    def blocking(index: int) -> Callable[[], Awaitable[int]]:
        async def send() -> int:
            started.append(index)
            await release[index].wait()
            return index

        return send

    tasks = [asyncio.create_task(pacer.run(blocking(index))) for index in range(6)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert started == [0, 1, 2]
    assert (pacer.stats.in_flight, pacer.stats.waiting) == (3, 3)

    release[1].set()  # one finishes, so exactly one more may start
    for _ in range(20):
        await asyncio.sleep(0)
    assert started == [0, 1, 2, 3]

    for event in release:
        event.set()
    assert await asyncio.gather(*tasks) == list(range(6))
    assert pacer.stats.in_flight == 0


def test_slow_sends_never_overlap_beyond_the_burst() -> None:
    async def main() -> tuple[list[float], int]:
        loop = asyncio.get_running_loop()
        pacer = virtual_pacer(rate=100.0, burst=4)
        running = 0
        most = 0
        starts: list[float] = []

        async def slow() -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            starts.append(loop.time())
            await asyncio.sleep(10.0)  # Discord slowing down, e.g. a 429 waited out
            running -= 1

        await asyncio.gather(*(pacer.run(slow) for _ in range(12)))
        return starts, most

    starts, most = run_virtual(main)
    assert most == 4
    # Four at once, then the next four as soon as those finish (tokens have long refilled).
    assert starts == pytest.approx([0.0] * 4 + [10.0] * 4 + [20.0] * 4, abs=EPSILON)


# --- cancellation ----------------------------------------------------------------------


def test_cancelling_the_caller_whose_turn_is_next_gives_the_turn_on() -> None:
    async def main() -> tuple[list[tuple[int, float]], PacerStats, bool]:
        loop = asyncio.get_running_loop()
        pacer = virtual_pacer(rate=1.0, burst=5)
        log: list[tuple[int, float]] = []
        tasks = [asyncio.create_task(pacer.run(recorder(log, i, loop.time))) for i in range(7)]
        await asyncio.sleep(0.5)  # five sent; #5 sleeps for its token, #6 queues behind
        tasks[5].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return log, pacer.stats, tasks[5].cancelled()

    log, stats, cancelled = run_virtual(main)
    assert cancelled
    assert log == [(0, 0.0), (1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0), (6, pytest.approx(1.0))]
    assert (stats.sent, stats.failed, stats.waiting, stats.in_flight) == (6, 0, 0, 0)


def test_cancelling_a_caller_further_back_frees_its_place() -> None:
    async def main() -> list[tuple[int, float]]:
        loop = asyncio.get_running_loop()
        pacer = virtual_pacer(rate=1.0, burst=5)
        log: list[tuple[int, float]] = []
        tasks = [asyncio.create_task(pacer.run(recorder(log, i, loop.time))) for i in range(9)]
        await asyncio.sleep(0.5)
        tasks[6].cancel()  # queued behind #5, which is waiting for its token
        await asyncio.gather(*tasks, return_exceptions=True)
        return log

    log = run_virtual(main)
    assert [index for index, _ in log] == [0, 1, 2, 3, 4, 5, 7, 8]
    assert [at for _, at in log] == pytest.approx([0.0] * 5 + [1.0, 2.0, 3.0], abs=EPSILON)


def test_cancelling_a_send_in_progress_frees_its_slot() -> None:
    async def main() -> tuple[list[float], PacerStats]:
        loop = asyncio.get_running_loop()
        pacer = virtual_pacer(rate=100.0, burst=1)
        starts: list[float] = []

        async def slow() -> None:
            starts.append(loop.time())
            await asyncio.sleep(60.0)

        async def quick() -> None:
            starts.append(loop.time())

        stuck = asyncio.create_task(pacer.run(slow))
        waiting = asyncio.create_task(pacer.run(quick))
        await asyncio.sleep(5.0)
        stuck.cancel()
        await asyncio.gather(stuck, waiting, return_exceptions=True)
        return starts, pacer.stats

    starts, stats = run_virtual(main)
    assert starts == pytest.approx([0.0, 5.0], abs=EPSILON)
    assert (stats.sent, stats.failed, stats.in_flight) == (1, 1, 0)


# --- properties ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([0.5, 1.0, 2.0, 3.0, 10.0]),
    burst=st.integers(min_value=1, max_value=6),
    arrivals=st.lists(
        st.integers(min_value=0, max_value=40).map(lambda tenths: tenths / 10), max_size=40
    ),
)
def test_fifo_nothing_dropped_within_the_bucket_and_no_needless_wait(
    rate: float, burst: int, arrivals: list[float]
) -> None:
    async def main() -> tuple[list[int], list[tuple[int, float]], PacerStats]:
        loop = asyncio.get_running_loop()
        pacer = virtual_pacer(rate, burst)
        entered: list[int] = []
        log: list[tuple[int, float]] = []

        async def caller(index: int, arrival: float) -> int:
            await asyncio.sleep(arrival)
            entered.append(index)
            return await pacer.run(recorder(log, index, loop.time))

        results = await asyncio.gather(*(caller(i, at) for i, at in enumerate(arrivals)))
        assert results == list(range(len(arrivals)))
        return entered, log, pacer.stats

    entered, log, stats = run_virtual(main)

    assert [index for index, _ in log] == entered  # first come, first served
    assert len(log) == len(arrivals) == stats.sent  # nothing dropped
    times = [at for _, at in log]
    assert_conforms_to_bucket(times, rate, burst)
    waits = []
    for position, (index, at) in enumerate(log):
        arrival = arrivals[index]
        assert at >= arrival - EPSILON
        waits.append(at - arrival)
        if at - arrival <= EPSILON or position == 0:
            continue
        # It waited: behind the one before it, or because the bucket was empty, i.e.
        # some run of sends ending with this one uses the bucket to the full.
        behind_previous = at - times[position - 1] <= EPSILON
        bucket_full = any(
            position - start + 1 >= burst + rate * (at - times[start]) - EPSILON
            for start in range(position)
        )
        assert behind_previous or bucket_full, (position, at)
    assert stats.max_wait == pytest.approx(max(waits, default=0.0), abs=EPSILON)
    assert stats.total_wait == pytest.approx(sum(waits), abs=EPSILON * max(len(waits), 1))
