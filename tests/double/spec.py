"""Validation of bodies against Discord's official OpenAPI description.

The description (``openapi/openapi.json``, MIT, see ``openapi/SOURCE.md``) is loaded once per
process and registered as one resource, so every ``#/components/...`` reference resolves.
Both directions are checked: what the bot sends (request bodies, query parameters) and what
the double answers (response bodies, gateway objects), so that neither the bot nor the double
drifts from Discord unnoticed.

The loaded copy is patched in memory where discord.py legitimately differs from the letter of
the description (see ``_patch``); the file on disk is left untouched.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parent / "openapi" / "openapi.json"
SPEC_URI = "urn:discord-api-spec:openapi.json"
_METHODS = ("get", "put", "post", "patch", "delete")
_SNOWFLAKE_PATTERN = "^(0|[1-9][0-9]*)$"
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class RouteMatch:
    """A request path matched to the description's path template."""

    template: str
    params: dict[str, str]
    operation: Mapping[str, Any] | None  # None: the template exists but not for this method

    @property
    def operation_id(self) -> str:
        return str(self.operation.get("operationId", "?")) if self.operation else "?"


@dataclass(frozen=True)
class _Template:
    template: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    literal_segments: int


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _patch(document: dict[str, Any]) -> None:
    """Adapt the in-memory copy where discord.py sends what Discord accepts.

    - ``SnowflakeType`` is string-only in the description, but Discord accepts JSON integers
      and discord.py sends some ids as integers (``recipient_id``, attachment ids).
    - Per-field errors (``errors.<field>._errors[]``) carry string codes on Discord
      (``"BASE_TYPE_MAX_LENGTH"``) where the description says integer.
    """
    schemas = document["components"]["schemas"]
    schemas["SnowflakeType"] = {
        "anyOf": [
            {"type": "string", "pattern": _SNOWFLAKE_PATTERN},
            {"type": "integer", "minimum": 0},
        ],
        "format": "snowflake",
    }
    schemas["InnerErrors"]["properties"]["_errors"]["items"] = {
        "type": "object",
        "properties": {"code": {"type": ["integer", "string"]}, "message": {"type": "string"}},
        "required": ["code", "message"],
    }


class OpenApi:
    """The parsed description with route matching and cached validators."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource: Resource[Any] = Resource.from_contents(
            document, default_specification=DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        templates = []
        for template in document["paths"]:
            names = tuple(re.findall(r"{([^}]+)}", template))
            regex = "".join(
                f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                for part in re.split(r"({[^}]+})", template)
            )
            literal = sum(1 for seg in template.split("/") if seg and "{" not in seg)
            templates.append(_Template(template, re.compile(f"^{regex}$"), names, literal))
        # "/users/@me" must win over "/users/{user_id}", "@original" over "{message_id}".
        self._templates = sorted(templates, key=lambda t: -t.literal_segments)

    # -- routes ------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> RouteMatch | None:
        """Map ``GET /channels/1/messages`` to ``/channels/{channel_id}/messages``."""
        for candidate in self._templates:
            found = candidate.regex.match(path)
            if found is None:
                continue
            item = self.document["paths"][candidate.template]
            operation = item.get(method.lower())
            return RouteMatch(candidate.template, found.groupdict(), operation)
        return None

    # -- validation --------------------------------------------------------------------------

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{SPEC_URI}{pointer}"}, registry=self._registry
            )
            self._validators[pointer] = validator
        return validator

    def _errors(self, pointer: str, instance: Any, where: str) -> list[str]:
        errors = sorted(
            self._validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path)
        )
        return [f"{where}: {_describe(error)}" for error in errors]

    def validate_schema(self, name: str, instance: Any, where: str) -> list[str]:
        """Validate against ``#/components/schemas/<name>``."""
        return self._errors(_pointer("components", "schemas", name), instance, where)

    def validate_request_body(
        self, route: RouteMatch, content_type: str, body: Any, where: str
    ) -> list[str]:
        """Validate a JSON body (or multipart ``payload_json``) against the request schema."""
        operation = route.operation
        if operation is None:
            return []
        request_body = operation.get("requestBody")
        if request_body is None:
            if body is None:
                return []
            return [f"{where}: the operation {route.operation_id} takes no request body"]
        if body is None:
            if request_body.get("required"):
                return [f"{where}: the operation {route.operation_id} requires a request body"]
            return []
        content = request_body["content"]
        media = content_type if content_type in content else "application/json"
        if media not in content:
            return [f"{where}: content type {content_type!r} is not accepted"]
        method = self._method_of(route)
        pointer = _pointer(
            "paths", route.template, method, "requestBody", "content", media, "schema"
        )
        return self._errors(pointer, body, where)

    def validate_query(self, route: RouteMatch, query: Mapping[str, str], where: str) -> list[str]:
        """Check query parameters the operation declares (booleans may be ``1``/``0``)."""
        operation = route.operation
        if operation is None:
            return []
        declared = {
            p["name"]: p.get("schema", {})
            for p in operation.get("parameters", [])
            if p.get("in") == "query"
        }
        problems = []
        for name, raw in query.items():
            schema = declared.get(name)
            if schema is None:
                problems.append(f"{where}: unknown query parameter {name!r}")
                continue
            kind = schema.get("type")
            if kind == "boolean" and raw.lower() not in {"1", "0", "true", "false"}:
                problems.append(f"{where}: query {name}={raw!r} is not a boolean")
            elif kind == "integer" and not re.fullmatch(r"-?\d+", raw):
                problems.append(f"{where}: query {name}={raw!r} is not an integer")
        return problems

    def validate_response(self, route: RouteMatch, status: int, body: Any, where: str) -> list[str]:
        """Validate the double's own answer against the documented response schema."""
        operation = route.operation
        if operation is None:
            return []
        responses = operation.get("responses", {})
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            return [f"{where}: status {status} is not documented for {route.operation_id}"]
        response = responses[key]
        method = self._method_of(route)
        if "$ref" in response:
            pointer = response["$ref"] + "/content/application~1json/schema"
        elif "content" in response:
            pointer = _pointer(
                "paths", route.template, method, "responses", key, "content",
                "application/json", "schema",
            )  # fmt: skip
        else:
            if body is not None:
                return [f"{where}: status {status} must have no body"]
            return []
        return self._errors(pointer, body, where)

    def _method_of(self, route: RouteMatch) -> str:
        item = self.document["paths"][route.template]
        for method in _METHODS:
            if item.get(method) is route.operation:
                return method
        raise LookupError(route.template)


