-- Who a job that sends to several people (the leaders' reminder) has already reached, so
-- that a retry after some sends failed reaches the others without repeating itself.
CREATE TABLE job_recipients (
    job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    recipient_id  INTEGER NOT NULL,
    PRIMARY KEY (job_id, recipient_id)
) STRICT;
