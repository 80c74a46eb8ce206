"""The actions on reflections, each one transaction: open a session's window, write,
read back, delete one's own, close the window (release or withhold), show, hide.

What a member writes is written alone: no audit entry, no job, no reconciliation, so no
row anywhere gains a time or an id when a reflection comes in. The author is known only
through the HMAC tag while the window is open; the close destroys the secret and the tags
in the transaction that releases or deletes the texts, and erases them from the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.groups import store as group_store
from bot.groups.rules import Group, Role
from bot.kernel.crypto import Cipher, InvalidTag
from bot.kernel.db import Database, Reader, Transaction
from bot.kernel.errors import Refusal
from bot.kernel.scheduler import JobScheduler, JobSpec
from bot.reflections import rules
from bot.reflections import store as reflection_store
from bot.reflections.jobs import open_key
from bot.reflections.store import Window
from bot.sessions import store as session_store
from bot.sessions.store import Session

CLOSE_KIND = "reflections.close"
RELEASE_KIND = "reflections.release"


def close_key(group_id: int, session_id: int) -> str:
    return f"reflections:group:{group_id}:session:{session_id}:close"


def release_key(group_id: int, session_id: int) -> str:
    return f"reflections:group:{group_id}:session:{session_id}:release"


@dataclass(frozen=True)
class Opened:
    group: Group
    session: Session
    window: Window
    newly: bool


@dataclass(frozen=True)
class Own:
    text: str
    rating: int | None


@dataclass(frozen=True)
class Written:
    group: Group
    session: Session
    window: Window
    replaced: bool
    needs_confirmation: bool = False  # one exists already and `replace` was not asked


@dataclass(frozen=True)
class Item:
    position: int
    text: str | None  # None: it cannot be decrypted
    rating: int | None


@dataclass(frozen=True)
class Batch:
    group: Group
    session: Session
    window: Window
    items: list[Item]  # in batch order, hidden ones left out
    hidden: int

    @property
    def mean(self) -> float | None:
        return rules.mean_rating([item.rating for item in self.items])

    @property
    def rated(self) -> int:
        return sum(item.rating is not None for item in self.items)


async def _session_and_group(database: Reader, session_id: int) -> tuple[Session, Group]:
    session = await session_store.get_session(database, session_id)
    group = None if session is None else await group_store.get_group(database, session.group_id)
    if session is None or group is None:
        raise Refusal("That session no longer exists.")
    return session, group


async def open_window(database: Database, cipher: Cipher, session_id: int, now: datetime) -> Opened:
    """Open the window of a session that has ended (idempotent: a retry finds it open)
    and queue its close, in one transaction. What the window promises is fixed here: who
    may write (the members on the roster now, as tags), the threshold, where the batch
    goes. A window that closed while the bot was down is recorded as closed, with
    nothing received and nobody to tell."""
    async with database.transaction() as tx:
        session, group = await _session_and_group(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if window is not None:
            return Opened(group, session, window, newly=False)
        closes = rules.closes_at(session.ends_at, timedelta(hours=group.reflection_window_h))
        settings: dict[str, Any] = {
            "threshold": rules.effective_threshold(group.reflection_threshold),
            "release_to": group.reflection_release,
        }
        if now >= closes:
            await reflection_store.open_window(tx, session_id, None, closes, writers=[], **settings)
        else:
            secret = rules.new_secret()
            writers = [
                rules.author_tag(secret, entry.user_id, session.id)
                for entry in await group_store.roster(tx, group.id)
                if entry.role is Role.MEMBER
            ]
            sealed = cipher.encrypt(secret.hex(), rules.secret_context(group.id, session.id))
            await reflection_store.open_window(
                tx,
                session_id,
                sealed,
                closes,
                writers=writers,
                **settings,
            )
            await JobScheduler.queue(
                tx,
                JobSpec(
                    CLOSE_KIND,
                    close_key(group.id, session.id),
                    closes,
                    payload={"group_id": group.id, "session_id": session.id},
                    group_id=group.id,
                ),
            )
        opened = await reflection_store.get_window(tx, session_id)
    assert opened is not None
    return Opened(group, session, opened, newly=True)


async def _writer_tag(
    database: Reader, cipher: Cipher, session_id: int, member_id: int, now: datetime
) -> tuple[Group, Session, Window, bytes]:
    """The window (open) and the member's tag in it; a refusal for anyone who was not a
    member at the session's end (leaders, outsiders, people added since)."""
    session, group = await _session_and_group(database, session_id)
    window = await reflection_store.get_window(database, session_id)
    if window is None or not window.is_open or window.sealed_secret is None:
        raise Refusal("The reflection window for that session is closed.")
    if now >= window.closes_at:
        raise Refusal("The reflection window for that session has just closed.")
    secret = bytes.fromhex(
        cipher.decrypt(window.sealed_secret, rules.secret_context(group.id, session.id))
    )
    tag = rules.author_tag(secret, member_id, session_id)
    if not await reflection_store.may_write(database, session_id, tag):
        role = await group_store.role_of(database, group.id, member_id)
        who = (
            "leaders do not write them"
            if role is not None and role.leads
            else "only those who were members when the session ended write them"
        )
        raise Refusal(f"Reflections on this session of **{{group}}**: {who}.", group=group.name)
    return group, session, window, tag


