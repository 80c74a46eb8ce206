-- Who a job that sends to several people (the leaders' reminder) has already reached, so
-- that a retry after some sends failed reaches the others without repeating itself.
CREATE TABLE job_recipients (
    job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    recipient_id  INTEGER NOT NULL,
    PRIMARY KEY (job_id, recipient_id)
) STRICT;

-- The slot a swap request offers in exchange (NULL: a plain hand-over), as both members
-- were told when it was asked; answering carries out exactly that, or nothing.
ALTER TABLE swaps ADD COLUMN exchange_session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL;
