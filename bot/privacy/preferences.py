"""Each member's DM preferences (`/preferences`): both on unless they turned one off.

- `reminder_dms`: every direct message the bot sends on its own (reminders, slot changes,
  swap requests, leaders' notices). Turned off, the ones a member must not miss (swap
  requests, presenter notices, leaders' notices) arrive as a content-free mention in the
  home channel (or the leaders' channel) instead; nothing private is posted.
- `reflection_dms`: the invitation to write a reflection after a session. Turned off,
  the button in the home channel is the only invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.kernel.db import Reader, Transaction


@dataclass(frozen=True)
class Preferences:
    reminder_dms: bool = True
    reflection_dms: bool = True


async def preferences_of(database: Reader, user_id: int) -> Preferences:
    row = await database.fetchone(
        "SELECT reminder_dms, reflection_dms FROM preferences WHERE user_id = ?", (user_id,)
    )
    if row is None:
        return Preferences()
    return Preferences(bool(row["reminder_dms"]), bool(row["reflection_dms"]))


async def set_preferences(
    tx: Transaction,
    user_id: int,
    *,
    reminder_dms: bool | None = None,
    reflection_dms: bool | None = None,
) -> Preferences:
    """Change the given preferences, keep the others; returns them all."""
    now = await preferences_of(tx, user_id)
    wanted = Preferences(
        now.reminder_dms if reminder_dms is None else reminder_dms,
        now.reflection_dms if reflection_dms is None else reflection_dms,
    )
    if wanted == Preferences():
        # the defaults need no row: a member who never changed anything is not on file
        await tx.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))
    else:
        await tx.execute(
            "INSERT INTO preferences (user_id, reminder_dms, reflection_dms) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET reminder_dms = excluded.reminder_dms,"
            " reflection_dms = excluded.reflection_dms",
            (user_id, int(wanted.reminder_dms), int(wanted.reflection_dms)),
        )
    return wanted


DATA = {
    "preferences": "your `/preferences` choices, if you changed them (kept until you change "
    "them back or delete your data)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    mine = await preferences_of(database, user_id)
    return {"reminder_dms": mine.reminder_dms, "reflection_dms": mine.reflection_dms}


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    await tx.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))
