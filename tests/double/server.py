"""The REST side: one catch-all aiohttp handler for ``/api/v10/...``.

Every request is recorded, matched to the OpenAPI path template, authenticated as Discord
does (``Authorization: Bot <token>`` except on interaction/webhook-token routes), validated
(query and JSON body, or multipart ``payload_json``), then handled. The double's own answer
is validated against the documented response schema too. Unknown or unimplemented routes get
Discord's 404 body and are recorded as errors so an unexpected call is noticed. Faults a test
asked for (``faults``: 5xx, 429) answer in the handler's place, or after it when Discord is
to have carried the request out and lost the answer.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .faults import Fault, Faults
from .ratelimits import RateLimits, headers_of
from .records import Request, UploadedFile
from .rules import DiscordError
from .spec import OpenApi, RouteMatch
from .state import World

API_PREFIX = "/api/v10"
JSON_TYPE = "application/json"


@dataclass
class Call:
    """A parsed request as route handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[UploadedFile]
    problems: list[str]
    """OpenAPI validation problems (already recorded in ``double.errors``)."""

    def reject_if_invalid(self) -> None:
        """Answer an invalid body as Discord does: 400 code 50035."""
        if self.problems:
            raise DiscordError(400, 50035, "Invalid Form Body", problem=False)

    def flag(self, name: str) -> bool:
        """Query booleans: discord.py sends ``1``, Discord also accepts ``true``."""
        return self.query.get(name, "").lower() in {"1", "true"}

    def int_param(self, name: str) -> int:
        return int(self.params[name])

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        return self.body


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Awaitable[Reply]]
RouteTable = dict[tuple[str, str], Handler]


def ok(body: Any) -> Reply:
    return Reply(200, body)


def no_content() -> Reply:
    return Reply(204)


class RestApi:
    """Dispatches ``/api/v10/*`` to handlers keyed by (method, OpenAPI path template)."""

    def __init__(
        self,
        world: World,
        openapi: OpenApi,
        routes: RouteTable,
        *,
        self_validating: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.world = world
        self.openapi = openapi
        self.routes = routes
        self.self_validating = self_validating
        """Routes whose handler records the attempt before calling ``reject_if_invalid``."""
        self.faults = Faults(world.now)
        self.rate_limits = RateLimits(world.clock)  # off until enabled (ratelimits.py)

    async def handle(self, request: web.Request) -> web.Response:
        world = self.world
        method = request.method.upper()
        path = request.path[len(API_PREFIX) :]
        record = Request(method, path, dict(request.query), None, [])
        world.requests.append(record)
        where = f"{method} {_readable(path)}"
        route: RouteMatch | None = None
        fault: Fault | None = None
        limit_headers: dict[str, str] = {}
        try:
            content_type, body, files = await _read_body(request)
            record.json, record.files = body, files
            route = self.openapi.match(method, path)
            if route is None or route.operation is None:
                raise DiscordError(
                    404, 0, "404: Not Found", detail="no such route in Discord's API"
                )
            record.route = route.template
            handler = self.routes.get((method, route.template))
            if handler is None:
                raise DiscordError(
                    404,
                    0,
                    "404: Not Found",
                    detail=f"the double does not implement {route.template}",
                )
            self._authenticate(request, route)
            limit_headers = self.rate_limits.admit(method, route)
            problems = self.openapi.validate_query(route, record.query, f"bot sent {where}")
            problems += self.openapi.validate_request_body(
                route, content_type, body, f"bot sent {where} body"
            )
            for problem in problems:
                world.record_error(problem)
            call = Call(method, path, route.params, record.query, body, files, problems)
            if (method, route.template) not in self.self_validating:
                call.reject_if_invalid()
            fault = self.faults.pick(record, route.params)
            if fault is None or fault.applied:
                reply = await handler(call)
            if fault is not None:
                reply = Reply(fault.status, *self.faults.answer(fault, record))
        except DiscordError as error:
            if error.problem:
                world.record_error(f"{where}: {error.describe()}")
            reply = Reply(error.status, error.body(), headers_of(error))
        except Exception as error:  # a bug in the double must never pass for Discord's answer
            world.record_error(
                f"{where}: the test double crashed: {error!r}\n{traceback.format_exc()}"
            )
            reply = Reply(400, {"code": 0, "message": f"test double crashed: {error!r}"})
        record.status, record.response = reply.status, reply.body
        if route is not None and route.operation is not None:
            for problem in self._check_answer(route, reply, fault, where):
                world.record_error(problem)
        reply.headers.update(limit_headers)
        world.changes.notify()
        return respond(reply)

    def _check_answer(
        self, route: RouteMatch, reply: Reply, fault: Fault | None, where: str
    ) -> list[str]:
        """The double's answer against the documented response; Discord's 5xx answers are
        not documented per route, so an injected one is checked as an ``Error``."""
        what = f"double answered {where} with {reply.status}"
        if fault is not None and reply.status == fault.status != 429:
            return self.openapi.validate_schema("Error", reply.body, what)
        return self.openapi.validate_response(route, reply.status, reply.body, what)

    def _authenticate(self, request: web.Request, route: RouteMatch) -> None:
        assert route.operation is not None
        security = route.operation.get("security", [])
        if {} in security:  # interaction and webhook-token routes: the token is in the path
            return
        if request.headers.get("Authorization") != f"Bot {self.world.token}":
            raise DiscordError(401, 0, "401: Unauthorized", detail="bad or missing bot token")


def _readable(path: str) -> str:
    """Shorten interaction/webhook tokens in error messages."""
    return "/".join(p if len(p) <= 32 else p[:8] + "…" for p in path.split("/"))


def respond(reply: Reply) -> web.Response:
    """``Content-Type: application/json`` exactly: discord.py parses JSON only then."""
    if reply.body is None:
        return web.Response(status=reply.status, headers=reply.headers)
    response = web.Response(
        status=reply.status,
        body=json.dumps(reply.body).encode(),
        content_type=JSON_TYPE,
        headers=reply.headers,
    )
    assert response.headers["Content-Type"] == JSON_TYPE
    return response


async def _read_body(request: web.Request) -> tuple[str, Any, list[UploadedFile]]:
    """JSON body, or multipart with ``payload_json`` and ``files[n]`` parts."""
    content_type = request.content_type
    if not request.body_exists:
        return content_type, None, []
    if content_type == "multipart/form-data":
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise DiscordError(400, 50035, "Invalid Form Body", detail="nested multipart")
            name = part.name or ""
            data = bytes(await part.read())
            if name == "payload_json":
                payload = _parse_json(data)
            else:
                content = part.headers.get("Content-Type")
                files.append(UploadedFile(name, part.filename or name, data, content))
        return content_type, payload, files
    raw = await request.read()
    if not raw:
        return content_type, None, []
    if content_type != JSON_TYPE:
        raise DiscordError(400, 50035, "Invalid Form Body", detail=f"unexpected {content_type}")
    return content_type, _parse_json(raw), []


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
