"""Discord's rate limits, enforced by the double when a test or benchmark turns them on.

Off by default (``RestApi.rate_limits.enabled``), so the other tests pay nothing. On, it
answers as Discord does (https://discord.com/developers/docs/topics/rate-limits):

- **Global**: ``global_limit`` requests per ``global_per`` seconds (Discord: 50 per
  second) for everything sent with the bot's token. Interaction callbacks and the other
  routes authorised by a token in their path (follow-ups, webhooks) are not bound by it,
  as on Discord. Modelled as a token bucket (GCRA): a burst of ``global_limit``, then one
  request every ``global_per / global_limit`` seconds.
- **Per route**: a bucket per route and major parameter (the channel, the guild, or the
  webhook and its token), ``limit`` requests per window of ``per`` seconds from the
  bucket's first request (Discord: 5 messages per 5 s in a channel). ``ROUTE_LIMITS`` lists
  the buckets; a route without one is bound only by the global limit.
- A request that a bucket admits gets ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``,
  ``-Reset-After`` and ``-Bucket`` headers (on routes that have a bucket), which is how
  discord.py learns to pace itself per route. Discord publishes no headers for the global
  limit: a client that keeps under it counts for itself.
- One that exceeds a limit is not carried out: 429 with Discord's body
  (``{"message", "retry_after", "global", "code"}``), ``Retry-After``,
  ``X-RateLimit-Scope`` (``user`` per route, ``global``) and, for the global limit,
  ``X-RateLimit-Global: true``. Every answer carries ``Via: 1.1 google`` like Discord's:
  discord.py takes a 429 without it for a Cloudflare ban.

Every admitted request is counted and every refused one recorded (``refused``), so a
test can assert "no 429" and a benchmark can compare a burst with ``floor(n)``, the
shortest time the global limit allows for ``n`` requests sent at once.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .rules import DiscordError
from .spec import RouteMatch

GLOBAL_LIMIT = 50
GLOBAL_PER = 1.0
VIA = "1.1 google"  # as on Discord's own answers (see the module's docstring)
RATE_LIMITED_MESSAGE = "You are being rate limited."


@dataclass(frozen=True)
class RouteLimit:
    """``limit`` requests per ``per`` seconds, per value of the route's ``major``
    parameters."""

    limit: int
    per: float
    major: tuple[str, ...]


CHANNEL_MESSAGES = "/channels/{channel_id}/messages"
ROUTE_LIMITS: dict[tuple[str, str], RouteLimit] = {
    ("POST", CHANNEL_MESSAGES): RouteLimit(5, 5.0, ("channel_id",)),
    ("PATCH", CHANNEL_MESSAGES + "/{message_id}"): RouteLimit(5, 5.0, ("channel_id",)),
    ("DELETE", CHANNEL_MESSAGES + "/{message_id}"): RouteLimit(5, 5.0, ("channel_id",)),
    ("POST", "/users/@me/channels"): RouteLimit(5, 5.0, ()),
    ("POST", "/guilds/{guild_id}/scheduled-events"): RouteLimit(5, 5.0, ("guild_id",)),
    ("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"): RouteLimit(
        5, 5.0, ("guild_id",)
    ),
}
"""Buckets per route (method, OpenAPI path template). Discord tells its real values only
in its headers; these are the commonly observed ones."""


class RateLimited(DiscordError):
    """A 429 answer: its body and headers are Discord's."""

    def __init__(self, retry_after: float, *, is_global: bool, headers: dict[str, str]) -> None:
        super().__init__(429, 0, RATE_LIMITED_MESSAGE, problem=False)
        self.retry_after = retry_after
        self.is_global = is_global
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retry_after": self.retry_after, "global": self.is_global}


@dataclass
class _Window:
    """A route bucket's current window: opened by its first request."""

    opened_at: float
    used: int = 0


@dataclass(frozen=True)
class Refusal:
    """A request the limits refused: when, what, and which limit."""

    at: float
    method: str
    path: str
    is_global: bool


