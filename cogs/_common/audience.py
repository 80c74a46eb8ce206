"""Who may run a command, declared on the command itself as `extras={"audience": ...}`.

The permission checks live with each command (leaders come from the group's roster, which
Discord knows nothing of); this is what `/help` reads to list only what a user may run.
"""

from __future__ import annotations

from enum import StrEnum


class Audience(StrEnum):
    ANYONE = "anyone"  # anyone in a server or DM (help, about, privacy, preferences)
    MEMBER = "member"  # members of a group (read the rota, RSVP, swap ...)
    LEADER = "leader"  # the group's leaders and co-leaders, or Manage Server
    MANAGE_SERVER = "manage_server"  # Manage Server only (create, delete a group)


def may_run(audience: Audience, *, is_member: bool, is_leader: bool, can_manage: bool) -> bool:
    if audience is Audience.ANYONE:
        return True
    if audience is Audience.MEMBER:
        return is_member or is_leader or can_manage
    if audience is Audience.LEADER:
        return is_leader or can_manage
    return can_manage