async def may_write(
    database: Reader, cipher: Cipher, session_id: int, member_id: int, now: datetime
) -> Own | None:
    """Refuse who may not write; for who may, their reflection so far (None: none yet)."""
    group, session, _, tag = await _writer_tag(database, cipher, session_id, member_id, now)
    found = await reflection_store.find_by_tag(database, tag)
    if found is None:
        return None
    text, rating = rules.opened_payload(
        cipher.decrypt(found.ciphertext, rules.text_context(group.id, session.id))
    )
    return Own(text, rating)


async def write(
    database: Database,
    cipher: Cipher,
    *,
    session_id: int,
    member_id: int,
    text: str,
    rating: str | None,
    now: datetime,
    replace: bool,
) -> Written:
    """Keep the member's reflection. One already there is replaced only with `replace`
    (else nothing changes and the outcome asks for a confirmation)."""
    reflection = rules.checked_text(text)
    score = rules.parse_rating(rating)
    async with database.transaction() as tx:
        group, session, window, tag = await _writer_tag(tx, cipher, session_id, member_id, now)
        existing = await reflection_store.find_by_tag(tx, tag)
        if existing is not None and not replace:
            return Written(group, session, window, replaced=False, needs_confirmation=True)
        sealed = cipher.encrypt(
            rules.sealed_payload(reflection, score), rules.text_context(group.id, session.id)
        )
        key = existing.key if existing is not None else rules.new_key()
        await reflection_store.put_reflection(tx, session.id, tag, key, sealed)
        if existing is not None:
            tx.erase_from_disk()
    return Written(group, session, window, replaced=existing is not None)


async def delete_own(
    database: Database, cipher: Cipher, session_id: int, member_id: int, now: datetime
) -> bool:
    async with database.transaction() as tx:
        _, _, _, tag = await _writer_tag(tx, cipher, session_id, member_id, now)
        deleted = await reflection_store.delete_by_tag(tx, tag)
        if deleted:
            tx.erase_from_disk()
    return deleted


async def forget_writer(tx: Transaction, cipher: Cipher, group_id: int, member_id: int) -> None:
    """In the group's open windows: the member's reflection and their right to write go
    (`/mydata delete`), found by their tag; nothing else is touched."""
    for window in await reflection_store.open_windows_of_group(tx, group_id):
        if window.sealed_secret is None:
            continue
        secret = bytes.fromhex(
            cipher.decrypt(window.sealed_secret, rules.secret_context(group_id, window.session_id))
        )
        tag = rules.author_tag(secret, member_id, window.session_id)
        if await reflection_store.delete_by_tag(tx, tag):
            tx.erase_from_disk()
        await reflection_store.forget_writer(tx, window.session_id, tag)


