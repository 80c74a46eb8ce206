-- Foundation: key/value facts about this database, the job queue, the audit trail.

-- Facts such as the encryption key check value and the hash of the synced commands.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Work to do at a moment: the database is the source of truth for what is due and
-- what was done; the in-memory scheduler only wakes the bot.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL UNIQUE,       -- idempotency key, e.g. 'reminder:42:channel'
    due_at      INTEGER NOT NULL,              -- unix seconds, UTC
    expires_at  INTEGER,                       -- past this, the job is useless: skipped
    payload     TEXT    NOT NULL DEFAULT '{}', -- JSON; never holds confidential text
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'skipped', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,                       -- a running job whose lease ran out is retried
    last_error  TEXT,                          -- exception class only, never its message
    finished_at INTEGER
) STRICT;
CREATE INDEX jobs_pending_due ON jobs (state, due_at);

-- Leaders' configuration changes: who, what, when.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    guild_id  INTEGER NOT NULL,
    group_id  INTEGER,
    actor_id  INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_by_guild ON audit (guild_id, at);