def _describe(error: ValidationError) -> str:
    """One line per problem; for a union, explain the alternative the instance meant."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        chosen = _intended_alternative(error)
        inner = "; ".join(f"{e.json_path}: {_message(e)}" for e in chosen[:3])
        return f"{error.json_path}: matches no alternative; the closest fails with {inner}"
    return f"{error.json_path}: {_message(error)}"


def _intended_alternative(error: ValidationError) -> list[ValidationError]:
    """The leaf errors of the alternative the instance most likely meant: one whose ``type``
    discriminator does not already fail, with the fewest errors."""
    groups: dict[Any, list[ValidationError]] = {}
    for inner in error.context or []:
        groups.setdefault(inner.relative_schema_path[0], []).append(inner)
    depth = len(error.absolute_path)

    def unlikeliness(errors: list[ValidationError]) -> tuple[int, int]:
        wrong_kind = any(
            list(e.absolute_path)[depth:] == ["type"]
            or (e.validator == "type" and len(e.absolute_path) == depth)
            for e in errors
        )
        return (1 if wrong_kind else 0, len(errors))

    best = min(groups.values(), key=unlikeliness)
    leaves: list[ValidationError] = []
    for candidate in best:
        if candidate.validator in ("anyOf", "oneOf") and candidate.context:
            leaves.extend(_intended_alternative(candidate))
        else:
            leaves.append(candidate)
    return leaves


def _message(error: ValidationError) -> str:
    """jsonschema's message without the (possibly huge) instance."""
    value = error.validator_value
    instance = error.instance
    match error.validator:
        case "maxLength":
            return f"length {len(instance)} is over the maximum of {value}"
        case "minLength":
            return f"length {len(instance)} is under the minimum of {value}"
        case "maxItems":
            return f"{len(instance)} items is over the maximum of {value}"
        case "minItems":
            return f"{len(instance)} items is under the minimum of {value}"
        case "type":
            return f"{_short(repr(instance), 60)} is not of type {value}"
        case "anyOf" | "oneOf":
            return f"{_short(repr(instance), 60)} matches none of the alternatives"
        case _:
            return _short(error.message)


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.cache
def load_openapi() -> OpenApi:
    """Load and patch the description once per process (about 0.1 s)."""
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    _patch(document)
    return OpenApi(document)
