"""Durable case notes: from Confirm to committed, next to a plain SQLite insert.

A member presses Confirm under their case note's preview; the bot stores the note
(encrypted, bound to its group and session) in one transaction whose commit is synced
to the disk (`Database.transaction(durable=True)`) before it answers. Measured, for
NOTES notes (each member's first, so nothing is replaced and no checkpoint follows):

- the bot's own path, from storing the confirmed note starting to its commit being on
  the disk (`cases.service.send_note`, timed inside the bot's process);
- end to end, from Discord sending the button press to that commit;

each next to a plain SQLite insert and commit of as many bytes (the note's ciphertext)
in a database on the same disk, in the same mode (WAL, `synchronous = FULL`), the two
taken in turn so that both see the same disk; and the same plain insert and commit
through aiosqlite (what its three round trips add). Printed as medians and ratios.

Run: `.venv/bin/python -m bench.durable` (`--notes N`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiosqlite

from bench.speed import BotProcess, Clinic, build_clinic, new_double, spawn, use_bytecode_cache
from tests.double import DiscordDouble, User

NOTES = 20
NOTE = (
    "A patient in her fifties who comes back every week with the same worry about her "
    "heart, though every test has been normal. I notice I dread the appointments and "
    "rush them, and then feel guilty. I would like to understand what happens between us."
)
CIPHERTEXT_OVERHEAD = 28  # AES-GCM: a 12-byte nonce and a 16-byte tag


def plain_database(folder: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(folder / "plain.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    raw.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, note BLOB NOT NULL)")
    return raw


def plain_insert(raw: sqlite3.Connection, data: bytes) -> float:
    """Seconds to insert and commit `data` (synced to the disk)."""
    started = time.perf_counter()
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("INSERT INTO notes (note) VALUES (?)", (data,))
    raw.execute("COMMIT")
    return time.perf_counter() - started


async def through_aiosqlite(folder: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(folder / "plain-aiosqlite.db", isolation_level=None)
    await connection.execute("PRAGMA journal_mode = WAL")
    await connection.execute("PRAGMA synchronous = FULL")
    await connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, note BLOB NOT NULL)")
    return connection


async def aiosqlite_insert(connection: aiosqlite.Connection, data: bytes) -> float:
    """The same insert and commit through aiosqlite: three round trips to its thread."""
    started = time.perf_counter()
    await connection.execute("BEGIN IMMEDIATE")
    await connection.execute("INSERT INTO notes (note) VALUES (?)", (data,))
    await connection.execute("COMMIT")
    return time.perf_counter() - started


async def plan_term(
    double: DiscordDouble, clinic_members: int, database: Path
) -> tuple[Clinic, BotProcess]:
    clinic = build_clinic(double, clinic_members)
    bot = await spawn("project", double, database=database)
    where = {"guild": clinic.guild, "channel": clinic.home}
    await double.slash(
        "group create",
        clinic.admin,
        **where,
        options={"name": "Tuesday group", "channel": clinic.home, "timezone": "Europe/London"},
        leader=clinic.leader,
    )
    for member in clinic.members:
        await double.slash("group add", clinic.leader, **where, member=member)
    await double.slash(
        "session schedule",
        clinic.leader,
        **where,
        start="2026-12-01 19:00",
        duration=90,
        repeat="weekly",
        count=4,
    )
    return clinic, bot


async def confirm_a_note(double: DiscordDouble, member: User, clinic: Clinic) -> float:
    """Open the form, send the note, press Confirm: when the press was sent."""
    opened = await double.slash("case submit", member, guild=clinic.guild, channel=clinic.home)
    preview = (await double.submit_modal(opened, member, {"note": NOTE})).reply
    [confirm] = [c for c in preview.custom_ids() if c.startswith("case:confirm:")]
    pressed = await double.click(preview, confirm, member)
    return pressed.sent_at


async def measure(notes: int, folder: Path) -> dict[str, list[float]]:
    async with new_double(validate=False) as double:
        clinic, bot = await plan_term(double, notes, folder / "bot.db")
        raw = plain_database(folder)
        hopping = await through_aiosqlite(folder)
        data = os.urandom(len(NOTE.encode()) + CIPHERTEXT_OVERHEAD)
        pressed: list[float] = []
        plain: list[float] = []
        plain_aiosqlite: list[float] = []
        try:
            await bot.ask("watch-notes")
            for member in clinic.members:
                plain.append(plain_insert(raw, data))
                plain_aiosqlite.append(await aiosqlite_insert(hopping, data))
                pressed.append(await confirm_a_note(double, member, clinic))
            stored = (await bot.ask("notes"))["notes"]
        finally:
            await bot.quit()
            await hopping.close()
            with contextlib.suppress(sqlite3.Error):
                raw.close()
    return {
        "own": [end - start for start, end in stored],
        "end to end": [end - at for (_, end), at in zip(stored, pressed, strict=True)],
        "plain": plain,
        "plain through aiosqlite": plain_aiosqlite,
    }


async def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.durable", description=__doc__)
    parser.add_argument("--notes", type=int, default=NOTES)
    options = parser.parse_args(arguments)
    with tempfile.TemporaryDirectory() as folder:  # the bot and the plain insert: one disk
        use_bytecode_cache(Path(folder) / "bytecode")
        figures = await measure(options.notes, Path(folder))
    plain = statistics.median(figures["plain"])
    print(f"\nDurable case notes: {options.notes} confirmed, each synced to the disk\n")
    print("| figure | median | plain SQLite insert + commit | ratio |")
    print("|---|---|---|---|")
    for name in ("own", "end to end"):
        value = statistics.median(figures[name])
        label = (
            "bot's own path (storing → committed)"
            if name == "own"
            else ("end to end (press sent → committed)")
        )
        print(f"| {label} | {value * 1000:.2f} ms | {plain * 1000:.2f} ms | x{value / plain:.2f} |")
    hopping = statistics.median(figures["plain through aiosqlite"])
    print(
        f"| the plain insert + commit through aiosqlite (3 round trips) | {hopping * 1000:.2f} ms"
        f" | {plain * 1000:.2f} ms | x{hopping / plain:.2f} |"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
