-- Reminder jobs are keyed by the session's revision (raised by every move) instead of its
-- start, so a session moved away and back gets live reminders again; the presenter's
-- reminder is keyed by who presents, so a member who takes over a slot after it went
-- out gets it at once. The session records who received the presenter reminder.
ALTER TABLE sessions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN presenter_reminded INTEGER;

-- The existing jobs of each session's current start become revision 0; jobs of earlier
-- starts (before a move) keep their old key, as history.
UPDATE jobs
SET key = substr(key, 1, instr(key, ':at:')) || 'rev:0:'
          || CASE WHEN key LIKE '%:channel' THEN 'channel'
                  WHEN key LIKE '%:presenter' THEN 'presenter'
                  ELSE 'leaders' END
WHERE key LIKE 'reminders:group:%:session:%:at:%'
  AND CAST(substr(key, instr(key, ':at:') + 4,
                  instr(substr(key, instr(key, ':at:') + 4), ':') - 1) AS INTEGER)
      = (SELECT starts_at FROM sessions
         WHERE sessions.id = CAST(json_extract(jobs.payload, '$.session_id') AS INTEGER));

UPDATE jobs
SET key = key || ':' || (SELECT presenter_id FROM sessions
                         WHERE sessions.id = CAST(json_extract(jobs.payload, '$.session_id') AS INTEGER))
WHERE key LIKE 'reminders:group:%:session:%:rev:0:presenter'
  AND (SELECT presenter_id FROM sessions
       WHERE sessions.id = CAST(json_extract(jobs.payload, '$.session_id') AS INTEGER)) IS NOT NULL;

UPDATE sessions
SET presenter_reminded = presenter_id
WHERE presenter_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM jobs
    WHERE jobs.state = 'done' AND jobs.kind = 'reminder.presenter'
      AND CAST(json_extract(jobs.payload, '$.session_id') AS INTEGER) = sessions.id);
