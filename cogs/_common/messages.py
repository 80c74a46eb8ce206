"""What the bot says and how it says it: answers to interactions (private by default,
never pinging, split to Discord's limits), messages it sends on its own (DMs, channel
notices; split the same way), user text made safe to show, the phrases several commands
share, and the one way every command, button and form answers an error.

Every text the bot sends goes through `chunk_sections`: `reply` and `send_ephemeral` for
answers, `post` for everything else (`cogs._common.notify` builds DMs and notices on it).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
import discord
from discord import app_commands

from bot.groups.rules import Group, PresenterMode
from bot.kernel.errors import Refusal
from bot.kernel.logs import log_failure

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
NONCE_LIMIT = 25  # Discord's limit on a message nonce


def chunk_sections(sections: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join sections with blank lines into messages of at most `limit` characters.

    A section that fits in one message is never split: it joins the current message or
    starts the next one. A longer section is split between its lines, its first lines
    filling up the current message (so a short heading is not left alone). Only a line
    longer than `limit` is itself cut, after a space where it has one: Discord markup
    such as ``<t:…:F>`` or ``<@…>`` would show as raw text if cut in two. Blank sections,
    and blank lines at the start or end of a message, are left out, since Discord
    refuses an empty message.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    messages = _Messages(limit)
    for section in sections:
        if not section.strip():
            continue
        if len(section) <= limit:
            messages.add(section, separator="\n\n")
            continue
        separator = "\n\n"
        for line in section.split("\n"):
            for piece in _cut_line(line, limit):
                messages.add(piece, separator=separator)
                separator = "\n"
    return messages.finish()


class _Messages:
    """Messages being filled, the last one still open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done: list[str] = []
        self.current = ""

    def add(self, text: str, *, separator: str) -> None:
        """`text` (at most `limit` long) after `separator` in the current message if it
        fits there, else at the start of the next one."""
        if not self.current.strip():
            self.current = text
        elif len(self.current) + len(separator) + len(text) <= self.limit:
            self.current += separator + text
        else:
            self._close()
            self.current = text

    def finish(self) -> list[str]:
        self._close()
        return self.done

    def _close(self) -> None:
        lines = self.current.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines:
            self.done.append("\n".join(lines))
        self.current = ""


def _cut_line(line: str, limit: int) -> Iterator[str]:
    """`line` in pieces of at most `limit` characters, cut after the last space that
    allows it (a hard cut at `limit` only for a run of text without spaces)."""
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit) + 1 or limit
        yield line[:cut]
        line = line[cut:]
    yield line


_MASS_MENTION = re.compile(r"@(everyone|here)")
_MENTION_START = re.compile(r"<(?=[@#/])")  # <@user> <@!user> <@&role> <#channel> </command:id>


def plain(text: str) -> str:
    """User-supplied text made safe to show: markdown escaped, mentions neutralised.

    A zero-width space goes after the @ of @everyone and @here, and after the < of any
    mention markup (a user, a role, a channel, a command, whatever the id's length), so
    none of it renders as a mention. (Allowed mentions are also restricted on every
    message; this keeps the text itself from rendering as a ping or as formatting.)
    """
    escaped = _MASS_MENTION.sub("@\u200b\\1", discord.utils.escape_markdown(text))
    return _MENTION_START.sub("<\u200b", escaped)


def presenter_label(group: Group, presenter_id: int | None) -> str:
    """Who presents, in the group's presenter mode: "presenter: @x", "on deck: @x"."""
    if presenter_id is None:
        return "no presenter yet"
    if group.presenter_mode is PresenterMode.ON_DECK:
        return f"on deck: <@{presenter_id}>"
    return f"presenter: <@{presenter_id}>"


def minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


NO_PINGS = discord.AllowedMentions.none()
GENERIC_FAILURE = "Something went wrong on my side; nothing was changed. Please try again."

Callback = TypeVar("Callback", bound=Callable[..., Awaitable[None]])


# Discord drops an interaction that has no first answer within 3 seconds ("The application
# did not respond"). A command still busy after this long (the database locked by another
# process, a burst of commands queued behind a long one) is deferred ("thinking..."), and
# its answer then comes as the follow-up, within Discord's 15 minutes.
DEFER_AFTER_SECONDS = 2.0
_ANSWERING = "balint:answering"


def answering(interaction: discord.Interaction[Any]) -> asyncio.Lock:
    """One lock per interaction for its first answer: the deferral and the answer itself
    never both go out (discord.py notes the answer only once Discord has taken it)."""
    lock = interaction.extras.get(_ANSWERING)
    if lock is None:
        lock = interaction.extras[_ANSWERING] = asyncio.Lock()
    return lock


_DEFERRED_PRIVATELY = "balint:deferred-privately"


def defer_if_slow(
    interaction: discord.Interaction[Any], started: set[asyncio.Task[bool]]
) -> asyncio.TimerHandle:
    """Defer `interaction` privately if it is still unanswered `DEFER_AFTER_SECONDS`
    from now (real time, not the bot's clock: Discord's window is real). Returns the
    timer (cancel it once the command has ended); the deferral's task, started only
    when the time comes, goes into `started` until it ends."""
    after = DEFER_AFTER_SECONDS

    def due() -> None:
        task = asyncio.create_task(_defer_late(interaction, after), name="balint: defer late")
        started.add(task)
        task.add_done_callback(started.discard)

    return asyncio.get_running_loop().call_later(after, due)


async def _defer_late(interaction: discord.Interaction[Any], waited: float) -> bool:
    try:
        deferred = await defer_now(interaction)
    except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
        log.warning("could not defer a slow answer: %s", getattr(error, "status", type(error)))
        return False
    if deferred:
        log.info("answer deferred: still busy after %.1f s", waited)
    return deferred


