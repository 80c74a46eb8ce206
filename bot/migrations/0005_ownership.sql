-- Jobs belong to their group (deleting the group deletes them), and are named by the
-- capability that owns them; audit entries name the member they are about, so that a
-- member's data can be found by column; posted reminders remember the start they were for.

-- Jobs of groups that no longer exist cannot be kept under a foreign key.
DELETE FROM jobs
WHERE key LIKE 'group:%'
  AND CAST(substr(key, 7, instr(substr(key, 7), ':') - 1) AS INTEGER) NOT IN (SELECT id FROM groups);

ALTER TABLE jobs ADD COLUMN group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE;
UPDATE jobs
SET group_id = CAST(substr(key, 7, instr(substr(key, 7), ':') - 1) AS INTEGER),
    key = 'reminders:' || key
WHERE key LIKE 'group:%:session:%';
CREATE INDEX jobs_by_group ON jobs (group_id, state, kind);

-- The member an entry is about (added, removed, assigned), or NULL.
ALTER TABLE audit ADD COLUMN subject_id INTEGER;
UPDATE audit SET subject_id = CAST(detail AS INTEGER) WHERE action = 'roster remove';
UPDATE audit SET subject_id = CAST(substr(detail, 1, instr(detail, ' ') - 1) AS INTEGER)
WHERE action IN ('roster add', 'roster role');
UPDATE audit SET subject_id = CAST(substr(detail, instr(detail, ' to ') + 4) AS INTEGER)
WHERE action = 'rota assign';
UPDATE audit SET subject_id = CAST(substr(detail, instr(detail, 'leader ') + 7) AS INTEGER)
WHERE action = 'group create';
CREATE INDEX audit_by_subject ON audit (subject_id);

ALTER TABLE reminder_messages ADD COLUMN starts_at INTEGER;
UPDATE reminder_messages
SET starts_at = (SELECT starts_at FROM sessions WHERE sessions.id = reminder_messages.session_id);