async def close_window(database: Database, cipher: Cipher, session_id: int) -> Window | None:
    """The window's end. When enough came in, the batch is kept in an order drawn at
    random, each reflection under a new random key and a fresh encryption (so neither a
    key nor a ciphertext matches a copy of the database taken while the window was open);
    else the texts are deleted. Either way the secret and every tag are destroyed, and
    the database file is rebuilt (no page keeps the order of writing) and its log
    truncated. A retry finds it closed and changes nothing. Returns the closed window."""
    async with database.transaction() as tx:
        session, group = await _session_and_group(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if window is None or not window.is_open:
            return window
        context = rules.text_context(group.id, session.id)
        received = [
            cipher.decrypt(stored.ciphertext, context)
            for stored in await reflection_store.reflections_of(tx, session_id)
        ]
        threshold = window.threshold or group.reflection_threshold
        await reflection_store.delete_reflections(tx, session_id)
        state = "withheld"
        if rules.released(len(received), threshold):
            state = "released"
            positions = rules.shuffled_positions(len(received))
            for position, payload in sorted(zip(positions, received, strict=True)):
                await reflection_store.put_released(
                    tx, session_id, rules.new_key(), cipher.encrypt(payload, context), position
                )
        await reflection_store.close_window(tx, session_id, state, len(received))
        await JobScheduler.forget_recipients(tx, open_key(group.id, session.id))
        tx.rebuild_from_scratch()
        await JobScheduler.queue(
            tx,
            JobSpec(
                RELEASE_KIND,
                release_key(group.id, session.id),
                window.closes_at,
                payload={"group_id": group.id, "session_id": session.id},
                group_id=group.id,
            ),
        )
        return await reflection_store.get_window(tx, session_id)


async def batch(database: Reader, cipher: Cipher, session_id: int) -> Batch:
    """A closed window's batch, as released (hidden ones left out)."""
    session, group = await _session_and_group(database, session_id)
    window = await reflection_store.get_window(database, session_id)
    if window is None or window.is_open:
        raise Refusal("The reflections of that session have not been released.")
    items, hidden = [], 0
    for stored in await reflection_store.reflections_of(database, session_id):
        if stored.hidden:
            hidden += 1
            continue
        try:
            text, rating = rules.opened_payload(
                cipher.decrypt(stored.ciphertext, rules.text_context(group.id, session.id))
            )
        except (InvalidTag, ValueError):
            items.append(Item(stored.position or 0, None, None))
            continue
        items.append(Item(stored.position or 0, text, rating))
    return Batch(group, session, window, items, hidden)


NOT_RELEASED = "No released reflections of that session in **{group}**; pick one from the list."


async def released_batch_of(
    database: Reader, cipher: Cipher, group: Group, session_id: int | None
) -> Batch:
    """The batch `/reflections show` shows: the session's, or the group's latest. Another
    group's session, an unknown one and one not released get the same answer."""
    released = await reflection_store.released_windows_of_group(database, group.id)
    if session_id is None:
        if not released:
            raise Refusal("**{group}** has no released reflections yet.", group=group.name)
        session_id = released[0].session_id
    if session_id not in {window.session_id for window in released}:
        raise Refusal(NOT_RELEASED, group=group.name)
    return await batch(database, cipher, session_id)


async def hide(database: Database, group: Group, session_id: int, number: int) -> None:
    async with database.transaction() as tx:
        session = await session_store.get_session(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if (
            session is None
            or session.group_id != group.id
            or window is None
            or window.state != "released"
        ):
            raise Refusal(NOT_RELEASED, group=group.name)
        if not await reflection_store.hide(tx, session_id, number):
            raise Refusal(
                f"There is no shown reflection number {number} in that batch; "
                "`/reflections show` lists them."
            )


async def open_window_for(database: Reader, group: Group, now: datetime) -> Window:
    """The window `/reflect` writes in: the group's most recent open one."""
    for window in await reflection_store.open_windows_of_group(database, group.id):
        if now < window.closes_at:
            return window
    raise Refusal(
        "No reflection window is open for **{group}**: one opens when a session ends.",
        group=group.name,
    )
