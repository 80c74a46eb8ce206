-- Groups, their rosters, planned sessions and what the rota needs.

CREATE TABLE groups (
    id                    INTEGER PRIMARY KEY,
    guild_id              INTEGER NOT NULL,
    name                  TEXT    NOT NULL,
    name_key              TEXT    NOT NULL,          -- casefolded name: unique per server
    channel_id            INTEGER NOT NULL,          -- home channel
    timezone              TEXT    NOT NULL,          -- IANA zone name
    presenter_mode        TEXT    NOT NULL DEFAULT 'assigned'
                          CHECK (presenter_mode IN ('assigned', 'on-deck')),
    -- reminder offsets in minutes before the session; NULL turns one off
    remind_channel_min    INTEGER DEFAULT 1440,
    remind_presenter_min  INTEGER DEFAULT 4320,
    remind_leaders_min    INTEGER DEFAULT 1440,
    reflection_threshold  INTEGER NOT NULL DEFAULT 4 CHECK (reflection_threshold >= 3),
    reflection_window_h   INTEGER NOT NULL DEFAULT 48 CHECK (reflection_window_h BETWEEN 1 AND 336),
    reflection_release    TEXT    NOT NULL DEFAULT 'leaders'
                          CHECK (reflection_release IN ('leaders', 'channel')),
    case_retention_h      INTEGER NOT NULL DEFAULT 0 CHECK (case_retention_h BETWEEN 0 AND 168),
    leaders_channel_id    INTEGER,
    term_start            INTEGER,                   -- unix seconds; the rota's "this term"
    created_at            INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
) STRICT;
CREATE INDEX groups_by_channel ON groups (channel_id);

CREATE TABLE members (
    group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    role      TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'co-leader', 'leader')),
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) STRICT;
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    group_id          INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    starts_at         INTEGER NOT NULL,              -- unix seconds, UTC
    duration_min      INTEGER NOT NULL CHECK (duration_min BETWEEN 15 AND 480),
    status            TEXT    NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    presenter_id      INTEGER,
    presenter_locked  INTEGER NOT NULL DEFAULT 0 CHECK (presenter_locked IN (0, 1)),
    created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_group ON sessions (group_id, starts_at);

CREATE TABLE absences (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    starts_at  INTEGER NOT NULL,                     -- first instant away (local midnight)
    ends_at    INTEGER NOT NULL,                     -- first instant back (local midnight)
    CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX absences_by_member ON absences (group_id, user_id);

CREATE TABLE rsvps (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    attending   INTEGER NOT NULL CHECK (attending IN (0, 1)),
    PRIMARY KEY (session_id, user_id)
) STRICT;

CREATE TABLE swaps (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    requester_id  INTEGER NOT NULL,
    target_id     INTEGER NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'void')),
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER
) STRICT;
CREATE INDEX swaps_by_session ON swaps (session_id, state);
