"""Faults the double injects into its REST answers: Discord's 5xx and 429 answers.

A test adds rules to ``double.faults``; each request the double receives is checked against
them (after it was recorded, authenticated and validated, so the bot's request is still
checked), and the first rule that takes it answers instead of the route's handler::

    double.faults.add(503, route="/channels/{channel_id}/messages", times=2)
    double.faults.add(429, share=0.3, retry_after=0.05, seed=7)           # per route
    double.faults.add(429, share=0.1, retry_after=0.05, is_global=True)   # the global limit
    double.faults.add(500, route=..., applied=True)  # done, but the answer was lost

The answers are shaped as Discord's: 429 with the ``RatelimitedResponse`` body
(``retry_after``, ``global``) and its headers (``Retry-After``; per route
``X-RateLimit-Bucket``, ``X-RateLimit-Remaining: 0``, ``X-RateLimit-Reset-After`` and
``X-RateLimit-Scope: user``; global ``X-RateLimit-Global: true`` and
``X-RateLimit-Scope: global``); 5xx with an ``Error`` body. Every answer carries
``Via: 1.1 google`` as Discord's do: discord.py takes a 429 without it for a Cloudflare ban
and does not retry.

How discord.py reacts, which decides what a test costs: a 429 is retried after
``retry_after`` seconds (keep it small); 500, 502 and 504 are retried after 1, 3, 5, 7 s
(``asyncio.sleep(1 + tries * 2)``), so use few of them; 503 is not retried by the bot's HTTP
client (it raises ``DiscordServerError`` at once) but is by the interaction webhook client,
like every 5xx.

Every faulted request is recorded (``faulted``), so tests can count them.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .records import Request

SERVER_ERRORS = {
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}
RATE_LIMITED = 429
RATE_LIMITED_MESSAGE = "You are being rate limited."
ROUTE_LIMIT = 5
"""``X-RateLimit-Limit`` of a route's bucket (Discord: 5 messages per 5 s in a channel)."""
VIA = "1.1 google"


@dataclass(frozen=True)
class Fault:
    """One kind of faulty answer."""

    status: int
    retry_after: float = 0.05
    """429: seconds to wait (body ``retry_after``, header ``Retry-After`` rounded up)."""
    is_global: bool = False
    """429: the global rate limit rather than the route's bucket."""
    applied: bool = False
    """5xx: Discord carried the request out, but its answer was lost on the way back."""

    def __post_init__(self) -> None:
        if self.status != RATE_LIMITED and self.status not in SERVER_ERRORS:
            raise ValueError(
                f"the double injects 429 or {sorted(SERVER_ERRORS)}, not {self.status}"
            )
        if self.applied and self.status == RATE_LIMITED:
            raise ValueError("a rate-limited request is never carried out")
        if self.retry_after <= 0:
            raise ValueError("retry_after must be positive")

    def body(self) -> dict[str, Any]:
        if self.status == RATE_LIMITED:
            return {
                "code": 0,
                "message": RATE_LIMITED_MESSAGE,
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
        return {"code": 0, "message": SERVER_ERRORS[self.status]}

    def headers(self, bucket: str, now: datetime) -> dict[str, str]:
        headers = {"Via": VIA}
        if self.status != RATE_LIMITED:
            return headers
        headers["Retry-After"] = str(math.ceil(self.retry_after))
        if self.is_global:
            headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
            return headers
        headers.update(
            {
                "X-RateLimit-Limit": str(ROUTE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{now.timestamp() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": "user",
            }
        )
        return headers


@dataclass(eq=False)
class FaultRule:
    """Which requests get ``fault``: those matching ``method``, ``route`` (an OpenAPI path
    template) and ``where`` (path parameters), a ``share`` of them (seeded), at most
    ``times`` of them (None: until ``stop()``)."""

    fault: Fault
    method: str | None = None
    route: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)
    times: int | None = None
    share: float = 1.0
    seed: int = 0
    hits: int = 0
    stopped: bool = False
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError("share must be in (0, 1]")
        self._random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return not self.stopped and (self.times is None or self.hits < self.times)

    def stop(self) -> None:
        """Discord has recovered: this rule faults nothing more."""
        self.stopped = True

    def matches(self, method: str, route: str, params: Mapping[str, str]) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.route is not None and self.route != route:
            return False
        return all(params.get(name) == value for name, value in self.where.items())

    def takes(self, method: str, route: str, params: Mapping[str, str]) -> bool:
        """Whether this rule faults the request (and counts it if so)."""
        if not self.active or not self.matches(method, route, params):
            return False
        # Drawn for every matching request, so a seed gives the same sequence whatever
        # the other rules do.
        if self.share < 1 and self._random.random() >= self.share:
            return False
        self.hits += 1
        return True


@dataclass(eq=False)
class FaultedRequest:
    request: Request
    fault: Fault
    rule: FaultRule


class Faults:
    """The rules in force, and every request they faulted."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.rules: list[FaultRule] = []
        self.faulted: list[FaultedRequest] = []
        self._share_faulted: set[str] = set()
        """Requests (method and path) whose last attempt a ``share`` rule faulted."""

    def add(
        self,
        status: int,
        *,
        method: str | None = None,
        route: str | None = None,
        where: Mapping[str, int | str] | None = None,
        times: int | None = None,
        share: float = 1.0,
        seed: int = 0,
        retry_after: float = 0.05,
        is_global: bool = False,
        applied: bool = False,
    ) -> FaultRule:
        """Answer ``status`` to matching requests: ``times`` of them (None: until the
        rule is stopped), or a seeded ``share`` of them. ``where`` names path parameters
        (``{"channel_id": channel.id}``). Rules added first are consulted first."""
        rule = FaultRule(
            Fault(status, retry_after=retry_after, is_global=is_global, applied=applied),
            method=None if method is None else method.upper(),
            route=route,
            where={name: str(value) for name, value in (where or {}).items()},
            times=times,
            share=share,
            seed=seed,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Stop every rule (what was faulted stays on record)."""
        for rule in self.rules:
            rule.stop()
        self.rules.clear()

    def pick(self, request: Request, params: Mapping[str, str]) -> Fault | None:
        """The fault for this request, if a rule takes it; recorded.

        A request that a ``share`` rule faulted goes through when the bot sends it again
        (the same method and path, next): a route's bucket has reset once its
        ``retry_after`` is waited out, and a random streak must not exhaust discord.py's
        five tries, which Discord would not do either. Rules with ``times`` fault exactly
        as told."""
        assert request.route is not None
        target = f"{request.method} {request.path}"
        retried = target in self._share_faulted
        self._share_faulted.discard(target)
        for rule in self.rules:
            if retried and rule.share < 1:
                continue
            if rule.takes(request.method, request.route, params):
                self.faulted.append(FaultedRequest(request, rule.fault, rule))
                if rule.share < 1:
                    self._share_faulted.add(target)
                return rule.fault
        return None

    def answer(self, fault: Fault, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        """The body and headers of ``fault`` for ``request``."""
        return fault.body(), fault.headers(bucket_of(request), self._now())

    def count(
        self,
        status: int | None = None,
        *,
        route: str | None = None,
        is_global: bool | None = None,
    ) -> int:
        """How many requests were faulted (with ``status``, on ``route``, global or not)."""
        return sum(
            1
            for entry in self.faulted
            if (status is None or entry.fault.status == status)
            and (route is None or entry.request.route == route)
            and (is_global is None or entry.fault.is_global == is_global)
        )


def bucket_of(request: Request) -> str:
    """An opaque, stable bucket hash per route, as Discord's ``X-RateLimit-Bucket``."""
    key = f"{request.method} {request.route}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()
