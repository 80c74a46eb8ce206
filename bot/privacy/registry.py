"""Who keeps what about a member: each capability's export and erase, listed here
explicitly (not discovered), with the tables each answers for and, in plain words, what
they hold and for how long (`/privacy` says exactly this).

A test fails when a table that holds a user id (`bot.privacy.user_data.USER_ID_COLUMNS`)
has no keeper here, and when `/privacy` does not name every kind of data listed.
Reflections are not here on purpose: nothing in them names their author.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.attendance import privacy as attendance
from bot.cases import privacy as cases
from bot.groups import privacy as groups
from bot.kernel.db import Reader, Transaction
from bot.privacy import preferences, scheduled
from bot.rota import privacy as rota
from bot.sessions import privacy as sessions


@dataclass(frozen=True)
class Keeper:
    name: str
    data: Mapping[str, str]  # table -> what it holds about the member, and for how long
    export: Callable[[Reader, int], Awaitable[dict[str, object]]]
    erase: Callable[[Transaction, int, datetime], Awaitable[None]]


# In the order they erase: the capabilities that refer to the roster before the roster.
KEEPERS: tuple[Keeper, ...] = (
    Keeper("cases", cases.DATA, cases.export_member, cases.erase_member),
    Keeper("attendance", attendance.DATA, attendance.export_member, attendance.erase_member),
    Keeper("rota", rota.DATA, rota.export_member, rota.erase_member),
    Keeper("sessions", sessions.DATA, sessions.export_member, sessions.erase_member),
    Keeper("groups", groups.DATA, groups.export_member, groups.erase_member),
    Keeper("preferences", preferences.DATA, preferences.export_member, preferences.erase_member),
    Keeper("scheduled", scheduled.DATA, scheduled.export_member, scheduled.erase_member),
)


def kinds_of_data() -> dict[str, str]:
    """Every table a keeper answers for, with its plain-words description."""
    return {table: words for keeper in KEEPERS for table, words in keeper.data.items()}
