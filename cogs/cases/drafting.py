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
from bot.cases.rules import DRAFT_LIFETIME, NOTE_LIMIT, checked_note
from bot.groups.store import get_group, groups_of_user
from bot.kernel.drafts import DraftBook, Gone
from bot.kernel.errors import Refusal, shorten
from bot.sessions.recurrence import format_when
from cogs._common.access import STORED_ID, as_group_id
from cogs._common.forms import form_values, show_form
from cogs._common.messages import MESSAGE_LIMIT, NO_PINGS, guarded, plain, post, reply
from cogs._common.notify import best_effort, deliver, tell_leaders

if TYPE_CHECKING:
    from bot.app import BalintBot
    from bot.cases.identifiers import Finding, IdentifierClass

# `bot.cases.identifiers` (its patterns, and phonenumbers' tables) is imported where a
# note is first checked, not at start: it is the largest part of the bot's start-up
# (docs/performance.md), and a bot may run for days before anyone sends a note.

DRAFT_ID = r"[A-Za-z0-9_-]{1,40}"  # a draft's random token
EXCERPT_LIMIT = 40
LISTED_FINDINGS = 6
LISTED_GROUPS = 25  # a select menu's limit
DRAFT_MINUTES = int(DRAFT_LIFETIME.total_seconds() // 60)
EXPIRED = (
    f"This draft has expired: drafts wait {DRAFT_MINUTES} minutes, and not across a restart "
    "of the bot. Nothing was kept. Please send your note again."
)
MIN_DM_NOTE = 20  # characters: "Thanks!" is a reply, not a case note
SHORT_DM = (
    "Hello! I take case notes for your group's leaders: write the note in one message of a "
    "few sentences (or use `/case submit` for a private form), and I will show you what "
    "happens to it before anything is kept. To say only that you may have a case, use "
    "`/case flag`. Nothing was kept."
)
REPLACED = (
    "You sent me a newer note after this one, so this draft was replaced by it; nothing "
    "of it was kept. Use the newest preview."
)
ALREADY_DONE = "Already done: this note was sent, or cancelled, a moment ago."
NOT_A_NOTE_HINT = "If your message was not meant as a case note, press **Cancel**: nothing is kept."
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
    """What the identifier check found: one line per kind (so every kind shows), with up
    to `listed` excerpts and its hint."""
    if not findings:
        return "The identifier check found nothing that looks like a patient identifier."
    from bot.cases.identifiers import HINTS

    by_kind: dict[IdentifierClass, list[str]] = {}
    for finding in findings:
        excerpt = plain(shorten(text[finding.start : finding.end], EXCERPT_LIMIT))
        by_kind.setdefault(finding.kind, []).append(f"“{excerpt}”")
    lines = ["**Please check these first**: they may identify the patient."]
    for kind, excerpts in by_kind.items():
        shown = ", ".join(excerpts[:listed])
        more = f" and {len(excerpts) - listed} more" if len(excerpts) > listed else ""
        lines.append(f"- {shown}{more}: {HINTS[kind]}")
    return "\n".join(lines)


def retention_words(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" + ("s" if days != 1 else "")
    return f"{hours} hour" + ("s" if hours != 1 else "")


def preview_text(where: case_service.Destination, draft: CaseDraft, findings: list[Finding]) -> str:
    group, session = where.group, where.session
    readers = ", ".join(f"<@{leader}>" for leader in where.leaders) or "the group's leaders"
    retention = group.case_retention_h
    after = f", plus {retention_words(retention)}" if retention else ""
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
    press = "Replace my earlier note" if where.replaces else "Confirm"
    sections.append(f"{change} Press **{press}** within {DRAFT_MINUTES} minutes to send it.")
    if not draft.item.via_form:
        sections.append(f"{NOT_A_NOTE_HINT}\n{DM_CAVEAT}")
    listed = LISTED_FINDINGS
    # The preview is edited in place (another group chosen), so it must fit one message.
    while len("\n\n".join(sections)) > MESSAGE_LIMIT and listed > 1:
        listed -= 1
        sections[findings_at] = findings_section(draft.item.text, findings, listed)
    return "\n\n".join(sections)


def draft_view(draft: CaseDraft, *, several_groups: bool, replaces: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DraftButton(draft.token, "replace" if replaces else "confirm"))
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
    from bot.cases.identifiers import find_identifiers

    findings = find_identifiers(draft.item.text)
    view = draft_view(draft, several_groups=several, replaces=where.replaces)
    return preview_text(where, draft, findings), view


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
    "replace": ("Replace my earlier note", discord.ButtonStyle.success),
    "edit": ("Edit", discord.ButtonStyle.secondary),
    "group": ("Choose another group", discord.ButtonStyle.secondary),
    "cancel": ("Cancel", discord.ButtonStyle.danger),
}


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"case:(?P<action>confirm|replace|edit|group|cancel):(?P<token>{DRAFT_ID})",
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
        now = bot.clock.now()
        acting = self.action in ("confirm", "replace", "cancel")
        take = book.take if acting else book.get
        draft = take(self.token, interaction.user.id, now)
        if draft is None:
            await answer_gone(interaction, book.why_gone(self.token))
        elif self.action == "cancel":
            closing = "" if draft.item.via_form else f"\n\n{DM_CAVEAT}"
            await interaction.response.edit_message(
                content=f"Cancelled: nothing was sent or kept.{closing}", view=None
            )
        elif self.action == "edit":
            form = CaseNoteForm(draft.item.group_id, draft.item.text)
            await show_form(interaction, form)
        elif self.action == "group":
            await interaction.response.edit_message(view=await group_choice_view(bot, draft))
        else:
            await confirm(bot, interaction, draft)


async def answer_gone(interaction: discord.Interaction[Any], why: Gone) -> None:
    """A button of a draft that is no longer waiting: say why, without undoing what the
    first press of it did."""
    if why is Gone.DONE:
        await reply(interaction, ALREADY_DONE)
        return
    text = REPLACED if why is Gone.REPLACED else EXPIRED
    await interaction.response.edit_message(content=text, view=None)


async def confirm(bot: BalintBot, interaction: discord.Interaction[Any], draft: CaseDraft) -> None:
    try:
        sent = await case_service.send_note(
            bot.database,
            bot.cipher,
            group_id=draft.item.group_id,
            session_id=draft.item.session_id,
            member_id=draft.author_id,
            text=draft.item.text,
            now=bot.clock.now(),
        )
    except Refusal as refusal:
        # the preview itself says why, and offers no button that could only fail again
        await interaction.response.edit_message(content=refusal.render(plain), view=None)
        return
    where = sent.destination
    done = (
        f"Sent to the leaders of **{plain(where.group.name)}** for the session on "
        f"{format_when(where.session.starts_at)}. It is kept encrypted and deleted "
        f"{format_when(where.deleted_at)}. `/case withdraw` deletes it sooner."
    )
    if not draft.item.via_form:
        done += f"\n\n{DM_CAVEAT}"
    await interaction.response.edit_message(content=done, view=None)
    await tell_leaders_about(bot, sent, draft.author_id, "sent a case note", to_read=True)
    await deliver(bot, where.group, sent.notices, "a case note was sent")


async def tell_leaders_about(
    bot: BalintBot,
    sent: case_service.CaseSent,
    member_id: int,
    what: str,
    *,
    to_read: bool = False,
) -> None:
    """The leaders hear that something came in (or went), never what it says; `to_read`:
    a note came in, which they can read."""
    where = sent.destination
    text = (
        f"**{plain(where.group.name)}**: <@{member_id}> {what} for the session on "
        f"{format_when(where.session.starts_at)}."
    )
    if to_read:
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
        group_id = as_group_id(chosen)
        group = None if group_id is None else await get_group(bot.database, group_id)
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
        if text is not None:
            self.note.default = text


FORM_ID = re.compile(rf"case:form:(?P<group>{STORED_ID})")


async def submit_form(bot: BalintBot, interaction: discord.Interaction[Any], form_id: str) -> bool:
    """A case form came back (`cogs._common.forms`, so even after a restart): preview
    its note. Returns False when `form_id` is not a case form."""
    match = FORM_ID.fullmatch(form_id)
    if match is None:
        return False
    group = await get_group(bot.database, int(match["group"]))
    if group is None:
        raise Refusal("That group no longer exists; nothing was kept.")
    where = await case_service.destination(
        bot.database, group, interaction.user.id, bot.clock.now()
    )
    note = form_values(interaction).get("note", "")
    text, view = await start_draft(bot, interaction.user.id, where, note, via_form=True)
    await reply(interaction, text, view=view)
    return True


async def answer_dm(bot: BalintBot, message: discord.Message) -> None:
    """A member wrote to the bot: preview their note and ask them to confirm. Nothing is
    stored; the draft waits in memory."""
    now = bot.clock.now()
    if message.attachments or message.stickers:
        await _say(
            message,
            "I take text only: please write your note in words, without files or images. "
            f"Nothing was kept.\n\n{DM_CAVEAT}",
        )
        return
    found = await case_service.destinations(bot.database, message.author.id, now)
    if not found:
        await _say(message, await _nobody_to_send_to(bot, message.author.id))
        return
    if 0 < len(message.content.strip()) < MIN_DM_NOTE:
        await _say(message, SHORT_DM)
        return
    try:
        text, view = await start_draft(
            bot, message.author.id, found[0], message.content, via_form=False
        )
    except Refusal as refusal:
        await _say(message, f"{refusal.render(plain)}\n\n{DM_CAVEAT}")
        return
    await post(message.channel, text, view=view, allowed_mentions=NO_PINGS)


async def _nobody_to_send_to(bot: BalintBot, user_id: int) -> str:
    if not await groups_of_user(bot.database, None, user_id):
        return (
            "Hello! I keep case notes for the members of Balint groups, and you are not on "
            "any group's roster, so I have kept nothing. If you think you should be, ask "
            f"your group's leader.\n\n{DM_CAVEAT}"
        )
    return (
        "Thank you. None of your groups has an upcoming session yet, so there is nothing "
        "to send a case note for; I have kept nothing. Try again once the next session "
        "is planned."
    )


async def _say(message: discord.Message, text: str) -> None:
    await post(message.channel, text, allowed_mentions=NO_PINGS)
