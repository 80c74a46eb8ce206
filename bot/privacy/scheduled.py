"""A member's traces in the scheduler's own tables: whom a job has reached, and the jobs
about them (a presenter reminder is keyed by its presenter)."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.db import Reader, Transaction

DATA = {
    "job_recipients": "that a notice reached you, so a retry does not send it twice (kept "
    "with the notice's scheduled job)",
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
    await tx.execute("DELETE FROM job_recipients WHERE recipient_id = ?", (user_id,))
    # A job that names the member (its key or payload spells the id): pending ones are
    # re-planned without them by the reconcilers; done ones are a record no longer kept.
    await tx.execute(
        "DELETE FROM jobs WHERE instr(key, ?) > 0 OR instr(payload, ?) > 0",
        (str(user_id), str(user_id)),
    )
