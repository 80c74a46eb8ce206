"""Deliberately broken bots, to show that the kill test sees what it claims to see.

`KILLTEST_BREAK` (comma-separated) makes the child process patch one of the bot's
guarantees away before it starts (`python -m bench.killtest --break NAME`):

- `nonce`: reminders and invitations are sent without their job's nonce, so a job
  re-run after a kill between sending and recording posts again: **duplicated**;
- `done-first`: a job is recorded as done before its handler runs (the classic timer
  table bug), so a kill in between loses it: **lost**;
- `split`: a change's reconcilers (rota, reminder jobs, ...) run in a second
  transaction after the change commits, so a kill in between leaves the change without
  its derived data: **half-written**.

Nothing here is used by the bot itself or by `make test`'s run of the kill test.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.kernel.clock import to_unix
from bot.kernel.db import Database, Transaction
from bot.kernel.scheduler import Job, JobScheduler

SPLIT_PAUSE = 0.25
"""Real seconds between a change's commit and its reconciliation (the window a kill
falls into)."""


def _fresh_nonce(job_id: int, *, recipient_id: int | None = None) -> str:
    return "x" + secrets.token_hex(8)


def break_nonce() -> None:
    # The cogs import it when their extension loads (a fresh module each time).
    import bot.reminders.rules

    bot.reminders.rules.reminder_nonce = _fresh_nonce


def break_done_first() -> None:
    run = JobScheduler._run

    async def done_first(self: JobScheduler, job: Job) -> None:
        await self._finish(job, "done", to_unix(self._clock.now()))
        await asyncio.sleep(0.02)  # the handler's send, after the record
        await run(self, job)

    JobScheduler._run = done_first  # type: ignore[method-assign]


def break_split() -> None:
    reconcile = Transaction._reconcile
    transaction = Database.transaction

    async def nothing(self: Transaction) -> None:
        return None

    @asynccontextmanager
    async def split(self: Database) -> AsyncIterator[Transaction]:
        async with transaction(self) as tx:
            yield tx
        if tx._watched:
            await asyncio.sleep(SPLIT_PAUSE)
            async with transaction(self) as later:
                later._watched = tx._watched
                await reconcile(later)
            tx.notices += later.notices

    Transaction._reconcile = nothing  # type: ignore[method-assign]
    Database.transaction = split  # type: ignore[method-assign,assignment,unused-ignore]


BREAKAGES: dict[str, Callable[[], Any]] = {
    "nonce": break_nonce,
    "done-first": break_done_first,
    "split": break_split,
}


def apply(names: str) -> None:
    for name in filter(None, (part.strip() for part in names.split(","))):
        BREAKAGES[name]()
