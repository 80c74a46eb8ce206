"""A member's own data: export it, or erase it in one transaction.

Erasing watches every group the member is in, so the rota hands their upcoming slots on,
the reminders follow and the cases capability drops what they sent, all in the same
transaction as the erasure; the transaction erases from the disk too (secure deletion,
log checkpointed). Released reflections stay: nothing links them to anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from bot.groups import store as group_store
from bot.groups.rules import Group
from bot.kernel.crypto import Cipher
from bot.kernel.db import Database, Reader
from bot.kernel.errors import Refusal
from bot.privacy.registry import KEEPERS
from bot.reflections import service as reflection_service


async def export_data(database: Reader, user_id: int, now: datetime) -> bytes:
    """Everything the bot keeps about the member, as a JSON document."""
    document: dict[str, object] = {
        "about": "What Balint bot keeps about you, as of this moment. Reflections are not "
        "included: nothing in them names their author, so nobody can find yours.",
        "user_id": str(user_id),
        "exported_at": now.isoformat(),
    }
    for keeper in KEEPERS:
        document[keeper.name] = await keeper.export(database, user_id)
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Erased:
    groups: list[Group]
    notices: list[object] = field(default_factory=list)


async def groups_left_without_a_leader(database: Reader, user_id: int) -> list[Group]:
    """The groups of which the member is the last leader or co-leader."""
    alone = []
    for group in await group_store.groups_of_user(database, None, user_id):
        leading = [e.user_id for e in await group_store.roster(database, group.id) if e.role.leads]
        if leading == [user_id]:
            alone.append(group)
    return alone


async def erase_data(database: Database, cipher: Cipher, user_id: int, now: datetime) -> Erased:
    async with database.transaction() as tx:
        alone = await groups_left_without_a_leader(tx, user_id)
        if alone:
            names = ", ".join(f"**{{g{i}}}**" for i in range(len(alone)))
            raise Refusal(
                f"You are the last leader of {names}: hand the group over first "
                "(`/group add` someone as leader), then delete your data. Nothing was "
                "deleted.",
                **{f"g{i}": group.name for i, group in enumerate(alone)},
            )
        mine = await group_store.groups_of_user(tx, None, user_id)
        for group in mine:
            await tx.watch(group.id, now)
        for group in mine:
            # an open reflection window: their reflection goes, found by their tag (once
            # closed, nothing names anyone, so nothing is left to erase)
            await reflection_service.forget_writer(tx, cipher, group.id, user_id)
        for keeper in KEEPERS:
            await keeper.erase(tx, user_id, now)
        tx.erase_from_disk()
    return Erased(mine, tx.notices)
