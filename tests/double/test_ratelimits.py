"""The double's model of Discord's rate limits (`tests/double/ratelimits.py`).

The model alone runs on a fake clock; against the double, a plain discord.py client
checks what Discord's limits mean for a bot: it paces itself per route from the headers,
and is answered 429 (then retries) when it exceeds the global limit. No timing is
asserted, only what was admitted, refused and delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from tests.double import DiscordDouble
from tests.double.ratelimits import (
    CHANNEL_MESSAGES,
    ROUTE_LIMITS,
    RateLimited,
    RateLimits,
    RouteLimit,
)
from tests.double.spec import RouteMatch

MESSAGES_ROUTE = ("POST", CHANNEL_MESSAGES)
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def message_route(channel_id: int) -> RouteMatch:
    return RouteMatch(
        CHANNEL_MESSAGES, {"channel_id": str(channel_id)}, {"security": [{"BotToken": []}]}
    )


def callback_route() -> RouteMatch:
    # Interaction callbacks are authorised by the token in their path: security [{}].
    return RouteMatch(
        CALLBACK, {"interaction_id": "1", "interaction_token": "t"}, {"security": [{}]}
    )


def limits(clock: FakeClock, *, per_second: int = 50) -> RateLimits:
    model = RateLimits(clock)
    model.enable(global_limit=per_second)
    return model


def test_off_by_default_counts_nothing() -> None:
    model = RateLimits(FakeClock())
    for _ in range(500):
        assert model.admit("POST", message_route(1)) == {}
    assert model.admitted == 0
    assert model.refused == []


def test_the_global_limit_allows_a_burst_then_one_request_per_interval() -> None:
    clock = FakeClock()
    model = limits(clock, per_second=10)  # Discord's is 50; 10 keeps the numbers short
    for channel in range(10):  # one per channel: no route bucket is exhausted
        model.admit("POST", message_route(channel))
    with pytest.raises(RateLimited) as refused:
        model.admit("POST", message_route(99))
    assert refused.value.status == 429
    assert refused.value.body() == {
        "code": 0,
        "message": "You are being rate limited.",
        "retry_after": pytest.approx(0.1),
        "global": True,
    }
    assert refused.value.headers["X-RateLimit-Global"] == "true"
    assert refused.value.headers["X-RateLimit-Scope"] == "global"
    assert refused.value.headers["Via"] == "1.1 google"  # discord.py retries only then
    clock.now += 0.1
    model.admit("POST", message_route(99))  # one interval later, one more
    with pytest.raises(RateLimited):
        model.admit("POST", message_route(100))
    assert model.admitted == 11
    assert [(r.path, r.is_global) for r in model.refused] == [
        ("/channels/99/messages", True),
        ("/channels/100/messages", True),
    ]


def test_an_idle_bot_gets_its_whole_burst_back() -> None:
    clock = FakeClock()
    model = limits(clock, per_second=10)
    for channel in range(10):
        model.admit("POST", message_route(channel))
    clock.now += 1.0
    for channel in range(10, 20):
        model.admit("POST", message_route(channel))
    assert model.refused == []


def test_the_floor_is_the_burst_then_the_rate() -> None:
    model = limits(FakeClock())
    assert model.floor(50) == 0
    assert model.floor(1_000) == pytest.approx(19.0)  # 950 more at 50 a second


def test_a_channel_takes_five_messages_per_five_seconds_with_headers() -> None:
    clock = FakeClock()
    model = limits(clock)
    remaining = [model.admit("POST", message_route(7))["X-RateLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    with pytest.raises(RateLimited) as refused:
        model.admit("POST", message_route(7))
    headers = refused.value.headers
    assert refused.value.body()["global"] is False
    assert headers["X-RateLimit-Scope"] == "user"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert float(headers["X-RateLimit-Reset-After"]) == pytest.approx(5.0)
    assert headers["X-RateLimit-Limit"] == "5"
    model.admit("POST", message_route(8))  # another channel has its own bucket
    clock.now += 5.0
    assert model.admit("POST", message_route(7))["X-RateLimit-Remaining"] == "4"


def test_a_refused_request_uses_up_nothing() -> None:
    clock = FakeClock()
    model = limits(clock, per_second=6)
    for _ in range(5):
        model.admit("POST", message_route(7))
    for _ in range(3):  # the channel's bucket refuses: the global bucket keeps its token
        with pytest.raises(RateLimited):
            model.admit("POST", message_route(7))
    model.admit("POST", message_route(8))
    assert model.admitted == 6


def test_interaction_callbacks_are_not_bound_by_the_global_limit() -> None:
    clock = FakeClock()
    model = limits(clock, per_second=2)
    for _ in range(20):
        assert model.admit("POST", callback_route()) == {"Via": "1.1 google"}
    assert model.admitted == 0
    assert model.refused == []


# -- against the double, with a plain discord.py client --------------------------------------


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as double:
        yield double
        double.assert_no_errors()  # the 429 answers match Discord's description too


def client() -> discord.Client:
    intents = discord.Intents.none()
    intents.guilds = True
    return discord.Client(intents=intents, guild_ready_timeout=0.05)


async def send_all(bot: discord.Client, channel_id: int, count: int) -> list[discord.Message]:
    channel = bot.get_partial_messageable(channel_id)
    none = discord.AllowedMentions.none()
    sends: list[Any] = [channel.send(f"message {n}", allowed_mentions=none) for n in range(count)]
    return list(await asyncio.gather(*sends))


async def test_discord_py_paces_itself_by_the_route_headers(double: DiscordDouble) -> None:
    guild = double.add_guild("Clinic")
    channel = double.add_channel(guild, "general")
    # A short window, so that the client's wait for it stays short.
    double.rest.rate_limits.routes = {
        **ROUTE_LIMITS,
        MESSAGES_ROUTE: RouteLimit(2, 0.2, ("channel_id",)),
    }
    double.rest.rate_limits.enable()
    async with double.run_client(client()) as bot:
        # One after the other: discord.py counts what a bucket has left from each
        # answer's headers, and several sends in flight at once on one bucket can
        # overrun it (on Discord too).
        for _ in range(6):
            await send_all(bot, channel.id, 1)
    assert len(double.messages(channel)) == 6
    assert double.rest.rate_limits.refused == []  # waited when told, never answered 429


async def test_past_the_global_limit_discord_answers_429_and_discord_py_retries(
    double: DiscordDouble,
) -> None:
    guild = double.add_guild("Clinic")
    channels = [double.add_channel(guild, f"c{n}") for n in range(6)]
    model = double.rest.rate_limits
    # 20 a second, in bursts of 4: 6 at once go over (few enough that discord.py's five
    # tries are enough for each)
    model.enable(global_limit=4, global_per=0.2)
    async with double.run_client(client()) as bot:
        await asyncio.gather(*(send_all(bot, c.id, 1) for c in channels))
    assert all(len(double.messages(c)) == 1 for c in channels)  # nothing lost
    refused = [r for r in model.refused if r.path.startswith("/channels/")]
    assert refused  # some were answered 429
    assert all(r.is_global for r in refused)
    answered_429 = [r for r in double.requests if r.status == 429]
    assert len(answered_429) == len(model.refused)
