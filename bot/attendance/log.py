"""The leaders' log for accreditation records: one CSV row per session led. Pure.

The file opens cleanly in a spreadsheet:
- UTF-8 with a byte-order mark: Excel reads a CSV without one in the machine's legacy
  code page, so a group called "Zoë's group" would show as "ZoÃ«'s group"; with the
  mark it reads UTF-8 (LibreOffice, Numbers and Python's `utf-8-sig` accept it too).
- Written by the `csv` module (quoting, CRLF line ends, as RFC 4180 has them).
- No formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return would be run as a formula by a spreadsheet (`=HYPERLINK(...)` in a group's
  name); it is prefixed with `'`, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.groups.rules import MeetingFormat, Role
from bot.kernel import zones
from bot.sessions.recurrence import format_local_start

HEADER: Final = ("date", "group", "role", "minutes", "format", "members present")
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
ENCODING: Final = "utf-8-sig"


@dataclass(frozen=True)
class LedSession:
    """A session the leader led, as the log shows it. `present` is how many members
    (not leaders) were recorded present; None when attendance was not recorded."""

    starts_at: datetime
    timezone: str
    group: str
    role: Role
    minutes: int
    meeting_format: MeetingFormat
    present: int | None


def spreadsheet_safe(cell: str) -> str:
    """`cell` as a spreadsheet will show it: as text, never as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def log_row(session: LedSession) -> list[str]:
    cells = [
        format_local_start(session.starts_at, zones.zone(session.timezone)),
        session.group,
        session.role.value,
        str(session.minutes),
        session.meeting_format.value,
        "" if session.present is None else str(session.present),
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def leader_log_csv(sessions: Iterable[LedSession]) -> bytes:
    """The log as a file: its header, then one row per session, as given."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(log_row(session) for session in sessions)
    return buffer.getvalue().encode(ENCODING)