async def defer_now(interaction: discord.Interaction[Any]) -> bool:
    """Answer "thinking…" (privately) unless `interaction` was answered already; whether
    it did. The one way a command defers, so that it never collides with the deferral of
    a slow answer (`defer_if_slow`)."""
    async with answering(interaction):
        if interaction.response.is_done():
            return False
        await interaction.response.defer(ephemeral=True, thinking=True)
        interaction.extras[_DEFERRED_PRIVATELY] = True
        return True


async def reply(
    interaction: discord.Interaction[Any],
    *sections: str,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
    ephemeral: bool = True,
) -> None:
    """Send `sections` (joined by blank lines) as the answer, in as many messages as
    Discord's 2,000-character limit needs; a view (and a file) goes on the last message.
    After a deferral (`defer_now`) the first message fills in the private "thinking…", so
    every part is private then (a public answer's later parts must not show alone)."""
    if interaction.extras.get(_DEFERRED_PRIVATELY):
        ephemeral = True
    messages = chunk_sections(sections)
    for index, content in enumerate(messages):
        extra: dict[str, Any] = {}
        if index == len(messages) - 1:
            if view is not None:
                extra["view"] = view
            if file is not None:
                extra["file"] = file
        if index == 0:
            async with answering(interaction):
                if not interaction.response.is_done():
                    await interaction.response.send_message(
                        content, ephemeral=ephemeral, allowed_mentions=NO_PINGS, **extra
                    )
                    continue
        await interaction.followup.send(
            content, ephemeral=ephemeral, allowed_mentions=NO_PINGS, **extra
        )


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer privately, whether or not the interaction was answered already (split
    like any answer)."""
    await reply(interaction, message)


def part_nonce(nonce: str, index: int) -> str:
    """The nonce of part `index` of a message sent in parts (`post`).

    The first part keeps `nonce`, so a message that fits one part is sent exactly as
    before. A later part gets `nonce` with ".index" added: no nonce the bot makes has a
    "." (reminder nonces are letters, digits, "-" and "_"), so a part's nonce never equals
    another message's. Where that would pass Discord's 25 characters, a hash of both takes
    the nonce's place. The same nonce and index always give the same part nonce, so a
    re-run of a send collapses part by part.
    """
    if index < 0:
        raise ValueError(f"part indexes are never negative: {index}")
    if index == 0:
        return nonce
    suffix = f".{index}"
    if len(nonce) + len(suffix) <= NONCE_LIMIT:
        return nonce + suffix
    digest = hashlib.blake2b(f"{nonce}{suffix}".encode(), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii") + suffix  # 16 characters + suffix


async def post(
    channel: discord.abc.Messageable,
    text: str,
    *,
    allowed_mentions: discord.AllowedMentions,
    view: discord.ui.View | None = None,
    nonce: str | None = None,
) -> discord.Message:
    """Send `text` on the bot's own initiative (a DM, a notice in a channel) in as many
    messages as Discord's 2,000-character limit needs, split by `chunk_sections` (between
    lines, never inside a timestamp or a mention). A view goes on the last message only;
    with a `nonce`, each part has its own (`part_nonce`). Returns the last message (the
    one with the view)."""
    parts = chunk_sections([text])
    if not parts:
        raise ValueError("a message needs something to show")
    last = len(parts) - 1
    sent: discord.Message | None = None
    for index, content in enumerate(parts):
        extra: dict[str, Any] = {}
        if view is not None and index == last:
            extra["view"] = view
        if nonce is not None:
            extra["nonce"] = part_nonce(nonce, index)
        sent = await channel.send(content, allowed_mentions=allowed_mentions, **extra)
    assert sent is not None
    return sent


def refusal_text(refusal: Refusal) -> str:
    """A refusal as the user reads it: what it quotes of user text is escaped here, the
    one place that does it."""
    return refusal.render(plain)


def refusal_of(error: Exception) -> Refusal | None:
    """The refusal an error amounts to, if any. A bad option value is one too:
    discord.py's own text for it quotes the value raw ("Failed to convert …"), so it is
    quoted like any refusal's user text instead (escaped and shortened, in one place)."""
    original = getattr(error, "original", error)
    if isinstance(original, Refusal):
        return original
    if isinstance(error, app_commands.TransformerError):
        return Refusal(
            f"I could not use **{{value}}** as a {error.type.name} here.", value=str(error.value)
        )
    return None


async def answer_error(interaction: discord.Interaction[Any], error: Exception, what: str) -> None:
    """A `Refusal` (or a bad option) is shown as it is; anything else is logged without
    its message (it may quote confidential input) and the user gets a generic answer."""
    refusal = refusal_of(error)
    if refusal is not None:
        message = refusal_text(refusal)
    elif isinstance(error, app_commands.CheckFailure):
        message = str(error)
    else:
        log_failure(log, what, getattr(error, "original", error))
        message = GENERIC_FAILURE
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException as failure:
        log.warning("could not tell the user about a failure in %s: HTTP %s", what, failure.status)


def guarded(callback: Callback) -> Callback:
    """For button and form callbacks (`async def callback(self, interaction, ...)`):
    errors are answered like a command's instead of being logged by discord.py with
    their message and leaving the user with "This interaction failed"."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction[Any], *args: Any) -> None:
        try:
            await callback(self, interaction, *args)
        except Exception as error:
            await answer_error(interaction, error, type(self).__name__)

    return wrapper  # type: ignore[return-value]
