"""Planning a session's reminders: keys, offsets, late planning, nonces."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.reminders.rules import (
    MAX_NONCE_LENGTH,
    PlannedReminder,
    ReminderKind,
    default_offsets,
    offsets_from_minutes,
    plan_reminders,
    reminder_key,
    reminder_nonce,
    session_key_prefix,
)

START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
WEEK_BEFORE = START - timedelta(days=7)
PRESENTER = 111_111_111_111_111_111
OTHER_PRESENTER = 222_222_222_222_222_222
KEY_PATTERN = re.compile(
    r"reminders:group:(?P<group>\d+):session:(?P<session>\d+):rev:(?P<rev>\d+)"
    r":(?P<kind>[a-z]+)(?::(?P<presenter>\d+))?"
)


def by_kind(reminders: list[PlannedReminder]) -> dict[ReminderKind, PlannedReminder]:
    return {reminder.kind: reminder for reminder in reminders}


# --- defaults and stored settings ------------------------------------------------------


def test_default_offsets_match_the_product() -> None:
    assert default_offsets() == {
        ReminderKind.CHANNEL: timedelta(hours=24),
        ReminderKind.PRESENTER: timedelta(hours=72),
        ReminderKind.LEADERS: timedelta(hours=24),
    }


def test_default_offsets_are_a_fresh_dict_each_time() -> None:
    first = default_offsets()
    first[ReminderKind.CHANNEL] = None
    assert default_offsets()[ReminderKind.CHANNEL] == timedelta(hours=24)


def test_default_offsets_equal_the_stored_column_defaults() -> None:
    # 0002_groups.sql: remind_channel_min 1440, remind_presenter_min 4320, remind_leaders_min 1440
    assert offsets_from_minutes(1440, 4320, 1440) == default_offsets()


def test_offsets_from_minutes_keeps_none_as_off() -> None:
    assert offsets_from_minutes(None, 90, None) == {
        ReminderKind.CHANNEL: None,
        ReminderKind.PRESENTER: timedelta(minutes=90),
        ReminderKind.LEADERS: None,
    }


@pytest.mark.parametrize("minutes", [0, -1, -1440])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_offsets_from_minutes_refuses_non_positive_minutes(minutes: int, position: int) -> None:
    arguments: list[int | None] = [60, 60, 60]
    arguments[position] = minutes
    with pytest.raises(ValueError, match="positive"):
        offsets_from_minutes(*arguments)


def test_reminder_kind_values_are_stable() -> None:
    # The values are part of every stored job key; renaming one would orphan queued jobs.
    assert [kind.value for kind in ReminderKind] == ["channel", "presenter", "leaders"]


# --- keys ------------------------------------------------------------------------------


def test_key_has_the_documented_shape() -> None:
    assert (
        reminder_key(7, 42, 3, ReminderKind.CHANNEL) == "reminders:group:7:session:42:rev:3:channel"
    )
    assert (
        reminder_key(7, 42, 3, ReminderKind.LEADERS) == "reminders:group:7:session:42:rev:3:leaders"
    )
    assert (
        reminder_key(7, 42, 3, ReminderKind.PRESENTER, PRESENTER)
        == f"reminders:group:7:session:42:rev:3:presenter:{PRESENTER}"
    )


def test_only_the_presenter_key_names_the_presenter() -> None:
    for kind in (ReminderKind.CHANNEL, ReminderKind.LEADERS):
        assert reminder_key(1, 2, 0, kind, PRESENTER) == reminder_key(1, 2, 0, kind)
        assert reminder_key(1, 2, 0, kind, PRESENTER) == reminder_key(
            1, 2, 0, kind, OTHER_PRESENTER
        )
    assert reminder_key(1, 2, 0, ReminderKind.PRESENTER, PRESENTER) != reminder_key(
        1, 2, 0, ReminderKind.PRESENTER, OTHER_PRESENTER
    )


def test_a_presenter_key_without_a_presenter_is_refused() -> None:
    with pytest.raises(ValueError, match="presenter"):
        reminder_key(1, 2, 0, ReminderKind.PRESENTER)


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_negative_revisions_are_refused(kind: ReminderKind) -> None:
    with pytest.raises(ValueError, match="negative"):
        reminder_key(1, 2, -1, kind, PRESENTER)
    with pytest.raises(ValueError, match="negative"):
        plan_reminders(
            1,
            2,
            START,
            {kind: timedelta(hours=1)},
            WEEK_BEFORE,
            revision=-1,
            presenter_id=PRESENTER,
        )


def test_keys_are_the_same_for_the_same_instant_in_any_zone() -> None:
    plus_one = timezone(timedelta(hours=1))
    here = plan_reminders(1, 2, START, default_offsets(), WEEK_BEFORE, presenter_id=PRESENTER)
    there = plan_reminders(
        1,
        2,
        START.astimezone(plus_one),
        default_offsets(),
        WEEK_BEFORE.astimezone(plus_one),
        presenter_id=PRESENTER,
    )
    assert here == there


def test_prefix_covers_every_key_of_its_session_only() -> None:
    prefix = session_key_prefix(1, 1)
    assert prefix == "reminders:group:1:session:1:"
    for kind in ReminderKind:
        assert reminder_key(1, 1, 0, kind, PRESENTER).startswith(prefix)
        assert reminder_key(1, 1, 5, kind, OTHER_PRESENTER).startswith(prefix)
        # Session 12 and group 11 share leading digits with 1; the colons keep them apart.
        assert not reminder_key(1, 12, 0, kind, PRESENTER).startswith(prefix)
        assert not reminder_key(11, 1, 0, kind, PRESENTER).startswith(prefix)


def test_naive_datetimes_are_refused() -> None:
    naive = START.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        plan_reminders(1, 1, naive, default_offsets(), WEEK_BEFORE)
    with pytest.raises(ValueError, match="naive"):
        plan_reminders(1, 1, START, default_offsets(), WEEK_BEFORE.replace(tzinfo=None))


# --- planning --------------------------------------------------------------------------


def test_plans_all_three_well_ahead() -> None:
    reminders = plan_reminders(
        42, 7, START, default_offsets(), WEEK_BEFORE, revision=3, presenter_id=PRESENTER
    )
    assert reminders == [
        PlannedReminder(
            ReminderKind.PRESENTER,
            reminder_key(7, 42, 3, ReminderKind.PRESENTER, PRESENTER),
            START - timedelta(hours=72),
            START,
        ),
        PlannedReminder(
            ReminderKind.CHANNEL,
            reminder_key(7, 42, 3, ReminderKind.CHANNEL),
            START - timedelta(hours=24),
            START,
        ),
        PlannedReminder(
            ReminderKind.LEADERS,
            reminder_key(7, 42, 3, ReminderKind.LEADERS),
            START - timedelta(hours=24),
            START,
        ),
    ]


def test_revision_defaults_to_zero() -> None:
    assert plan_reminders(
        42, 7, START, default_offsets(), WEEK_BEFORE, presenter_id=PRESENTER
    ) == plan_reminders(
        42, 7, START, default_offsets(), WEEK_BEFORE, revision=0, presenter_id=PRESENTER
    )


def test_keys_are_distinct_and_stable_across_calls() -> None:
    first = plan_reminders(42, 7, START, default_offsets(), WEEK_BEFORE, presenter_id=PRESENTER)
    again = plan_reminders(
        42, 7, START, default_offsets(), WEEK_BEFORE + timedelta(days=2), presenter_id=PRESENTER
    )
    assert len({reminder.key for reminder in first}) == 3
    assert {r.key for r in first} == {r.key for r in again}


def keys(starts_at: datetime, revision: int, presenter_id: int | None = PRESENTER) -> set[str]:
    planned = plan_reminders(
        42,
        7,
        starts_at,
        default_offsets(),
        WEEK_BEFORE,
        revision=revision,
        presenter_id=presenter_id,
    )
    return {r.key for r in planned}


def test_a_new_revision_gives_new_keys_under_the_same_prefix() -> None:
    before = keys(START, 0)
    after = keys(START + timedelta(hours=1), 1)
    assert len(before) == len(after) == 3
    assert not before & after
    prefix = session_key_prefix(7, 42)
    assert all(key.startswith(prefix) for key in before | after)


def test_the_same_revision_gives_the_same_keys_whatever_the_start() -> None:
    assert (
        keys(START, 2) == keys(START + timedelta(hours=1), 2) == keys(START - timedelta(days=1), 2)
    )


def test_moving_back_to_an_old_time_still_gives_fresh_keys() -> None:
    # Issue 8, point 4: away and back (or "moved" to the time it has) is a new revision, so
    # none of its keys is one the scheduler has already completed.
    original = keys(START, 0)
    away = keys(START + timedelta(hours=1), 1)
    back = keys(START, 2)
    assert len(back) == 3
    assert not back & original
    assert not back & away
    assert not keys(START, 1) & original  # "moved" to the time it already has


def test_a_new_presenter_gets_a_new_presenter_key_only() -> None:
    # A member who takes over a slot gets the presenter reminder again, at once if late;
    # the channel and leaders reminders are the same jobs as before.
    now = START - timedelta(hours=30)
    first = by_kind(
        plan_reminders(42, 7, START, default_offsets(), now, revision=1, presenter_id=PRESENTER)
    )
    second = by_kind(
        plan_reminders(
            42, 7, START, default_offsets(), now, revision=1, presenter_id=OTHER_PRESENTER
        )
    )
    assert first[ReminderKind.PRESENTER].key != second[ReminderKind.PRESENTER].key
    assert second[ReminderKind.PRESENTER].due_at == now
    for kind in (ReminderKind.CHANNEL, ReminderKind.LEADERS):
        assert first[kind] == second[kind]


def test_no_presenter_reminder_without_a_presenter() -> None:
    reminders = plan_reminders(42, 7, START, default_offsets(), WEEK_BEFORE, revision=1)
    assert [r.kind for r in reminders] == [ReminderKind.CHANNEL, ReminderKind.LEADERS]
    with_presenter = plan_reminders(
        42, 7, START, default_offsets(), WEEK_BEFORE, revision=1, presenter_id=PRESENTER
    )
    assert reminders == [r for r in with_presenter if r.kind is not ReminderKind.PRESENTER]


def test_only_the_presenter_reminder_and_no_presenter_plans_nothing() -> None:
    offsets = offsets_from_minutes(None, 4320, None)
    assert plan_reminders(1, 1, START, offsets, WEEK_BEFORE) == []


def test_off_reminders_are_omitted() -> None:
    offsets = offsets_from_minutes(None, 4320, None)
    reminders = plan_reminders(1, 1, START, offsets, WEEK_BEFORE, presenter_id=PRESENTER)
    assert [r.kind for r in reminders] == [ReminderKind.PRESENTER]


def test_a_kind_missing_from_the_mapping_is_off() -> None:
    offsets = {ReminderKind.CHANNEL: timedelta(hours=2)}
    assert [r.kind for r in plan_reminders(1, 1, START, offsets, WEEK_BEFORE)] == [
        ReminderKind.CHANNEL
    ]


def test_all_off_plans_nothing() -> None:
    assert plan_reminders(1, 1, START, offsets_from_minutes(None, None, None), WEEK_BEFORE) == []


def test_a_reminder_whose_moment_has_passed_is_due_now() -> None:
    # Planned 30 hours ahead: the 72-hour reminder is late, the 24-hour ones are not.
    now = START - timedelta(hours=30)
    reminders = by_kind(plan_reminders(1, 1, START, default_offsets(), now, presenter_id=PRESENTER))
    assert reminders[ReminderKind.PRESENTER].due_at == now
    assert reminders[ReminderKind.CHANNEL].due_at == START - timedelta(hours=24)
    assert all(r.expires_at == START for r in reminders.values())


def test_an_hour_before_every_reminder_is_due_now() -> None:
    now = START - timedelta(hours=1)
    reminders = plan_reminders(1, 1, START, default_offsets(), now, presenter_id=PRESENTER)
    assert [r.due_at for r in reminders] == [now, now, now]
    # All due together: the order is ReminderKind's.
    assert [r.kind for r in reminders] == list(ReminderKind)


def test_a_reminder_exactly_on_time_is_due_at_its_moment() -> None:
    now = START - timedelta(hours=24)
    reminders = by_kind(plan_reminders(1, 1, START, default_offsets(), now))
    assert reminders[ReminderKind.CHANNEL].due_at == now


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_nothing_is_planned_once_the_session_has_started(late: timedelta) -> None:
    planned = plan_reminders(1, 1, START, default_offsets(), START + late, presenter_id=PRESENTER)
    assert planned == []


def test_one_microsecond_before_the_start_still_plans() -> None:
    now = START - timedelta(microseconds=1)
    reminders = plan_reminders(1, 1, START, default_offsets(), now, presenter_id=PRESENTER)
    assert len(reminders) == 3
    assert all(r.due_at == now < r.expires_at for r in reminders)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=-5)])
def test_non_positive_offsets_are_refused(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_reminders(1, 1, START, {ReminderKind.CHANNEL: offset}, WEEK_BEFORE)


def test_instants_come_back_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    reminders = plan_reminders(
        1,
        1,
        START.astimezone(plus_two),
        default_offsets(),
        WEEK_BEFORE.astimezone(plus_two),
        presenter_id=PRESENTER,
    )
    assert len(reminders) == 3
    assert all(r.due_at.tzinfo is UTC and r.expires_at.tzinfo is UTC for r in reminders)
    assert reminders[0].expires_at == START


# --- properties ------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by design
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
offset_or_off = st.none() | st.timedeltas(
    min_value=timedelta(minutes=1), max_value=timedelta(days=30)
)
offsets_strategy = st.fixed_dictionaries(dict.fromkeys(ReminderKind, offset_or_off))
ids = st.integers(min_value=1, max_value=2**63 - 1)
revisions = st.integers(min_value=0, max_value=2**63 - 1)
presenters = st.none() | ids


@given(
    session_id=ids,
    group_id=ids,
    start=instants,
    offsets=offsets_strategy,
    lead=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=40)),
    revision=revisions,
    presenter_id=presenters,
)
def test_planning_properties(
    session_id: int,
    group_id: int,
    start: datetime,
    offsets: dict[ReminderKind, timedelta | None],
    lead: timedelta,
    revision: int,
    presenter_id: int | None,
) -> None:
    now = start - lead
    reminders = plan_reminders(
        session_id, group_id, start, offsets, now, revision=revision, presenter_id=presenter_id
    )
    enabled = [
        kind
        for kind in ReminderKind
        if offsets[kind] is not None
        and not (kind is ReminderKind.PRESENTER and presenter_id is None)
    ]

    if now >= start:
        assert reminders == []
        return
    assert sorted(r.kind for r in reminders) == sorted(enabled)
    assert reminders == sorted(reminders, key=lambda r: r.due_at)
    prefix = session_key_prefix(group_id, session_id)
    for reminder in reminders:
        offset = offsets[reminder.kind]
        assert offset is not None
        assert reminder.expires_at == start
        assert reminder.due_at == max(start - offset, now)
        assert now <= reminder.due_at < reminder.expires_at
        assert reminder.key.startswith(prefix)
        match = KEY_PATTERN.fullmatch(reminder.key)
        assert match is not None
        assert int(match["group"]) == group_id
        assert int(match["session"]) == session_id
        assert int(match["rev"]) == revision
        assert match["kind"] == reminder.kind
        if reminder.kind is ReminderKind.PRESENTER:
            assert match["presenter"] is not None
            assert int(match["presenter"]) == presenter_id
        else:
            assert match["presenter"] is None
    assert len({r.key for r in reminders}) == len(reminders)


KeyParts = tuple[int, int, int, ReminderKind, int | None]


@st.composite
def key_parts(draw: st.DrawFn) -> KeyParts:
    # Small ranges, so that two draws often share some or all of their parts.
    small = st.integers(min_value=1, max_value=3)
    kind = draw(st.sampled_from(ReminderKind))
    presenter = small if kind is ReminderKind.PRESENTER else st.none() | small
    return (
        draw(small),
        draw(small),
        draw(st.integers(min_value=0, max_value=2)),
        kind,
        draw(presenter),
    )


@given(first=key_parts(), second=key_parts())
def test_keys_are_unique_per_group_session_revision_kind_and_presenter(
    first: KeyParts, second: KeyParts
) -> None:
    def identity(parts: KeyParts) -> KeyParts:
        group_id, session_id, revision, kind, presenter_id = parts
        # Only the presenter's reminder names its presenter.
        return (
            group_id,
            session_id,
            revision,
            kind,
            (presenter_id if kind is ReminderKind.PRESENTER else None),
        )

    same_key = reminder_key(*first) == reminder_key(*second)
    assert same_key == (identity(first) == identity(second))


@given(
    group_id=ids,
    session_id=ids,
    other_group=ids,
    other_session=ids,
    revision=revisions,
    kind=st.sampled_from(ReminderKind),
    presenter_id=ids,
)
def test_prefixes_never_cover_another_session(
    group_id: int,
    session_id: int,
    other_group: int,
    other_session: int,
    revision: int,
    kind: ReminderKind,
    presenter_id: int,
) -> None:
    key = reminder_key(other_group, other_session, revision, kind, presenter_id)
    covered = key.startswith(session_key_prefix(group_id, session_id))
    assert covered == ((group_id, session_id) == (other_group, other_session))


# --- nonces ----------------------------------------------------------------------------


def test_nonce_is_stable_and_short() -> None:
    assert reminder_nonce(42) == reminder_nonce(42) == "r42"
    assert len(reminder_nonce(2**63 - 1)) <= MAX_NONCE_LENGTH


def test_nonce_refuses_negative_job_ids() -> None:
    with pytest.raises(ValueError, match="negative"):
        reminder_nonce(-1)


def test_nonce_per_recipient_differs_from_the_plain_one_and_between_recipients() -> None:
    plain = reminder_nonce(42)
    first = reminder_nonce(42, recipient_id=111_111_111_111_111_111)
    second = reminder_nonce(42, recipient_id=222_222_222_222_222_222)
    assert len({plain, first, second}) == 3
    assert first == reminder_nonce(42, recipient_id=111_111_111_111_111_111)


@given(
    job_id=st.integers(min_value=0, max_value=2**63 - 1),
    recipient_id=st.none() | st.integers(min_value=0, max_value=2**64 - 1),
)
def test_nonce_always_fits_discord(job_id: int, recipient_id: int | None) -> None:
    nonce = reminder_nonce(job_id, recipient_id=recipient_id)
    assert 1 <= len(nonce) <= MAX_NONCE_LENGTH
    assert nonce.isascii()
    assert nonce == reminder_nonce(job_id, recipient_id=recipient_id)


@given(
    first=st.tuples(st.integers(0, 2**63 - 1), st.none() | st.integers(0, 2**64 - 1)),
    second=st.tuples(st.integers(0, 2**63 - 1), st.none() | st.integers(0, 2**64 - 1)),
)
def test_distinct_jobs_or_recipients_get_distinct_nonces(
    first: tuple[int, int | None], second: tuple[int, int | None]
) -> None:
    same_nonce = reminder_nonce(first[0], recipient_id=first[1]) == reminder_nonce(
        second[0], recipient_id=second[1]
    )
    assert same_nonce == (first == second)
