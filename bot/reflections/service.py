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

from bot.groups import store as group_store
from bot.groups.rules import Group, Role
from bot.kernel.crypto import Cipher, InvalidTag
from bot.kernel.db import Database, Reader
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
    and queue its close, in one transaction."""
    async with database.transaction() as tx:
        session, group = await _session_and_group(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if window is not None:
            return Opened(group, session, window, newly=False)
        closes = rules.closes_at(session.ends_at, timedelta(hours=group.reflection_window_h))
        sealed = cipher.encrypt(
            rules.new_secret().hex(), rules.secret_context(group.id, session.id)
        )
        await reflection_store.open_window(tx, session_id, sealed, closes)
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
    """The window (open) and the member's tag in it; a refusal for anyone who may not
    write there."""
    session, group = await _session_and_group(database, session_id)
    role = await group_store.role_of(database, group.id, member_id)
    if role is not Role.MEMBER:
        who = "leaders" if role is not None else "people outside the group"
        raise Refusal(
            f"Reflections are written by the members of **{{group}}**; {who} do not write them.",
            group=group.name,
        )
    window = await reflection_store.get_window(database, session_id)
    if window is None or not window.is_open or window.sealed_secret is None:
        raise Refusal("The reflection window for that session is closed.")
    if now >= window.closes_at:
        raise Refusal("The reflection window for that session has just closed.")
    secret = bytes.fromhex(
        cipher.decrypt(window.sealed_secret, rules.secret_context(group.id, session.id))
    )
    return group, session, window, rules.author_tag(secret, member_id, session_id)


async def may_write(
    database: Reader, cipher: Cipher, session_id: int, member_id: int, now: datetime
) -> Own | None:
    """Refuse who may not write; for who may, their reflection so far (None: none yet)."""
    group, session, _, tag = await _writer_tag(database, cipher, session_id, member_id, now)
    found = await reflection_store.find_by_tag(database, tag)
    if found is None:
        return None
    text = cipher.decrypt(found.ciphertext, rules.text_context(group.id, session.id))
    return Own(text, found.rating)


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
        sealed = cipher.encrypt(reflection, rules.text_context(group.id, session.id))
        key = existing.key if existing is not None else rules.new_key()
        await reflection_store.put_reflection(tx, session.id, tag, key, sealed, score)
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


async def close_window(database: Database, session_id: int) -> Window | None:
    """The window's end: release the batch (shuffled) when enough came in, else delete
    the texts; either way destroy the secret and the tags, erased from the disk. A
    retry finds it closed and changes nothing. Returns the closed window."""
    async with database.transaction() as tx:
        session, group = await _session_and_group(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if window is None or not window.is_open:
            return window
        received = await reflection_store.reflections_of(tx, session_id)
        if rules.released(len(received), group.reflection_threshold):
            for item, position in zip(
                received, rules.shuffled_positions(len(received)), strict=True
            ):
                await reflection_store.set_position(tx, item.key, position)
            state = "released"
        else:
            await reflection_store.delete_reflections(tx, session_id)
            state = "withheld"
        await reflection_store.close_window(tx, session_id, state, len(received))
        # whom the invitation reached is of no use any more: keep no list of members here
        await JobScheduler.forget_recipients(tx, open_key(group.id, session.id))
        tx.erase_from_disk()
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
            text: str | None = cipher.decrypt(
                stored.ciphertext, rules.text_context(group.id, session.id)
            )
        except InvalidTag:
            text = None
        items.append(Item(stored.position or 0, text, stored.rating))
    return Batch(group, session, window, items, hidden)


async def released_batch_of(
    database: Reader, cipher: Cipher, group: Group, session_id: int | None
) -> Batch:
    """The batch `/reflections show` shows: the session's, or the group's latest."""
    if session_id is None:
        windows = await reflection_store.released_windows_of_group(database, group.id)
        if not windows:
            raise Refusal("**{group}** has no released reflections yet.", group=group.name)
        session_id = windows[0].session_id
    found = await batch(database, cipher, session_id)
    if found.group.id != group.id:
        raise Refusal("I can't find that session in this group; pick one from the list.")
    if found.window.state != "released":
        raise Refusal("Too few reflections came in for that session; none were kept.")
    return found


async def hide(database: Database, group: Group, session_id: int, number: int) -> None:
    async with database.transaction() as tx:
        session = await session_store.get_session(tx, session_id)
        window = await reflection_store.get_window(tx, session_id)
        if session is None or session.group_id != group.id or window is None:
            raise Refusal("I can't find that session in this group; pick one from the list.")
        if window.state != "released":
            raise Refusal("The reflections of that session have not been released.")
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
