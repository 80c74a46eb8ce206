"""Discord's gateway (v10, JSON text frames, never compressed).

Mirrors what discord.py relies on: HELLO first; HEARTBEAT answered by HEARTBEAT_ACK; IDENTIFY
answered by READY (unavailable guild stubs, ``session_id``, ``resume_gateway_url``) and one
GUILD_CREATE per guild; RESUME answered by the missed events and RESUMED, or INVALID_SESSION
for an unknown session; sequence numbers increase per session. Sharding as Discord does
it: IDENTIFY's ``shard`` ``[shard_id, num_shards]`` gets only the guilds with
``(guild_id >> 22) % num_shards == shard_id``, their events go to that shard alone, and DMs
go to shard 0; ``GET /gateway/bot`` recommends ``recommended_shards``. Dispatches respect
intents:
MESSAGE_CREATE needs GUILD_MESSAGES or DIRECT_MESSAGES, guild message content is blanked
without MESSAGE_CONTENT (unless the bot is the author or is mentioned), and GUILD_CREATE
lists all members only with GUILD_MEMBERS (otherwise just the bot, as on Discord).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .spec import OpenApi
from .state import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    World,
)

HEARTBEAT_INTERVAL_MS = 41250
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | (1 << 8) | INTENT_MESSAGE_CONTENT

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_NORMAL = 1000
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_INVALID_SHARD = 4010
CLOSE_DISALLOWED_INTENTS = 4014
CLOSE_INVALID_SEQ = 4007
CLOSE_SESSION_TIMED_OUT = 4009
CLOSE_ENDS_SESSION = frozenset({CLOSE_INVALID_SEQ, CLOSE_SESSION_TIMED_OUT})


@dataclass(eq=False)
class Session:
    """One identified client session; events are logged so a RESUME can replay them."""

    id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    outbox: asyncio.Queue[dict[str, Any] | None] | None = None
    resumes: int = 0
    shard: tuple[int, int] = (0, 1)
    """``[shard_id, num_shards]`` from IDENTIFY; (0, 1) when the client does not shard."""
    ended: bool = False
    """The client closed the connection normally (close code 1000): it will not resume."""

    @property
    def connected(self) -> bool:
        return self.outbox is not None

    @property
    def alive(self) -> bool:
        """Connected, or disconnected in a way the client will RESUME from."""
        return not self.ended

    def serves(self, guild_id: int | None) -> bool:
        """Whether events of this guild (None: a DM) go to this session's shard."""
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, count) == shard_id


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule for which shard receives a guild's events."""
    return (guild_id >> 22) % shard_count


