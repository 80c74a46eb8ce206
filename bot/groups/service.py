"""The user actions on groups, each one transaction: create, change the roster, change the
settings, delete; and forgetting a server the bot has left.

A change that affects what is derived from the group (its rota, its reminders) asks the
transaction to `watch` the group, so the derived data follows in the same transaction
and the people to tell come back as notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.groups import audit
from bot.groups import store as group_store
from bot.groups.rules import REMINDER_SETTINGS, Group, Role, RosterEntry, clean_name
from bot.kernel.db import Database
from bot.kernel.errors import Refusal
from bot.kernel.zones import parse_zone


@dataclass(frozen=True)
class RosterChange:
    """What a roster change did: the member's role before and after (None: not on the
    roster), how many people the roster has now, and the notices to deliver."""

    member_id: int
    previous: Role | None
    role: Role | None
    size: int
    notices: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class SettingsChange:
    group: Group
    notices: list[object] = field(default_factory=list)


def _refuse_losing_the_last_leader(entries: list[RosterEntry], previous: Role | None) -> None:
    """A change that takes the role away from the group's only leader is refused."""
    if previous is Role.LEADER and sum(e.role is Role.LEADER for e in entries) == 1:
        raise Refusal("A group needs at least one leader: make someone else leader first.")


async def create_group(
    database: Database,
    *,
    guild_id: int,
    name: str,
    channel_id: int,
    timezone: str,
    leader_id: int,
    actor_id: int,
    now: datetime,
) -> Group:
    """A new group with its first leader; refuses an empty or taken name, or a time zone
    that does not exist."""
    cleaned = clean_name(name)
    if not cleaned:
        raise Refusal("A group needs a name.")
    zone = parse_zone(timezone)
    async with database.transaction() as tx:
        if await group_store.group_by_name(tx, guild_id, cleaned) is not None:
            raise Refusal("This server already has a group called **{name}**.", name=cleaned)
        group_id = await group_store.create_group(
            tx,
            guild_id=guild_id,
            name=cleaned,
            channel_id=channel_id,
            timezone=zone.key,
            leader_id=leader_id,
            now=now,
        )
        await audit.record(
            tx,
            guild_id=guild_id,
            group_id=group_id,
            actor_id=actor_id,
            action="group create",
            detail=f"{cleaned} in #{channel_id}, {zone.key}, leader {leader_id}",
            at=now,
            subject_id=leader_id,
        )
        group = await group_store.get_group(tx, group_id)
    assert group is not None
    return group


async def put_on_roster(
    database: Database, group: Group, member_id: int, role: Role, actor_id: int, now: datetime
) -> RosterChange:
    """Add the member with `role`, or change their role. A member who comes to lead hands
    back their presenting slots (leaders facilitate and do not present)."""
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        entries = await group_store.roster(tx, group.id)
        previous = next((e.role for e in entries if e.user_id == member_id), None)
        if previous is role:
            raise Refusal(f"<@{member_id}> is already a {role} of **{{group}}**.", group=group.name)
        _refuse_losing_the_last_leader(entries, previous)
        await group_store.put_member(tx, group.id, member_id, role, now)
        await audit.record_change(
            tx,
            group,
            actor_id,
            "roster add" if previous is None else "roster role",
            f"{member_id} as {role}",
            now,
            subject_id=member_id,
        )
    size = len(entries) + (previous is None)
    return RosterChange(member_id, previous, role, size, tx.notices)


async def remove_from_roster(
    database: Database, group: Group, member_id: int, actor_id: int, now: datetime
) -> RosterChange:
    """Take the member off the roster; their upcoming slots go back to the rota."""
    async with database.transaction() as tx:
        await tx.watch(group.id, now)
        entries = await group_store.roster(tx, group.id)
        previous = next((e.role for e in entries if e.user_id == member_id), None)
        if previous is None:
            raise Refusal(f"<@{member_id}> is not in **{{group}}**.", group=group.name)
        _refuse_losing_the_last_leader(entries, previous)
        await group_store.remove_member(tx, group.id, member_id)
        await audit.record_change(
            tx, group, actor_id, "roster remove", str(member_id), now, subject_id=member_id
        )
    return RosterChange(member_id, previous, None, len(entries) - 1, tx.notices)


async def change_settings(
    database: Database, group: Group, changes: Mapping[str, object], actor_id: int, now: datetime
) -> SettingsChange:
    """Apply `changes` (columns of `SETTING_COLUMNS`). New reminder offsets re-plan the
    reminders, a new term start re-plans the rota and a new case retention re-times the
    purge of held notes, in the same transaction."""
    async with database.transaction() as tx:
        if changes.keys() & (REMINDER_SETTINGS | {"term_start", "case_retention_h"}):
            await tx.watch(group.id, now)
        await group_store.update_settings(tx, group.id, dict(changes))
        await audit.record_change(
            tx,
            group,
            actor_id,
            "settings",
            ", ".join(f"{k}={v}" for k, v in sorted(changes.items())),
            now,
        )
    updated = await group_store.get_group(database, group.id)
    assert updated is not None
    return SettingsChange(updated, tx.notices)


async def stop_showing_events(database: Database, group_id: int) -> None:
    """Turn off mirroring as server Events (first step of deleting a group, so that a
    mirror run waiting its turn adds nothing back)."""
    async with database.transaction() as tx:
        await group_store.update_settings(tx, group_id, {"mirror_events": 0})


async def delete_group(database: Database, group: Group, actor_id: int, now: datetime) -> None:
    """The group and all its data; the deletion itself stays on record for the server."""
    async with database.transaction() as tx:
        await group_store.delete_group(tx, group.id)
        tx.erase_from_disk()  # its case notes go with it, from the disk too
        await audit.record(
            tx,
            guild_id=group.guild_id,
            group_id=None,
            actor_id=actor_id,
            action="group delete",
            detail=group.name,
            at=now,
        )


async def forget_server(database: Database, guild_id: int) -> int:
    """Everything about a server the bot is no longer in; returns how many groups went."""
    async with database.transaction() as tx:
        tx.erase_from_disk()  # the groups' case notes go with them, from the disk too
        return await group_store.delete_guild_data(tx, guild_id)
