-- What reminders record, and what they read about case notes.

-- The home-channel reminder of a session, so RSVP counts can be shown on it.
CREATE TABLE reminder_messages (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (session_id, message_id)
) STRICT;

-- A presenter's case note (AES-GCM ciphertext, never plaintext) or a content-free flag
-- ("I may have a case") for a session. The leaders' reminder reads whether one exists.
CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('note', 'flag')),
    ciphertext  BLOB,
    created_at  INTEGER NOT NULL,
    UNIQUE (session_id, member_id),
    CHECK ((kind = 'flag') = (ciphertext IS NULL))
) STRICT;
