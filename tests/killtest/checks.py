"""After a run: what users saw (the double's records) against what the bot keeps (its
database, read with the test key), counted.

- **sent / duplicated / lost** (scheduled messages): each reminder of the reminder
  groups' sessions (the channel post with its RSVP buttons, the presenter's DM, the
  leaders' DM) and each reflection invitation (the channel post and one DM per member)
  must be in the double exactly once.
- **lost** (people's actions): a case note whose sending the member saw confirmed must
  be the one held for them (or a later one they pressed Confirm for); a confirmed
  reflection must be among the session's; a confirmed Attending must be recorded; a
  confirmed rota change must still be there at the next step.
- **half-written**: a row that does not decrypt, a note or reflection nobody confirmed
  nor pressed for, a rota change only partly there (`snapshot.judge`), derived data out
  of step with what it derives from (reminder jobs and presenters, posted reminders and
  their record, held notes and their purge job, open windows and their close job), a
  job given up, a database that fails SQLite's own checks.
- **unanswered**: interactions (and DMs) the bot never answered because it died:
  Discord's "This interaction failed". What they did may be absent, never half.
- reported beside them: follow-ups of a confirmed action that never came (the leaders'
  notice of a case note, the swap request's DM), errors in the bot's logs, confidential
  text in them, protocol errors and pings the double saw.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.cases.jobs import purge_key
from bot.cases.rules import note_context
from bot.kernel.clock import from_unix
from bot.kernel.crypto import Cipher, InvalidTag
from bot.reflections.rules import opened_payload, text_context
from bot.reflections.service import close_key
from bot.reminders.rules import offsets_from_minutes, plan_reminders, session_key_prefix
from tests.double import DiscordDouble, Message, User
from tests.e2e.conftest import mention_problems
from tests.killtest.actors import Attempt, Journal
from tests.killtest.snapshot import judge, read_rota
from tests.killtest.world import (
    CASES_GROUP,
    KEY,
    REFLECTIONS_GROUP,
    ROTA_GROUP,
    Cast,
    Plan,
    closing_reader,
)

MARKER = re.compile(r"kt\d{4}x\d{6}")


@dataclass
class Counts:
    kills: int = 0
    kills_before_ready: int = 0
    sent: int = 0
    duplicated: int = 0
    lost: int = 0
    half_written: int = 0
    unanswered: int = 0
    actions: int = 0
    confirmed: int = 0
    collapsed: int = 0
    """Retries of a send that Discord collapsed into the message already sent (nonce)."""
    crashes: int = 0
    errors_logged: int = 0
    leaked: int = 0
    protocol_errors: int = 0
    case_notices_missing: int = 0
    swap_requests_missing: int = 0
    """Confirmed actions whose follow-up message never came: the leaders' notice of a
    case note, the DM asking a member to take a swap. They are sent after the answer,
    outside the job path, so a kill between the two loses them (reported, not counted
    as lost: see `Checker.notices`)."""
    problems: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.problems += other.problems

    @property
    def clean(self) -> bool:
        return not (
            self.duplicated
            or self.lost
            or self.half_written
            or self.crashes
            or self.errors_logged
            or self.leaked
            or self.protocol_errors
        )


class Checker:
    def __init__(
        self, cast: Cast, plan: Plan, journal: Journal, database: Path, now: datetime
    ) -> None:
        self.cast, self.plan, self.journal = cast, plan, journal
        self.double: DiscordDouble = cast.double
        self.database, self.now = database, now
        self.cipher = Cipher(KEY)
        self.counts = Counts()

    def half(self, problem: str) -> None:
        self.counts.half_written += 1
        self.counts.problems.append(f"half-written: {problem}")

    def lost(self, problem: str) -> None:
        self.counts.lost += 1
        self.counts.problems.append(f"lost: {problem}")

    def run(self, logs: list[Path]) -> Counts:
        with closing_reader(self.database) as db:
            self.scheduled_messages(db)
            self.case_notes(db)
            self.reflections(db)
            self.rsvps(db)
            self.rota(db)
            self.invariants(db)
        self.answers()
        self.notices()
        self.logs(logs)
        self.counts.actions = self.journal.actions()
        self.counts.confirmed = self.journal.confirmed()
        pings = mention_problems(self.double)[1]
        self.counts.protocol_errors = len(self.double.errors) + len(pings)
        self.counts.problems += [f"protocol: {error}" for error in (*self.double.errors, *pings)]
        return self.counts

    # -- scheduled messages -----------------------------------------------------------

    def _bot_posts(self, messages: list[Message]) -> list[Message]:
        bot = self.double.bot
        return [m for m in messages if m.author is bot and m.interaction is None]

    def _expect_once(self, what: str, found: list[Message]) -> None:
        if not found:
            self.lost(what)
            return
        self.counts.sent += 1
        if len(found) > 1:
            self.counts.duplicated += len(found) - 1
            self.counts.problems.append(f"duplicated: {what} ({len(found)} times)")

    def scheduled_messages(self, db: sqlite3.Connection) -> None:
        cast = self.cast
        for session in self.plan.reminder_sessions():
            row = db.execute(
                "SELECT presenter_id FROM sessions WHERE id = ?", (session.id,)
            ).fetchone()
            presenter = self.double.users.get(row["presenter_id"]) if row else None
            stamp = f"<t:{int(session.starts_at.timestamp())}:F>"
            home = self._bot_posts(self.double.messages(cast.homes[session.group]))
            self._expect_once(
                f"channel reminder of session {session.id}",
                [m for m in home if f"rsvp:{session.id}:yes" in m.custom_ids()],
            )
            if presenter is None:
                self.half(f"reminder session {session.id} lost its presenter")
                continue
            self._expect_once(
                f"presenter reminder of session {session.id}",
                [
                    m
                    for m in self._bot_posts(self.double.dms(presenter))
                    if f"**{session.group}** on {stamp}" in m.content
                    and m.content.startswith("You are presenting")
                ],
            )
            self._expect_once(
                f"leaders' reminder of session {session.id}",
                [
                    m
                    for m in self._bot_posts(self.double.dms(cast.leader))
                    if f"**{session.group}**: <@{presenter.id}> presents on {stamp}" in m.content
                ],
            )
        members: list[User] = cast.members[REFLECTIONS_GROUP]
        home = self._bot_posts(self.double.messages(cast.homes[REFLECTIONS_GROUP]))
        for session in self.plan.sessions[REFLECTIONS_GROUP]:
            button = f"reflect:{session.id}"
            self._expect_once(
                f"reflection invitation of session {session.id}",
                [m for m in home if button in m.custom_ids()],
            )
            for member in members:
                self._expect_once(
                    f"reflection prompt of session {session.id} to {member.name}",
                    [
                        m
                        for m in self._bot_posts(self.double.dms(member))
                        if button in m.custom_ids()
                    ],
                )

    # -- what people sent ---------------------------------------------------------------

    def case_notes(self, db: sqlite3.Connection) -> None:
        [session] = self.plan.sessions[CASES_GROUP]
        for member_id, attempts in self.journal.notes.items():
            row = db.execute(
                "SELECT kind, ciphertext FROM cases WHERE session_id = ? AND member_id = ?",
                (session.id, member_id),
            ).fetchone()
            held = None
            if row is not None:
                if row["kind"] != "note" or row["ciphertext"] is None:
                    self.half(f"the case row of member {member_id} is a {row['kind']}")
                    continue
                try:
                    held = self.cipher.decrypt(
                        row["ciphertext"], note_context(session.group_id, session.id, member_id)
                    )
                except (InvalidTag, UnicodeDecodeError, ValueError):
                    self.half(f"the case note of member {member_id} does not decrypt")
                    continue
            self._judge_note(member_id, attempts, held)

    def _judge_note(self, member_id: int, attempts: list[Attempt], held: str | None) -> None:
        confirmed = [i for i, attempt in enumerate(attempts) if attempt.confirmed]
        since = confirmed[-1] if confirmed else 0
        allowed = {a.text for a in attempts[since:] if a.pressed}
        if not confirmed:
            allowed.add(None)  # type: ignore[arg-type]
        if held in allowed:
            return
        if confirmed:
            self.lost(f"the confirmed case note of member {member_id}")
        else:
            self.half(f"a case note of member {member_id} that was never confirmed nor pressed")

    def reflections(self, db: sqlite3.Connection) -> None:
        group_id = self.plan.group_ids[REFLECTIONS_GROUP]
        for session in self.plan.early_reflection_sessions():
            texts: list[str] = []
            for row in db.execute(
                "SELECT ciphertext FROM reflections WHERE session_id = ?", (session.id,)
            ):
                try:
                    sealed = self.cipher.decrypt(
                        row["ciphertext"], text_context(group_id, session.id)
                    )
                except (InvalidTag, UnicodeDecodeError, ValueError):
                    self.half(f"a reflection of session {session.id} does not decrypt")
                    continue
                texts.append(opened_payload(sealed)[0])
            attempts = self.journal.reflections.get(session.id, [])
            pressed = {a.text for a in attempts if a.pressed}
            for text in texts:
                if text not in pressed:
                    self.half(f"a reflection of session {session.id} that nobody sent")
            for count in Counter(texts).values():
                if count > 1:
                    self.counts.duplicated += count - 1
                    self.counts.problems.append(f"duplicated: a reflection of {session.id}")
            for attempt in attempts:
                if attempt.confirmed and attempt.text not in texts:
                    self.lost(f"a confirmed reflection of session {session.id}")

    def rsvps(self, db: sqlite3.Connection) -> None:
        recorded = {
            (row[0], row[1])
            for row in db.execute("SELECT session_id, user_id FROM rsvps WHERE attending = 1")
        }
        for session_id, member_id, confirmed in self.journal.rsvps:
            if confirmed and (session_id, member_id) not in recorded:
                self.lost(f"the confirmed Attending of {member_id} for session {session_id}")

    def rota(self, db: sqlite3.Connection) -> None:
        steps = self.journal.rota
        for step in steps:
            if step.after is None:
                self.half(f"{step.kind} {step.detail}: its outcome was never read")
                continue
            for problem in judge(step.kind, step.detail, step.before, step.after):
                self.half(problem)
        final = read_rota(db, self.plan.group_ids[ROTA_GROUP])
        afterwards = [s.before for s in steps[1:]] + [final]
        for step, later in zip(steps, afterwards, strict=True):
            if step.after is not None and later != step.after:
                self.lost(f"the rota after {step.kind} {step.detail} changed by itself")

    # -- derived data in step -------------------------------------------------------------

    def invariants(self, db: sqlite3.Connection) -> None:
        for (problem,) in db.execute("PRAGMA integrity_check"):
            if problem != "ok":
                self.half(f"integrity_check: {problem}")
        for row in db.execute("PRAGMA foreign_key_check"):
            self.half(f"foreign_key_check: {tuple(row)}")
        for row in db.execute("SELECT key, state FROM jobs WHERE state IN ('running', 'failed')"):
            self.half(f"job {row['key']} is {row['state']}")
        self._presenters_can_present(db)
        self._reminder_jobs_in_step(db)
        self._posted_reminders_recorded(db)
        self._held_notes_will_be_purged(db)
        self._windows_will_close(db)

    def _presenters_can_present(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            """
            SELECT s.id, s.presenter_id, s.presenter_locked, m.role,
                   EXISTS (SELECT 1 FROM absences a WHERE a.group_id = s.group_id
                           AND a.user_id = s.presenter_id
                           AND a.starts_at <= s.starts_at AND s.starts_at < a.ends_at) AS away
            FROM sessions s LEFT JOIN members m
                 ON m.group_id = s.group_id AND m.user_id = s.presenter_id
            WHERE s.status = 'planned' AND s.starts_at > ? AND s.presenter_id IS NOT NULL
            """,
            (int(self.now.timestamp()),),
        )
        for row in rows:
            if row["role"] != "member":
                self.half(f"session {row['id']} is presented by a {row['role']}")
            # A leader's `/rota assign` may fix someone on a day they said they were away
            # (a manual override); the rota itself never puts them there.
            if row["away"] and not row["presenter_locked"]:
                self.half(f"session {row['id']} is presented by someone away then")

    def _reminder_jobs_in_step(self, db: sqlite3.Connection) -> None:
        """Each upcoming session has the reminder jobs the reminders' rules plan for its
        start, revision and presenter, and no pending one they do not plan: the jobs
        were rewritten in the same transaction as the change to the session."""
        keys = {row[0]: row[1] for row in db.execute("SELECT key, state FROM jobs")}
        groups = {row["id"]: row for row in db.execute("SELECT * FROM groups")}
        for session in db.execute(
            "SELECT * FROM sessions WHERE status = 'planned' AND starts_at > ?",
            (int(self.now.timestamp()),),
        ):
            group = groups[session["group_id"]]
            offsets = offsets_from_minutes(
                group["remind_channel_min"],
                group["remind_presenter_min"],
                group["remind_leaders_min"],
            )
            wanted = {
                reminder.key
                for reminder in plan_reminders(
                    session["id"],
                    group["id"],
                    from_unix(session["starts_at"]),
                    offsets,
                    self.now,
                    revision=session["revision"],
                    presenter_id=session["presenter_id"],
                )
            }
            prefix = session_key_prefix(group["id"], session["id"])
            pending = {
                k for k, state in keys.items() if k.startswith(prefix) and state == "pending"
            }
            for key in sorted(wanted - set(keys)):
                self.half(f"session {session['id']} has no job {key}")
            for key in sorted(pending - wanted):
                self.half(f"session {session['id']} still has the stale job {key}")

    def _posted_reminders_recorded(self, db: sqlite3.Connection) -> None:
        recorded = {
            row[0]: row[1]
            for row in db.execute("SELECT message_id, session_id FROM reminder_messages")
        }
        for message_id, session_id in recorded.items():
            message = self.double.messages_by_id.get(message_id)
            if message is None or message.deleted:
                self.half(f"reminder message {message_id} of session {session_id} was never posted")
        for session in self.plan.reminder_sessions():
            home = self._bot_posts(self.double.messages(self.cast.homes[session.group]))
            for message in home:
                if f"rsvp:{session.id}:yes" in message.custom_ids() and message.id not in recorded:
                    self.half(f"the reminder posted for session {session.id} is not on record")

    def _held_notes_will_be_purged(self, db: sqlite3.Connection) -> None:
        """A session holding case notes has its purge job (queued with the first note):
        a note without one would never be deleted."""
        pending = {row[0] for row in db.execute("SELECT key FROM jobs WHERE state = 'pending'")}
        for row in db.execute(
            "SELECT DISTINCT s.group_id, s.id FROM cases c JOIN sessions s ON s.id = c.session_id"
        ):
            if purge_key(row[0], row[1]) not in pending:
                self.half(f"the case notes of session {row[1]} have no purge job")

    def _windows_will_close(self, db: sqlite3.Connection) -> None:
        """An open reflection window has its close job (queued when it opened): a window
        without one would keep its secret, and its authors linkable, for ever."""
        pending = {row[0] for row in db.execute("SELECT key FROM jobs WHERE state = 'pending'")}
        for row in db.execute(
            "SELECT s.group_id, s.id FROM reflection_windows w"
            " JOIN sessions s ON s.id = w.session_id WHERE w.state = 'open'"
        ):
            if close_key(row[0], row[1]) not in pending:
                self.half(f"the open reflection window of session {row[1]} has no close job")

    # -- answers and logs -------------------------------------------------------------------

    def answers(self) -> None:
        self.counts.unanswered = self.journal.silent_dms + sum(
            1
            for interaction in self.double.interactions
            if interaction.type in (2, 3, 5) and not interaction.attempts
        )
        returned: Counter[int] = Counter()
        for request in self.double.requests:
            if (
                request.method == "POST"
                and request.route == "/channels/{channel_id}/messages"
                and request.status == 200
                and isinstance(request.response, dict)
            ):
                returned[int(request.response["id"])] += 1
        self.counts.collapsed = sum(count - 1 for count in returned.values())

    def notices(self) -> None:
        """The leaders hear of each confirmed case note; the member asked for a swap gets
        the request. Both go out after the bot's answer (outside the job path)."""
        told = self._bot_posts(self.double.dms(self.cast.leader))
        for member_id, attempts in self.journal.notes.items():
            confirmed = sum(attempt.confirmed for attempt in attempts)
            heard = sum(f"<@{member_id}> sent a case note" in m.content for m in told)
            self.counts.case_notices_missing += max(0, confirmed - heard)
        self.counts.swap_requests_missing = self.journal.undelivered_swaps

    def logs(self, paths: list[Path]) -> None:
        for path in paths:
            text = path.read_text(encoding="utf-8", errors="replace")
            for line in text.splitlines():
                if " ERROR " in line or line.startswith("Traceback"):
                    self.counts.errors_logged += 1
                    self.counts.problems.append(f"{path.name}: {line[:200]}")
            leaks = MARKER.findall(text)
            if leaks:
                self.counts.leaked += len(leaks)
                self.counts.problems.append(f"{path.name}: confidential text in the log")
