"""What a reminder reads about its session in one statement: the session, its group and
its RSVP counts, each answer counted apart, and forgotten from memory once answers change."""

from __future__ import annotations

from bot.kernel.db import Database
from bot.reminders.store import reminder_subject
from bot.sessions import service as session_service
from bot.sessions.store import upcoming_sessions
from tests.groups.test_one_transaction import ALICE, BOB, CAROL, NOW, database, planned_group

__all__ = ["database"]


async def test_a_reminder_subject_counts_each_answer_apart(database: Database) -> None:
    group = await planned_group(database)
    session = (await upcoming_sessions(database, group.id, NOW))[0]
    await database.remember_reads()
    first = await reminder_subject(database, session.id)  # now remembered
    assert first is not None
    assert (first.attending, first.absent) == (0, 0)
    for member, attending in ((ALICE, True), (BOB, True), (CAROL, False)):
        await session_service.answer_rsvp(
            database, session.id, member, attending=attending, now=NOW
        )
    subject = await reminder_subject(database, session.id)
    assert subject is not None
    assert subject.group == group
    assert subject.session.id == session.id
    assert (subject.attending, subject.absent) == (2, 1)
    assert await reminder_subject(database, session.id + 1000) is None
