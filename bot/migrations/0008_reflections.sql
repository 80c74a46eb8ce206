-- Anonymous post-session reflections. Nothing here can name an author: no user id, no
-- interaction or message id, no time but the session's own. Rows are keyed by random
-- bytes (WITHOUT ROWID), so neither the key nor the order on disk tells who wrote first.

-- One window per session, opened when the session ends. `secret` is the per-session
-- HMAC key that keeps one reflection per member (encrypted under the bot's key); it is
-- set to NULL (and erased from the disk) when the window closes.
CREATE TABLE reflection_windows (
    session_id   INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    secret       BLOB,
    closes_at    INTEGER NOT NULL,   -- the session's end plus the group's window
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'released', 'withheld')),
    received     INTEGER,            -- how many came in, counted at the close
    CHECK ((state = 'open') = (secret IS NOT NULL))
) STRICT;

-- `author_tag` is HMAC(secret, member, session): it finds a member's own reflection while
-- the window is open, and is set to NULL at the close. `position` is the reflection's
-- number in the released (shuffled) batch.
CREATE TABLE reflections (
    key          BLOB    PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES reflection_windows (session_id) ON DELETE CASCADE,
    author_tag   BLOB    UNIQUE,
    ciphertext   BLOB    NOT NULL,
    rating       INTEGER CHECK (rating BETWEEN 1 AND 5),
    position     INTEGER,
    hidden       INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1))
) STRICT, WITHOUT ROWID;
CREATE INDEX reflections_by_session ON reflections (session_id, position);
