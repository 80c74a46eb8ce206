-- What a reflection window promises is fixed when it opens: who may write (the members
-- on the roster at the session's end, as HMAC tags under the window's secret: no user
-- id), the threshold, and where the batch goes. Ratings move inside the encrypted,
-- padded payload, so neither a rating nor a length can match a row across a copy of the
-- database taken while the window was open.
ALTER TABLE reflection_windows ADD COLUMN threshold INTEGER;
ALTER TABLE reflection_windows ADD COLUMN release_to TEXT;
ALTER TABLE reflections DROP COLUMN rating;
CREATE TABLE reflection_writers (
    session_id  INTEGER NOT NULL REFERENCES reflection_windows (session_id) ON DELETE CASCADE,
    tag         BLOB    NOT NULL,
    PRIMARY KEY (session_id, tag)
) STRICT, WITHOUT ROWID;
