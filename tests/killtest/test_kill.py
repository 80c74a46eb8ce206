"""The kill test, short: the bot (a child process) is killed with SIGKILL three times at
random moments while reminders fall due and members send case notes, write reflections,
answer Attending and change the rota; after the last restart nothing is duplicated,
lost or half-written (`tests.killtest`; `python -m bench.killtest` runs it 20 times)."""

from __future__ import annotations

from pathlib import Path

from tests.killtest.harness import RunConfig, run_once
from tests.killtest.world import EARLY_REFLECTION_SESSIONS, MEMBER_NAMES, REFLECTIONS_GROUP, Shape

SHAPE = Shape(reminder_sessions=6, late_reflection_sessions=2)


def scheduled_messages(shape: Shape) -> int:
    """Three reminders per session of the two reminder groups; one invitation in the
    channel and one per member for each reflection session."""
    reflection_sessions = EARLY_REFLECTION_SESSIONS + shape.late_reflection_sessions
    per_reflection_session = 1 + len(MEMBER_NAMES[REFLECTIONS_GROUP])
    return 2 * 3 * shape.reminder_sessions + reflection_sessions * per_reflection_session


async def test_nothing_is_sent_twice_lost_or_half_written_across_kills(tmp_path: Path) -> None:
    # Users pause a little between actions: the suite runs beside it on the same cores.
    config = RunConfig(seed=7, kills=3, shape=SHAPE, actor_pause=(0.1, 0.4))
    result = await run_once(config, tmp_path)
    counts = result.counts
    report = "\n".join(counts.problems)
    assert counts.kills == 3
    assert counts.duplicated == 0, report
    assert counts.lost == 0, report
    assert counts.half_written == 0, report
    assert counts.sent == scheduled_messages(SHAPE), report
    assert counts.crashes == 0, report
    assert counts.errors_logged == 0, report
    assert counts.leaked == 0, report
    assert counts.protocol_errors == 0, report
    assert result.exit_status == 0
    # the burst did happen: people acted, and most of it was answered
    assert counts.confirmed >= 15, counts
