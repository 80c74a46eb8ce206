"""Where the database holds Discord user ids: the one declared list of them.

Every table column that holds a user id is named here, so that a member's own data can
be found (and, with `/mydata`, exported and erased) by column; the few text columns that
can spell an id (a job's key and payload) are named too.
A test compares this list with the schema (`PRAGMA table_info`): a new column that ends
in `_id` must be declared here, or among the ids that are not people, or be a foreign
key to another table of the bot, or the test fails.
"""

from __future__ import annotations

from typing import Final

# table -> the columns that hold a Discord user id
USER_ID_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "members": ("user_id",),
    "sessions": ("presenter_id", "presenter_reminded"),
    "absences": ("user_id",),
    "rsvps": ("user_id",),
    "swaps": ("requester_id", "target_id"),
    "cases": ("member_id",),
    "audit": ("actor_id", "subject_id"),
    "job_recipients": ("recipient_id",),
    "preferences": ("user_id",),
    "attendance": ("user_id",),
    # ids inside text: a presenter reminder's key and payload name its presenter, and an
    # audit entry's detail may name the member it is about
    "jobs": ("key", "payload"),
}

# Columns ending in `_id` that hold the id of something that is not a person.
OTHER_ID_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "groups": ("guild_id", "channel_id", "leaders_channel_id"),
    # the server's "group delete" entry outlives
    # the group, so this is a plain column rather than a foreign key
    "audit": ("guild_id", "group_id"),
    "sessions": ("event_id",),
    "reminder_messages": ("channel_id", "message_id"),
}
