"""What a group is: its roster's roles, its presenter mode, its settings, its name rules.

Pure: no storage, no Discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_GROUP_NAME = 50
RECOMMENDED_MAX_MEMBERS = 12


class Role(StrEnum):
    MEMBER = "member"
    CO_LEADER = "co-leader"
    LEADER = "leader"

    @property
    def leads(self) -> bool:
        return self is not Role.MEMBER


class PresenterMode(StrEnum):
    ASSIGNED = "assigned"  # the presenter is expected to bring a case
    ON_DECK = "on-deck"  # anyone may volunteer; the on-deck member is the fallback


class MeetingFormat(StrEnum):
    """How a group meets (a setting; `/session schedule format` overrides it for a
    series). The leaders' log for accreditation records it per session."""

    IN_PERSON = "in person"
    ONLINE = "online"


@dataclass(frozen=True)
class Group:
    id: int
    guild_id: int
    name: str
    channel_id: int
    timezone: str
    presenter_mode: PresenterMode
    remind_channel_min: int | None
    remind_presenter_min: int | None
    remind_leaders_min: int | None
    reflection_threshold: int
    reflection_window_h: int
    reflection_release: str
    case_retention_h: int
    leaders_channel_id: int | None
    term_start: datetime | None
    mirror_events: bool = False


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    role: Role


def name_key(name: str) -> str:
    """The form in which two group names are the same name (case and spacing aside)."""
    return " ".join(name.casefold().split())


def clean_name(name: str) -> str:
    """A group's name as typed, with runs of spaces made one."""
    return " ".join(name.split())


# The columns of `groups` that `/group settings` may change.
SETTING_COLUMNS = frozenset(
    {
        "presenter_mode",
        "remind_channel_min",
        "remind_presenter_min",
        "remind_leaders_min",
        "reflection_threshold",
        "reflection_window_h",
        "reflection_release",
        "case_retention_h",
        "leaders_channel_id",
        "term_start",
        "mirror_events",
        "meeting_format",
    }
)
# The settings that decide when a group's reminders fall due.
REMINDER_SETTINGS = frozenset({"remind_channel_min", "remind_presenter_min", "remind_leaders_min"})
