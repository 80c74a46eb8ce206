"""Telling people things: by DM, with a content-free mention in the home channel when
Discord refuses the DM (the member closed DMs from server members); and delivering the
notices a service's transaction left (slots that moved, reminders to retire). Every
message goes out through `messages.post`, so a long one (a slot-change notice listing a
year of slots) arrives in several, none cut inside a timestamp or a mention."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import discord

from bot.groups.rules import Group
from bot.groups.store import roster
from bot.kernel.logs import log_failure
from bot.kernel.scheduler import Job, JobScheduler
from bot.privacy.preferences import preferences_of
from bot.reminders.jobs import RemindersToRetire
from bot.reminders.rules import reminder_nonce
from bot.rota.rules import SlotChange
from bot.rota.service import SlotsChanged
from bot.sessions.recurrence import format_when
from bot.sessions.store import get_session
from cogs._common.messages import plain, post

if TYPE_CHECKING:
    from bot.app import BalintBot

log = logging.getLogger(__name__)

CANNOT_SEND_TO_USER = 50007


class DmPurpose(StrEnum):
    """What a DM is for, which decides the preference that governs it (`/preferences`)."""

    NOTICE = "notice"  # reminders, slot changes, swaps, leaders' notices: reminder_dms
    REFLECTION_PROMPT = "reflection prompt"  # the invitation to reflect: reflection_dms


class DmsTurnedOff(Exception):
    """The member turned this kind of DM off with `/preferences`."""


def fallback_text(user_id: int, hint: str, *, turned_off: bool = False) -> str:
    if turned_off:
        hint = hint.removeprefix("then ")
        return (
            f"<@{user_id}>, I have a message for you; you turned off my direct messages "
            f"(`/preferences`), so I mention you here without its content. "
            f"{hint[0].upper()}{hint[1:]}"
        )
    return (
        f"<@{user_id}>, I have a message for you but could not send it as a direct message. "
        f"Please allow direct messages from this server's members; {hint}"
    )


def only(user_id: int) -> discord.AllowedMentions:
    """Allowed mentions that can ping exactly this user and nobody else."""
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)])


async def send_dm(
    bot: BalintBot,
    user_id: int,
    text: str,
    *,
    purpose: DmPurpose,
    view: discord.ui.View | None = None,
    nonce: str | None = None,
) -> None:
    """A DM through the bot's pacer: opening the DM channel and sending both wait their
    turn, so a burst (a term's rota, a notice to every leader) stays under Discord's
    anti-spam limits. A text too long for one message goes in several (`post`), in one
    turn, so its parts arrive together and in order. Raises `DmsTurnedOff` when the
    member's preferences say no to this `purpose`, and discord.Forbidden (50007) when
    their DMs are closed."""
    wanted = await preferences_of(bot.database, user_id)
    if not (
        wanted.reflection_dms if purpose is DmPurpose.REFLECTION_PROMPT else wanted.reminder_dms
    ):
        raise DmsTurnedOff

    async def open_and_send() -> None:
        channel = await bot.create_dm(discord.Object(user_id))
        await post(
            channel, text, allowed_mentions=discord.AllowedMentions.none(), view=view, nonce=nonce
        )

    await bot.dm_pacer.run(open_and_send)


async def tell(
    bot: BalintBot,
    group: Group,
    user_id: int,
    text: str,
    *,
    view: discord.ui.View | None = None,
    hint: str = "then `/rota me` shows your slots.",
    fallback_view: discord.ui.View | None = None,
    nonce: str | None = None,
) -> bool:
    """DM `text` to the user; when their DMs are closed or turned off, mention them in the
    home channel with nothing private. Returns True if the DM went through. With a
    `nonce`, a repeat of the same message (a job re-run after a crash) is collapsed by
    Discord."""
    turned_off = False
    try:
        await send_dm(bot, user_id, text, purpose=DmPurpose.NOTICE, view=view, nonce=nonce)
        return True
    except DmsTurnedOff:
        turned_off = True
    except discord.Forbidden as error:
        if error.code != CANNOT_SEND_TO_USER:
            raise
    home = bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
    await post(
        home,
        fallback_text(user_id, hint, turned_off=turned_off),
        allowed_mentions=only(user_id),
        view=fallback_view,
        nonce=nonce,
    )
    return False


async def best_effort(what: str, notice: Awaitable[Any]) -> bool:
    """Send a notice that follows a change already made: a failure is logged (without
    its message) and does not stop the next notice or undo the change."""
    try:
        await notice
    except Exception as error:
        log_failure(log, what, error)
        return False
    return True


async def retried_later(what: str, notice: Awaitable[Any]) -> bool:
    """Like `best_effort`, for a notice its caller sends again later (a job's retry):
    Discord refusing or failing it is logged as a warning, with the HTTP status only."""
    try:
        await notice
    except discord.HTTPException as error:
        log.warning("%s could not be sent (HTTP %s); it will be retried", what, error.status)
        return False
    except Exception as error:
        log_failure(log, what, error)
        return False
    return True


async def tell_leaders(
    bot: BalintBot,
    group: Group,
    text: str,
    *,
    nonce_for: Callable[[int], str] | None = None,
    skip: Collection[int] = (),
    on_reached: Callable[[int], Awaitable[None]] | None = None,
) -> list[int]:
    """A leaders' notice: to every leader and co-leader of the group by DM. Where a
    leader's DMs are closed, the notice goes to the group's leaders' channel (private to
    the leaders) mentioning them, if one is set; else a content-free mention in the home
    channel. One leader's failure does not keep the notice from the others. Leaders in
    `skip` (reached before) are left out; `on_reached` hears of each one reached. Returns
    the leaders who could not be reached (Discord failed), for the caller to retry. A
    caller that keeps count of whom it reached (`on_reached`) sends to the others again
    later, so Discord failing is then a warning, not an error."""
    unreached: list[int] = []
    attempt = best_effort if on_reached is None else retried_later
    for entry in await roster(bot.database, group.id):
        if not entry.role.leads or entry.user_id in skip:
            continue
        nonce = None if nonce_for is None else nonce_for(entry.user_id)
        reached = await attempt(
            "a leaders' notice", _tell_leader(bot, group, entry.user_id, text, nonce)
        )
        if not reached:
            unreached.append(entry.user_id)
        elif on_reached is not None:
            await on_reached(entry.user_id)
    return unreached


class LeadersNotReached(Exception):
    """Some leaders could not be reached (Discord failed): the job is retried for them."""


async def tell_leaders_for_job(bot: BalintBot, group: Group, text: str, job: Job) -> None:
    """A leaders' notice that a scheduled job sends, exactly once to each leader: a
    retry of the job skips those it reached before (the database records each one) and
    every message carries a nonce derived from the job, so a crash between sending and
    recording is collapsed by Discord. Raises `LeadersNotReached` (the job is retried)
    while some leader could not be reached."""
    database = bot.database

    async def reached(user_id: int) -> None:
        await JobScheduler.record_reached(database, job, user_id)

    unreached = await tell_leaders(
        bot,
        group,
        text,
        nonce_for=lambda user: reminder_nonce(job.id, recipient_id=user),
        skip=await JobScheduler.recipients_reached(database, job),
        on_reached=reached,
    )
    if unreached:
        raise LeadersNotReached(len(unreached))


async def _tell_leader(
    bot: BalintBot, group: Group, user_id: int, text: str, nonce: str | None
) -> None:
    turned_off = False
    try:
        await send_dm(bot, user_id, text, purpose=DmPurpose.NOTICE, nonce=nonce)
        return
    except DmsTurnedOff:
        turned_off = True
    except discord.Forbidden as error:
        if error.code != CANNOT_SEND_TO_USER:
            raise
    if group.leaders_channel_id is not None and not turned_off:
        # DMs closed by Discord's setting: the leaders' channel takes the notice itself. A
        # leader who turned the bot's DMs off gets only a content-free mention anywhere.
        leaders = bot.get_partial_messageable(group.leaders_channel_id, guild_id=group.guild_id)
        await post(leaders, f"<@{user_id}>: {text}", allowed_mentions=only(user_id), nonce=nonce)
        return
    home = bot.get_partial_messageable(group.channel_id, guild_id=group.guild_id)
    hint = "until then, a leaders' channel (`/group settings leaders_channel`) can receive them."
    if turned_off:
        hint = "`/preferences reminder_dms:True` brings them back by DM."
    await post(
        home,
        fallback_text(user_id, hint, turned_off=turned_off),
        allowed_mentions=only(user_id),
        nonce=nonce,
    )


async def tell_slot_changes(
    bot: BalintBot,
    group: Group,
    changes: Mapping[int, SlotChange],
    reason: str,
    exclude: Collection[int] = (),
) -> None:
    """Tell each member whose presenting slots moved what they gained and lost (except
    those in `exclude`: someone who has just erased their data is not written to)."""
    for member_id, change in changes.items():
        if member_id in exclude:
            continue
        lines = [f"Your presenting slots in **{plain(group.name)}** changed ({reason}):"]
        for label, session_ids in (
            ("You now present", change.gained),
            ("You no longer present", change.lost),
        ):
            for session_id in sorted(session_ids):
                session = await get_session(bot.database, session_id)
                if session is not None:
                    lines.append(f"- {label} on {format_when(session.starts_at)}")
        lines.append("See `/rota me` for all your slots.")
        await best_effort("a slot-change notice", tell(bot, group, member_id, "\n".join(lines)))


async def retire_reminder_messages(
    bot: BalintBot, posted: list[tuple[int, int]], note: str
) -> None:
    """The session was cancelled or moved: the channel reminders already posted for it
    (taken from the database in the same transaction as the change, so a reminder the
    change itself causes is never among them) stop offering RSVP buttons and say why.
    One message deleted by hand does not keep the others from being retired."""
    for channel_id, message_id in posted:
        message = bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                content=note, view=None, allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.NotFound:
            continue


async def deliver(
    bot: BalintBot,
    group: Group,
    notices: list[object],
    reason: str,
    exclude: Collection[int] = (),
) -> None:
    """After the reply: retire the reminders of sessions that were cancelled or moved,
    then tell each member whose slots moved (`reason` says why). Each is best effort:
    the change is made already, and one failure does not keep the others from going."""
    for notice in notices:
        if isinstance(notice, RemindersToRetire):
            await best_effort(
                "retiring reminders",
                retire_reminder_messages(bot, notice.posted, retired_note(group, notice)),
            )
    for notice in notices:
        if isinstance(notice, SlotsChanged):
            await tell_slot_changes(bot, group, notice.changes, reason, exclude)


def retired_note(group: Group, notice: RemindersToRetire) -> str:
    """What a retired reminder says instead of asking for RSVPs."""
    if notice.new_start is None:
        when = format_when(notice.old_start)
        return f"**{plain(group.name)}**: the session of {when} was cancelled."
    moved = f"from {format_when(notice.old_start)} to {format_when(notice.new_start)}"
    return f"**{plain(group.name)}**: this session moved {moved}. A new reminder will ask again."


async def slots_changed_text(bot: BalintBot, group: Group, notices: list[object]) -> str:
    """For the reply to a leader's change: exactly which slots changed hands (nothing
    when none did)."""
    handed = {
        session_id: handover
        for notice in notices
        if isinstance(notice, SlotsChanged) and notice.group_id == group.id
        for session_id, handover in notice.handovers.items()
    }
    if not handed:
        return ""
    lines = []
    for session_id, (old, new) in handed.items():
        session = await get_session(bot.database, session_id)
        if session is None:
            continue
        before = "nobody" if old is None else f"<@{old}>"
        after = "nobody" if new is None else f"<@{new}>"
        lines.append((session.starts_at, f"- {format_when(session.starts_at)}: {before} → {after}"))
    return "Slots changed:\n" + "\n".join(line for _, line in sorted(lines))
