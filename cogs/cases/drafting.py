"""A case note on its way to the leaders: the preview its author checks, and the buttons
(Confirm, Edit, Choose another group, Cancel) and the form that act on its draft.

Drafts live in memory only (`bot.cases.drafts`); the buttons carry the draft's random
token, and are `DynamicItem`s so that a button pressed after a restart still answers:
the draft has expired, please send the note again. The note is shown to its author only
(in their DM with the bot, or in an ephemeral answer): never to anyone else, never in a
log line or an error.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.cases import service as case_service
from bot.cases.drafts import CaseDraft, Draft
from bot.cases.identifiers import Finding, find_identifiers
from bot.cases.rules import DRAFT_LIFETIME, NOTE_LIMIT, checked_note
from bot.groups.store import get_group, groups_of_user
from bot.kernel.drafts import DraftBook
from bot.kernel.errors import Refusal, shorten
from bot.sessions.recurrence import format_when
from cogs._common.messages import MESSAGE_LIMIT, NO_PINGS, answer_error, guarded, plain, post, reply
from cogs._common.notify import best_effort, deliver, tell_leaders

if TYPE_CHECKING:
    from bot.app import BalintBot

DRAFT_ID = r"[A-Za-z0-9_-]{1,40}"  # a draft's random token
EXCERPT_LIMIT = 40
LISTED_FINDINGS = 6
LISTED_GROUPS = 25  # a select menu's limit
DRAFT_MINUTES = int(DRAFT_LIFETIME.total_seconds() // 60)
EXPIRED = (
    f"This draft has expired: drafts wait {DRAFT_MINUTES} minutes, and not across a restart "
    "of the bot. Nothing was kept. Please send your note again."
)
DM_CAVEAT = (
    "I cannot delete the message you sent me: please delete it yourself once you are done "
    "(hover over it, then ⋯ → Delete Message). Next time, `/case submit` opens a private "
    "form that leaves no message behind."
)


COG_NAME = "Cases"


def drafts_of(bot: BalintBot) -> DraftBook[Draft]:
    """The drafts waiting for their authors: held by the cases cog, in memory only."""
    book = getattr(bot.get_cog(COG_NAME), "drafts", None)
    if not isinstance(book, DraftBook):
        raise RuntimeError("the cases cog is not loaded")
    return book


def findings_section(text: str, findings: list[Finding], listed: int = LISTED_FINDINGS) -> str:
    """What the identifier check found, each with its class and a hint; at most `listed`
    of them (the preview must fit one message), the rest counted."""
    if not findings:
        return "The identifier check found nothing that looks like a patient identifier."
    lines = ["**Please check these first**: they may identify the patient."]
    for finding in findings[:listed]:
        excerpt = plain(shorten(text[finding.start : finding.end], EXCERPT_LIMIT))
        lines.append(f"- {finding.kind.value}: “{excerpt}”. {finding.hint}")
    if len(findings) > listed:
        lines.append(f"- and {len(findings) - listed} more like these.")
    return "\n".join(lines)


def preview_text(where: case_service.Destination, draft: CaseDraft, findings: list[Finding]) -> str:
    group, session = where.group, where.session
    readers = ", ".join(f"<@{leader}>" for leader in where.leaders) or "the group's leaders"
    retention = group.case_retention_h
    after = f", plus {retention} h" if retention else ""
    sections = [
        f"**Your case note** would go to the leaders of **{plain(group.name)}** for the "
        f"session on {format_when(session.starts_at)}.",
        f"Who reads it: {readers}, with `/case view`. It is posted nowhere.\n"
        f"It is kept encrypted and deleted {format_when(where.deleted_at)} (when the "
        f"session ends{after}).",
    ]
    if where.replaces:
        sections.append("It **replaces** what you sent for that session before.")
    findings_at = len(sections)
    sections.append(findings_section(draft.item.text, findings))
    change = (
        "To change the text, press **Edit**."
        if draft.item.via_form
        else "To change the text, send me a new message."
    )
    sections.append(f"{change} Press **Confirm** within {DRAFT_MINUTES} minutes to send it.")
    if not draft.item.via_form:
        sections.append(DM_CAVEAT)
    listed = LISTED_FINDINGS
    # The preview is edited in place (another group chosen), so it must fit one message.
    while len("\n\n".join(sections)) > MESSAGE_LIMIT and listed > 0:
        listed -= 1
        sections[findings_at] = findings_section(draft.item.text, findings, listed)
    return "\n\n".join(sections)


def draft_view(draft: CaseDraft, *, several_groups: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DraftButton(draft.token, "confirm"))
    if draft.item.via_form:
        view.add_item(DraftButton(draft.token, "edit"))
    if several_groups:
        view.add_item(DraftButton(draft.token, "group"))
    view.add_item(DraftButton(draft.token, "cancel"))
    return view


async def preview(
    bot: BalintBot, draft: CaseDraft, where: case_service.Destination
) -> tuple[str, discord.ui.View]:
    """The preview of `draft` and its buttons."""
    others = await case_service.destinations(bot.database, draft.author_id, bot.clock.now())
    several = any(d.group.id != where.group.id for d in others)
    findings = find_identifiers(draft.item.text)
    return preview_text(where, draft, findings), draft_view(draft, several_groups=several)


async def start_draft(
    bot: BalintBot, author_id: int, where: case_service.Destination, text: str, *, via_form: bool
) -> tuple[str, discord.ui.View]:
    """Check the note (a refusal if it is empty or too long) and keep it as a draft."""
    note = checked_note(text)
    draft = drafts_of(bot).put(
        author_id, Draft(where.group.id, where.session.id, note, via_form), bot.clock.now()
    )
    return await preview(bot, draft, where)


_LABELS = {
    "confirm": ("Confirm", discord.ButtonStyle.success),
    "edit": ("Edit", discord.ButtonStyle.secondary),
    "group": ("Choose another group", discord.ButtonStyle.secondary),
    "cancel": ("Cancel", discord.ButtonStyle.danger),
}


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"case:(?P<action>confirm|edit|group|cancel):(?P<token>{DRAFT_ID})",
):
    def __init__(self, token: str, action: str) -> None:
        self.token, self.action = token, action
        label, style = _LABELS[action]
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"case:{action}:{token}")
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DraftButton:
        return cls(match["token"], match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        book = drafts_of(bot)
        draft = book.get(self.token, interaction.user.id, bot.clock.now())
        if draft is None:
            await interaction.response.edit_message(content=EXPIRED, view=None)
            return
        if self.action == "cancel":
            book.discard(draft.token)
            closing = "" if draft.item.via_form else f"\n\n{DM_CAVEAT}"
            await interaction.response.edit_message(
                content=f"Cancelled: nothing was sent or kept.{closing}", view=None
            )
        elif self.action == "edit":
            await interaction.response.send_modal(
                CaseNoteForm(draft.item.group_id, draft.item.text)
            )
        elif self.action == "group":
            await interaction.response.edit_message(view=await group_choice_view(bot, draft))
        else:
            await confirm(bot, interaction, draft)


async def confirm(bot: BalintBot, interaction: discord.Interaction[Any], draft: CaseDraft) -> None:
    now = bot.clock.now()
    drafts_of(bot).discard(draft.token)
    sent = await case_service.send_note(
        bot.database,
        bot.cipher,
        group_id=draft.item.group_id,
        session_id=draft.item.session_id,
        member_id=draft.author_id,
        text=draft.item.text,
        now=now,
    )
    where = sent.destination
    done = (
        f"Sent to the leaders of **{plain(where.group.name)}** for the session on "
        f"{format_when(where.session.starts_at)}. It is kept encrypted and deleted "
        f"{format_when(where.deleted_at)}. `/case withdraw` deletes it sooner."
    )
    if not draft.item.via_form:
        done += f"\n\n{DM_CAVEAT}"
    await interaction.response.edit_message(content=done, view=None)
    await tell_leaders_about(bot, sent, draft.author_id, "sent a case note")
    await deliver(bot, where.group, sent.notices, "a case note was sent")


async def tell_leaders_about(
    bot: BalintBot, sent: case_service.CaseSent, member_id: int, what: str
) -> None:
    """The leaders hear that something came in (or went), never what it says."""
    where = sent.destination
    text = (
        f"**{plain(where.group.name)}**: <@{member_id}> {what} for the session on "
        f"{format_when(where.session.starts_at)}."
    )
    if what != "withdrew their case note" and not sent.is_flag:
        text += " Read it with `/case view`; only the group's leaders can."
    await best_effort("a case notice", tell_leaders(bot, where.group, text))


async def group_choice_view(bot: BalintBot, draft: CaseDraft) -> discord.ui.View:
    options = await case_service.destinations(bot.database, draft.author_id, bot.clock.now())
    view = discord.ui.View(timeout=None)
    view.add_item(GroupSelect(draft.token, options[:LISTED_GROUPS], draft.item.group_id))
    view.add_item(DraftButton(draft.token, "cancel"))
    return view


class GroupSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"case:pick:(?P<token>{DRAFT_ID})"
):
    """Which of the author's groups the draft goes to."""

    def __init__(
        self,
        token: str,
        options: list[case_service.Destination] | None = None,
        current: int | None = None,
    ) -> None:
        self.token = token
        choices = [
            discord.SelectOption(
                label=shorten(d.group.name, 100),
                value=str(d.group.id),
                default=d.group.id == current,
            )
            for d in options or []
        ] or [discord.SelectOption(label="(no group)", value="0")]
        super().__init__(
            discord.ui.Select(
                custom_id=f"case:pick:{token}",
                placeholder="Send it to which group?",
                options=choices,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> GroupSelect:
        return cls(match["token"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        book = drafts_of(bot)
        now = bot.clock.now()
        draft = book.get(self.token, interaction.user.id, now)
        if draft is None:
            await interaction.response.edit_message(content=EXPIRED, view=None)
            return
        chosen = self.item.values[0] if self.item.values else ""
        group = await get_group(bot.database, int(chosen)) if chosen.isdigit() else None
        if group is None:
            raise Refusal("I can't find that group; pick one from the list.")
        where = await case_service.destination(bot.database, group, draft.author_id, now)
        draft = book.update(
            draft, replace(draft.item, group_id=group.id, session_id=where.session.id)
        )
        text, view = await preview(bot, draft, where)
        await interaction.response.edit_message(content=text, view=view)


class CaseNoteForm(discord.ui.Modal, title="A case note for the leaders"):
    """`/case submit`'s form: the note, checked and previewed before it is sent."""

    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your de-identified note",
        custom_id="note",
        style=discord.TextStyle.paragraph,
        placeholder="A woman in her sixties I saw last spring... (no names, dates or numbers)",
        max_length=NOTE_LIMIT,
    )

    def __init__(self, group_id: int, text: str | None = None) -> None:
        super().__init__(custom_id=f"case:form:{group_id}")
        self.group_id = group_id
        if text is not None:
            self.note.default = text

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot: BalintBot = interaction.client
        group = await get_group(bot.database, self.group_id)
        if group is None:
            raise Refusal("That group no longer exists; nothing was kept.")
        where = await case_service.destination(
            bot.database, group, interaction.user.id, bot.clock.now()
        )
        text, view = await start_draft(
            bot, interaction.user.id, where, self.note.value, via_form=True
        )
        await reply(interaction, text, view=view)

    # Modal.on_error takes no item (discord.py's own Modal narrows View's signature).
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        # Answered like a command's error: a refusal shown, anything else logged without
        # its message (which could quote the note), never discord.py's own log of it.
        await answer_error(interaction, error, type(self).__name__)


async def answer_dm(bot: BalintBot, message: discord.Message) -> None:
    """A member wrote to the bot: preview their note and ask them to confirm. Nothing is
    stored; the draft waits in memory."""
    now = bot.clock.now()
    if message.attachments or message.stickers:
        await _say(
            message,
            "I take text only: please write your note in words, without "
            "files or images. Nothing was kept.",
        )
        return
    found = await case_service.destinations(bot.database, message.author.id, now)
    if not found:
        await _say(message, await _nobody_to_send_to(bot, message.author.id))
        return
    try:
        text, view = await start_draft(
            bot, message.author.id, found[0], message.content, via_form=False
        )
    except Refusal as refusal:
        await _say(message, refusal.render(plain))
        return
    await post(message.channel, text, view=view, allowed_mentions=NO_PINGS)


async def _nobody_to_send_to(bot: BalintBot, user_id: int) -> str:
    if not await groups_of_user(bot.database, None, user_id):
        return (
            "Hello! I keep case notes for the members of Balint groups, and you are not on "
            "any group's roster, so I have kept nothing. If you think you should be, ask "
            "your group's leader."
        )
    return (
        "Thank you. None of your groups has an upcoming session yet, so there is nothing "
        "to send a case note for; I have kept nothing. Try again once the next session "
        "is planned."
    )


async def _say(message: discord.Message, text: str) -> None:
    await message.channel.send(text, allowed_mentions=NO_PINGS)
