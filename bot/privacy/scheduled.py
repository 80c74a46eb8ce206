"""A member's traces in the scheduler's own tables: whom a job has reached, and the jobs
about them (a presenter reminder is keyed by its presenter)."""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.kernel.db import Reader, Transaction

DATA = {
    "job_recipients": "that a notice of the bot reached you, so that it is never sent to "
    "you twice (kept while the group exists)",
    "jobs": "the reminders planned for you as presenter (kept while the group exists)",
}


async def export_member(database: Reader, user_id: int) -> dict[str, object]:
    rows = await database.fetchall(
        "SELECT j.kind, j.state FROM jobs j WHERE instr(j.key, ?) > 0 OR instr(j.payload, ?) > 0"
        " ORDER BY j.due_at",
        (str(user_id), str(user_id)),
    )
    reached = await database.scalar(
        "SELECT count(*) FROM job_recipients WHERE recipient_id = ?", (user_id,)
    )
    return {
        "scheduled_messages_about_you": [
            {"kind": row["kind"], "state": row["state"]} for row in rows
        ],
        "notices_that_reached_you": int(reached or 0),
    }


async def erase_member(tx: Transaction, user_id: int, now: datetime) -> None:
    uid = str(user_id)
    await tx.execute("DELETE FROM job_recipients WHERE recipient_id = ?", (user_id,))
    # A pending job that names the member goes: the reconcilers re-plan it without them.
    await tx.execute(
        "DELETE FROM jobs WHERE state = 'pending' AND (instr(key, ?) > 0 OR instr(payload, ?) > 0)",
        (uid, uid),
    )
    # A job that ran keeps its row, so it is never run again, without the member's id: in
    # its key a random stand-in (keys are unique), in its payload null.
    rows = await tx.fetchall(
        "SELECT id FROM jobs WHERE instr(key, ?) > 0 OR instr(payload, ?) > 0", (uid, uid)
    )
    for row in rows:
        await tx.execute(
            "UPDATE jobs SET key = replace(key, ?, ?), payload = replace(payload, ?, 'null')"
            " WHERE id = ?",
            (uid, f"former-{secrets.token_hex(6)}", uid, row["id"]),
        )
