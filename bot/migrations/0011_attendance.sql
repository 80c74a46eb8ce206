-- Attendance as the leaders recorded it (`/attendance mark`), and whether a group meets
-- online or in person (the leaders' log for accreditation records it per session).

-- Who was present at a session. A session's record is the set of its rows, replaced as a
-- whole when a leader marks it again; `sessions.attendance_at` says that it was recorded
-- at all (a record may name nobody), and when.
CREATE TABLE attendance (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
) STRICT;
CREATE INDEX attendance_by_user ON attendance (user_id);

ALTER TABLE sessions ADD COLUMN attendance_at INTEGER;  -- unix seconds; NULL: not recorded

ALTER TABLE groups ADD COLUMN meeting_format TEXT NOT NULL DEFAULT 'in person'
    CHECK (meeting_format IN ('in person', 'online'));
-- A series planned with its own format (`/session schedule format`); NULL: the group's.
ALTER TABLE sessions ADD COLUMN meeting_format TEXT
    CHECK (meeting_format IS NULL OR meeting_format IN ('in person', 'online'));