@dataclass(eq=False)
class RateLimits:
    """The limits in force; ``admit`` is called for every request the double receives."""

    clock: Callable[[], float] = time.monotonic
    enabled: bool = False
    global_limit: int = GLOBAL_LIMIT
    global_per: float = GLOBAL_PER
    routes: Mapping[tuple[str, str], RouteLimit] = field(default_factory=lambda: ROUTE_LIMITS)
    admitted: int = 0
    """Requests bound by the global limit that it admitted."""
    refused: list[Refusal] = field(default_factory=list)
    _full_at: float | None = None
    """GCRA: when the global bucket would be full again (None: it is full now)."""
    _windows: dict[str, _Window] = field(default_factory=dict)

    def enable(self, *, global_limit: int = GLOBAL_LIMIT, global_per: float = GLOBAL_PER) -> None:
        if global_limit < 1 or not global_per > 0:
            raise ValueError("a limit needs at least one request in a positive time")
        self.enabled, self.global_limit, self.global_per = True, global_limit, global_per

    def disable(self) -> None:
        self.enabled = False

    @property
    def interval(self) -> float:
        """Seconds between two requests once the global burst is spent."""
        return self.global_per / self.global_limit

    def floor(self, requests: int) -> float:
        """The shortest time in which the global limit lets `requests` requests sent at
        once through: the burst at once, then one per `interval`."""
        return max(0, requests - self.global_limit) * self.interval

    def admit(self, method: str, route: RouteMatch) -> dict[str, str]:
        """Count the request against its limits. Returns the headers for its answer;
        raises `RateLimited` (answered 429, not carried out, nothing counted) when a
        limit is exceeded."""
        if not self.enabled:
            return {}
        now = self.clock()
        path = route.template.format_map(_Kept(route.params))
        limit = self.routes.get((method, route.template))
        window, headers = None, {"Via": VIA}
        if limit is not None:
            window, headers = self._route_window(now, method, route, limit)
            if window.used >= limit.limit:
                self.refused.append(Refusal(now, method, path, is_global=False))
                retry_after = float(headers["X-RateLimit-Reset-After"])
                raise RateLimited(
                    retry_after,
                    is_global=False,
                    headers={
                        **headers,
                        "X-RateLimit-Remaining": "0",
                        "Retry-After": str(math.ceil(retry_after)),
                        "X-RateLimit-Scope": "user",
                    },
                )
        if _bot_token(route):
            self._take_global(now, method, path)
        if limit is not None and window is not None:
            window.used += 1
            headers["X-RateLimit-Remaining"] = str(limit.limit - window.used)
        return headers

    def _take_global(self, now: float, method: str, path: str) -> None:
        interval = self.interval
        full_at = now if self._full_at is None else max(self._full_at, now)
        # Admitted while the bucket holds a token: its "full again" time stays within
        # the burst's worth of intervals ahead of now.
        earliest = full_at - (self.global_limit - 1) * interval
        if earliest > now + 1e-9:
            retry_after = earliest - now
            self.refused.append(Refusal(now, method, path, is_global=True))
            raise RateLimited(
                round(retry_after, 3),
                is_global=True,
                headers={
                    "Via": VIA,
                    "Retry-After": str(math.ceil(retry_after)),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                },
            )
        self._full_at = full_at + interval
        self.admitted += 1

    def _route_window(
        self, now: float, method: str, route: RouteMatch, limit: RouteLimit
    ) -> tuple[_Window, dict[str, str]]:
        """The route bucket's window now (a new one once the last has passed), and the
        headers that describe it (all but the remaining count)."""
        bucket = _bucket_hash(method, route.template)
        key = ":".join([bucket, *(route.params.get(name, "") for name in limit.major)])
        window = self._windows.get(key)
        if window is None or now >= window.opened_at + limit.per:
            window = self._windows[key] = _Window(now)
        # Rounded up to the millisecond: a client that waits what it is told never comes
        # back before the window has passed.
        reset_after = math.ceil(max(window.opened_at + limit.per - now, 0.0) * 1000) / 1000
        return window, {
            "Via": VIA,
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }


def _bot_token(route: RouteMatch) -> bool:
    """Whether the route is authorised by the bot's token (interaction callbacks and
    webhook routes carry a token in their path instead, and are not globally limited)."""
    security = [] if route.operation is None else route.operation.get("security", [])
    return {} not in security


def headers_of(error: DiscordError) -> dict[str, str]:
    """The headers of an error answer: a 429's own, none for the others."""
    return dict(error.headers) if isinstance(error, RateLimited) else {}


def _bucket_hash(method: str, template: str) -> str:
    """An opaque bucket id per route, as Discord's ``X-RateLimit-Bucket``."""
    return hashlib.blake2b(f"{method} {template}".encode(), digest_size=8).hexdigest()


class _Kept(dict[str, str]):
    """Formats a path template, keeping the placeholders it has no value for."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
