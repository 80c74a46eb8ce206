"""Migration 0005 on a database written by the previous version: jobs get their group
and a capability's name, audit entries their subject, posted reminders their start."""

from __future__ import annotations

from pathlib import Path

from bot.kernel.db import Database, bundled_migrations


async def test_0005_gives_existing_rows_their_owner(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "old.db")
    try:
        await database.migrate(bundled_migrations()[:4])
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (7, 1, 'G', 'g', 2, 'UTC', 0)"
            )
            await tx.execute(
                "INSERT INTO sessions (id, group_id, starts_at, duration_min, created_at)"
                " VALUES (42, 7, 1000, 90, 0)"
            )
            for key in ("group:7:session:42:at:1000:channel", "group:9:session:5:at:1:channel"):
                await tx.execute(
                    "INSERT INTO jobs (kind, key, due_at) VALUES ('reminder.channel', ?, 1)",
                    (key,),
                )
            await tx.execute(
                "INSERT INTO reminder_messages (session_id, channel_id, message_id)"
                " VALUES (42, 2, 555)"
            )
            for action, detail in (
                ("roster add", "11 as member"),
                ("roster role", "12 as co-leader"),
                ("roster remove", "13"),
                ("rota assign", "session 42 to 14"),
                ("group create", "G in #2, UTC, leader 15"),
                ("settings", "presenter_mode=on-deck"),
            ):
                await tx.execute(
                    "INSERT INTO audit (guild_id, group_id, actor_id, action, detail, at)"
                    " VALUES (1, 7, 10, ?, ?, 0)",
                    (action, detail),
                )
        await database.migrate()
        jobs = await database.fetchall("SELECT key, group_id FROM jobs")
        # the job of a group that no longer exists could not be kept
        assert [tuple(row) for row in jobs] == [("reminders:group:7:session:42:at:1000:channel", 7)]
        subjects = await database.fetchall("SELECT action, subject_id FROM audit ORDER BY id")
        assert [tuple(row) for row in subjects] == [
            ("roster add", 11),
            ("roster role", 12),
            ("roster remove", 13),
            ("rota assign", 14),
            ("group create", 15),
            ("settings", None),
        ]
        assert await database.scalar("SELECT starts_at FROM reminder_messages") == 1000
        async with database.transaction() as tx:
            await tx.execute("DELETE FROM groups WHERE id = 7")
        assert await database.scalar("SELECT count(*) FROM jobs") == 0
    finally:
        await database.close()


async def test_0006_keys_reminders_by_revision_and_presenter(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "old.db")
    try:
        await database.migrate(bundled_migrations()[:5])
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO groups (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (7, 1, 'G', 'g', 2, 'UTC', 0)"
            )
            await tx.execute(
                "INSERT INTO sessions (id, group_id, starts_at, duration_min, created_at,"
                " presenter_id) VALUES (42, 7, 2000, 90, 0, 11)"
            )
            for key, kind, state in (
                ("reminders:group:7:session:42:at:2000:channel", "reminder.channel", "pending"),
                ("reminders:group:7:session:42:at:2000:presenter", "reminder.presenter", "done"),
                ("reminders:group:7:session:42:at:1000:channel", "reminder.channel", "done"),
            ):
                await tx.execute(
                    "INSERT INTO jobs (kind, key, due_at, state, payload, group_id)"
                    " VALUES (?, ?, 1, ?, '{\"session_id\": 42}', 7)",
                    (kind, key, state),
                )
        await database.migrate()
        keys = [row["key"] for row in await database.fetchall("SELECT key FROM jobs ORDER BY id")]
        assert keys == [
            "reminders:group:7:session:42:rev:0:channel",
            "reminders:group:7:session:42:rev:0:presenter:11",
            # a reminder of the time before a move stays as history
            "reminders:group:7:session:42:at:1000:channel",
        ]
        row = await database.fetchone("SELECT revision, presenter_reminded FROM sessions")
        assert row is not None
        assert tuple(row) == (0, 11)
    finally:
        await database.close()