class Gateway:
    """The websocket endpoint; one ``Session`` per IDENTIFY."""

    def __init__(self, world: World, openapi: OpenApi) -> None:
        self.world = world
        self.openapi = openapi
        self.url = "ws://127.0.0.1:0/gateway"
        self.allowed_intents = (1 << 26) - 1
        """Intents the application may use (the "privileged intents" switches)."""
        self.sessions: list[Session] = []
        self.identifies = 0
        self.resume_count = 0
        self.replayed: list[dict[str, Any]] = []
        """Events sent again on a RESUME: the client had missed them."""
        self._resumes_allowed = asyncio.Event()
        self._resumes_allowed.set()
        self.recommended_shards = 1
        """What ``GET /gateway/bot`` answers as ``shards``."""
        self._sockets: set[web.WebSocketResponse] = set()
        self._dropped: set[web.WebSocketResponse] = set()
        self._writers: set[asyncio.Task[None]] = set()

    @property
    def identify_intents(self) -> int | None:
        """The intents of the latest IDENTIFY."""
        return self.sessions[-1].intents if self.sessions else None

    # -- websocket endpoint ----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self._sockets.add(socket)
        outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        writer = asyncio.create_task(self._write(socket, outbox))
        self._writers.add(writer)
        outbox.put_nowait(_frame(OP_HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}))
        session: Session | None = None
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    if message.type is WSMsgType.BINARY:
                        self.world.record_error("gateway: the client sent a binary frame")
                    continue
                payload = json.loads(message.data)
                session = await self._receive(socket, outbox, session, payload) or session
        finally:
            outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._writers.discard(writer)
            if session is not None and session.outbox is outbox:
                session.outbox = None
                dropped = socket in self._dropped
                session.ended |= not dropped and socket.close_code == CLOSE_NORMAL
            self._dropped.discard(socket)
            self._sockets.discard(socket)
            self.world.changes.notify()
        return socket

    async def _write(
        self, socket: web.WebSocketResponse, outbox: asyncio.Queue[dict[str, Any] | None]
    ) -> None:
        while (frame := await outbox.get()) is not None:
            if socket.closed:
                return
            try:
                await socket.send_str(json.dumps(frame))
            except ConnectionError:
                return

    async def _receive(
        self,
        socket: web.WebSocketResponse,
        outbox: asyncio.Queue[dict[str, Any] | None],
        session: Session | None,
        payload: dict[str, Any],
    ) -> Session | None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op == OP_HEARTBEAT:
            outbox.put_nowait(_frame(OP_HEARTBEAT_ACK, None))
        elif op == OP_IDENTIFY:
            return await self._identify(socket, outbox, data)
        elif op == OP_RESUME:
            return await self._resume(socket, outbox, data)
        elif op == OP_REQUEST_GUILD_MEMBERS and session is not None:
            self._send_member_chunk(session, data)
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            pass
        else:
            self.world.record_error(f"gateway: unexpected op {op!r} from the client")
        return None

    async def _identify(
        self,
        socket: web.WebSocketResponse,
        outbox: asyncio.Queue[dict[str, Any] | None],
        data: dict[str, Any],
    ) -> Session | None:
        if data.get("token") != self.world.token:
            await socket.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.allowed_intents:
            await socket.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return None
        shard = data.get("shard") or [0, 1]
        shard_id, shard_count = int(shard[0]), int(shard[1])
        if not 0 <= shard_id < shard_count:
            await socket.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return None
        self.identifies += 1
        session = Session(
            secrets.token_hex(16), intents, data, outbox=outbox, shard=(shard_id, shard_count)
        )
        self.sessions.append(session)
        world = self.world
        guilds = [guild_id for guild_id in world.guilds if session.serves(guild_id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**world.bot.payload(), "mfa_enabled": False, "verified": True},
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        self._send(session, "READY", ready)
        for guild_id in guilds:
            self._send(session, "GUILD_CREATE", self.guild_create(guild_id, session))
        world.changes.notify()
        return session

    async def _resume(
        self,
        socket: web.WebSocketResponse,
        outbox: asyncio.Queue[dict[str, Any] | None],
        data: dict[str, Any],
    ) -> Session | None:
        await self._resumes_allowed.wait()
        wanted = data.get("session_id")
        session = next((s for s in self.sessions if s.id == wanted and s.alive), None)
        if session is None or data.get("token") != self.world.token:
            outbox.put_nowait(_frame(OP_INVALID_SESSION, False))
            return None
        seq = int(data.get("seq") or 0)
        session.outbox = outbox
        for frame in session.log:
            if frame["s"] > seq:
                outbox.put_nowait(frame)
                self.replayed.append(frame)
        session.resumes += 1
        self.resume_count += 1
        self._send(session, "RESUMED", {})
        self.world.changes.notify()
        return session

    def _send_member_chunk(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if "nonce" in data:
            chunk["nonce"] = data["nonce"]
        self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatching ---------------------------------------------------------------------------

    def guild_create(self, guild_id: int, session: Session) -> dict[str, Any]:
        """A GUILD_CREATE payload; ``member_count == len(members)`` with GUILD_MEMBERS."""
        guild = self.world.guilds[guild_id]
        if session.intents & INTENT_GUILD_MEMBERS:
            members = list(guild.members.values())
        else:
            members = [guild.members[self.world.bot.id]]
        bot_member = guild.members[self.world.bot.id]
        payload = guild.payload()
        payload.update(
            joined_at=bot_member.payload()["joined_at"],
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            members=[m.payload() for m in members],
            channels=[c.payload() for c in guild.channels],
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=list(guild.scheduled_events.values()),
            soundboard_sounds=[],
        )
        for role in payload["roles"]:
            self.check("GuildRoleResponse", role, "GUILD_CREATE role")
        for channel in payload["channels"]:
            self.check("GuildChannelResponse", channel, "GUILD_CREATE channel")
        for member in payload["members"]:
            self.check("GuildMemberResponse", member, "GUILD_CREATE member")
        return payload

    def dispatch(self, event: str, data: dict[str, Any], intent: int | None = None) -> int:
        """Send an event to every session whose intents include ``intent``.

        Events for a disconnected session are kept and replayed when it resumes. Returns the
        number of sessions the event was queued for.
        """
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
            self.check("MessageResponse", data, event)
        sent = 0
        guild_id = _guild_of(event, data)
        for session in self.sessions:
            if not session.alive or (intent is not None and not session.intents & intent):
                continue
            if not session.serves(guild_id):
                continue
            if event == "GUILD_CREATE":
                payload = self.guild_create(int(data["id"]), session)
            elif event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                payload = self._redact(data, session)
            else:
                payload = data
            self._send(session, event, payload)
            sent += 1
        return sent

    def message_intent(self, guild_id: int | None) -> int:
        return INTENT_GUILD_MESSAGES if guild_id is not None else INTENT_DIRECT_MESSAGES

    def _redact(self, data: dict[str, Any], session: Session) -> dict[str, Any]:
        """Without MESSAGE_CONTENT, guild messages arrive with empty content, embeds,
        attachments and components unless the bot wrote them or is mentioned."""
        if session.intents & INTENT_MESSAGE_CONTENT or "guild_id" not in data:
            return data
        bot_id = str(self.world.bot.id)
        if data["author"]["id"] == bot_id or f"<@{bot_id}>" in data.get("content", ""):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    def _send(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.outbox is not None:
            session.outbox.put_nowait(frame)

    def check(self, schema: str, instance: Any, where: str) -> None:
        """Validate an object the double sends against a component schema."""
        for problem in self.openapi.validate_schema(schema, instance, f"double sent {where}"):
            self.world.record_error(problem)

    # -- connection control --------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return any(session.connected for session in self.sessions)

    @property
    def has_client(self) -> bool:
        """A client is connected or will resume its session."""
        return any(session.alive for session in self.sessions)

    async def disconnect(self, code: int = CLOSE_UNKNOWN_ERROR) -> int:
        """Close every gateway connection with ``code`` (4000: the client resumes).

        As on Discord, 4007 (invalid seq) and 4009 (session timed out) end the sessions:
        the client's RESUME is then answered with INVALID_SESSION and it identifies anew."""
        if code in CLOSE_ENDS_SESSION:
            for session in self.sessions:
                session.ended = True
        sockets = list(self._sockets)
        for socket in sockets:
            self._dropped.add(socket)
            await socket.close(code=code, message=b"Test double disconnect")
        return len(sockets)

    def hold_resumes(self) -> Callable[[], None]:
        """Keep RESUMEs waiting (the bot stays off the gateway, its events kept for it)
        until the returned function is called."""
        self._resumes_allowed.clear()
        return self._resumes_allowed.set

    def request_reconnect(self) -> None:
        """Send RECONNECT (op 7) on every live session: the client reconnects and resumes."""
        for session in self.sessions:
            if session.outbox is not None:
                session.outbox.put_nowait(_frame(OP_RECONNECT, None))

    def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION (op 9); with ``resumable=False`` the client identifies anew
        and the old sessions are forgotten."""
        for session in self.sessions:
            if session.outbox is not None:
                session.outbox.put_nowait(_frame(OP_INVALID_SESSION, resumable))
        if not resumable:
            self.sessions.clear()

    async def close(self) -> None:
        self._resumes_allowed.set()
        for socket in list(self._sockets):
            await socket.close(code=1001, message=b"Test double shutting down")
        for writer in list(self._writers):
            writer.cancel()


def _guild_of(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to (None for DMs and events of no guild)."""
    raw = data.get("id") if event.startswith("GUILD_") and "guild_id" not in data else None
    raw = raw if raw is not None else data.get("guild_id")
    return int(raw) if raw is not None else None


def _frame(op: int, data: Any) -> dict[str, Any]:
    return {"op": op, "d": data, "s": None, "t": None}
