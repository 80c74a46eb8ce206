"""Writing a reflection: the "Write an anonymous reflection" button (in the home channel
and in members' DMs), the form, the member's own reflection (Edit, Delete), and the
"Replace it?" question when a second one comes in.

The buttons carry only the session's id, so they keep working after a restart. Nothing
here logs, stores or tells anyone who wrote what: the service finds a member's own
reflection by its HMAC tag alone, and every answer is ephemeral, to its author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.kernel.drafts import DraftBook, Waiting
from bot.reflections import service as reflection_service
from bot.reflections.rules import TEXT_LIMIT
from bot.sessions.recurrence import format_when
from cogs._common.access import STORED_ID
from cogs._common.forms import form_values, show_form
from cogs._common.messages import guarded, plain, reply

if TYPE_CHECKING:
    from bot.app import BalintBot

COG_NAME = "Reflections"
PENDING_LIFETIME = timedelta(minutes=15)
INVITE_LABEL = "Write an anonymous reflection"


@dataclass(frozen=True)
class Pending:
    """A second reflection waiting for "Replace": in memory only."""

    session_id: int
    text: str = field(repr=False)
    rating: str | None = field(repr=False, default=None)


def pending_of(bot: BalintBot) -> DraftBook[Pending]:
    book = getattr(bot.get_cog(COG_NAME), "pending", None)
    if not isinstance(book, DraftBook):
        raise RuntimeError("the reflections cog is not loaded")
    return book


def new_pending() -> DraftBook[Pending]:
    return DraftBook(PENDING_LIFETIME)


def invite_view(session_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(WriteButton(session_id))
    return view


async def start_writing(
    bot: BalintBot, interaction: discord.Interaction[Any], session_id: int
) -> None:
    """Open the form, or (for a member who wrote already) show theirs with Edit and
    Delete. Refused to leaders, outsiders, and once the window has closed."""
    own = await reflection_service.may_write(
        bot.database, bot.cipher, session_id, interaction.user.id, bot.clock.now()
    )
    if own is None:
        await show_form(interaction, ReflectionForm(session_id))
        return
    rating = f"\nYour rating: {own.rating} out of 5." if own.rating is not None else ""
    quoted = "\n".join(f"> {line}" for line in plain(own.text).split("\n"))
    view = discord.ui.View(timeout=None)
    view.add_item(OwnButton(session_id, "edit"))
    view.add_item(OwnButton(session_id, "delete"))
    await reply(
        interaction,
        f"Your reflection so far (only you see this):\n{quoted}{rating}",
        "You can change it or delete it until the window closes.",
        view=view,
    )


class WriteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"reflect:(?P<session>{STORED_ID})"
):
    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        super().__init__(
            discord.ui.Button(
                label=INVITE_LABEL,
                style=discord.ButtonStyle.primary,
                custom_id=f"reflect:{session_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> WriteButton:
        return cls(int(match["session"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await start_writing(interaction.client, interaction, self.session_id)


class OwnButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"reflect:(?P<action>edit|delete):(?P<session>{STORED_ID})",
):
    """Edit or Delete the clicking member's own reflection (found by its tag)."""

    def __init__(self, session_id: int, action: str) -> None:
        self.session_id, self.action = session_id, action
        super().__init__(
            discord.ui.Button(
                label="Edit" if action == "edit" else "Delete",
                style=discord.ButtonStyle.secondary
                if action == "edit"
                else discord.ButtonStyle.danger,
                custom_id=f"reflect:{action}:{session_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> OwnButton:
        return cls(int(match["session"]), match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        now = bot.clock.now()
        if self.action == "delete":
            deleted = await reflection_service.delete_own(
                bot.database, bot.cipher, self.session_id, interaction.user.id, now
            )
            text = (
                "Deleted: your reflection is gone." if deleted else "There was nothing to delete."
            )
            await interaction.response.edit_message(content=text, view=None)
            return
        own = await reflection_service.may_write(
            bot.database, bot.cipher, self.session_id, interaction.user.id, now
        )
        form = ReflectionForm(self.session_id, editing=True)
        if own is not None:
            form.text.default = own.text
            form.rating.default = "" if own.rating is None else str(own.rating)
        await show_form(interaction, form)


class ReflectionForm(discord.ui.Modal, title="An anonymous reflection"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your reflection",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        placeholder="What stayed with you from this session? Nobody will know it was you.",
        max_length=TEXT_LIMIT,
    )
    rating: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="How useful was the session? 1 to 5 (optional)",
        custom_id="rating",
        style=discord.TextStyle.short,
        required=False,
        max_length=3,
    )

    def __init__(self, session_id: int, *, editing: bool = False) -> None:
        kind = "edit" if editing else "new"
        super().__init__(custom_id=f"reflect:form:{session_id}:{kind}")
        self.session_id, self.editing = session_id, editing


FORM_ID = re.compile(rf"reflect:form:(?P<session>{STORED_ID}):(?P<kind>new|edit)")


async def submit_form(bot: BalintBot, interaction: discord.Interaction[Any], form_id: str) -> bool:
    """A reflection form came back (`cogs._common.forms`): keep it, or ask before
    replacing. Returns False when `form_id` is not a reflection form."""
    match = FORM_ID.fullmatch(form_id)
    if match is None:
        return False
    session_id = int(match["session"])
    values = form_values(interaction)
    text, rating = values.get("text", ""), values.get("rating")
    written = await reflection_service.write(
        bot.database,
        bot.cipher,
        session_id=session_id,
        member_id=interaction.user.id,
        text=text,
        rating=rating,
        now=bot.clock.now(),
        replace=match["kind"] == "edit",
    )
    if written.needs_confirmation:
        waiting = pending_of(bot).put(
            interaction.user.id, Pending(session_id, text, rating), bot.clock.now()
        )
        await reply(
            interaction,
            "You have already written a reflection for this session. Replace it with this one?",
            view=replace_view(waiting),
        )
    else:
        await reply(interaction, thanks(written))
    return True


def where_released(release_to: str | None) -> str:
    if release_to == "channel":
        return "posted together in the group's channel"
    return "sent together to the group's leaders"


def thanks(written: reflection_service.Written) -> str:
    done = "Replaced" if written.replaced else "Thank you"
    return (
        f"{done}: your reflection is kept, encrypted and with nothing that links it to you. "
        f"When the window closes {format_when(written.window.closes_at)}, the reflections "
        f"are {where_released(written.window.release_to)}, in an order drawn at random, if "
        "enough came in to keep their authors hidden; otherwise they are deleted unread. "
        "Until then you can change or delete yours with the same button or `/reflect`."
    )


def replace_view(waiting: Waiting[Pending]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReplaceButton(waiting.token, "replace"))
    view.add_item(ReplaceButton(waiting.token, "keep"))
    return view


class ReplaceButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"reflect:(?P<action>replace|keep):(?P<token>[A-Za-z0-9_-]{1,40})",
):
    def __init__(self, token: str, action: str) -> None:
        self.token, self.action = token, action
        super().__init__(
            discord.ui.Button(
                label="Replace it" if action == "replace" else "Keep the one I wrote",
                style=discord.ButtonStyle.primary
                if action == "replace"
                else discord.ButtonStyle.secondary,
                custom_id=f"reflect:{action}:{token}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReplaceButton:
        return cls(match["token"], match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        book = pending_of(bot)
        waiting = book.get(self.token, interaction.user.id, bot.clock.now())
        if waiting is None:
            await interaction.response.edit_message(
                content="This has expired (it waits 15 minutes, and is forgotten if the bot "
                "restarts); nothing was changed. Open the form again to write.",
                view=None,
            )
            return
        book.discard(waiting.token)
        if self.action == "keep":
            await interaction.response.edit_message(
                content="Kept: your earlier reflection stays as it was.", view=None
            )
            return
        written = await reflection_service.write(
            bot.database,
            bot.cipher,
            session_id=waiting.item.session_id,
            member_id=interaction.user.id,
            text=waiting.item.text,
            rating=waiting.item.rating,
            now=bot.clock.now(),
            replace=True,
        )
        await interaction.response.edit_message(content=thanks(written), view=None)
