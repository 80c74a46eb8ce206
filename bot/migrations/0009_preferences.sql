-- Each member's own choices about the direct messages the bot sends them. No row means
-- the defaults (both on).
CREATE TABLE preferences (
    user_id         INTEGER PRIMARY KEY,
    reminder_dms    INTEGER NOT NULL DEFAULT 1 CHECK (reminder_dms IN (0, 1)),
    reflection_dms  INTEGER NOT NULL DEFAULT 1 CHECK (reflection_dms IN (0, 1))
) STRICT;
