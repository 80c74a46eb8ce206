-- Optional per group: each session mirrored as a Discord Scheduled Event.
ALTER TABLE groups ADD COLUMN mirror_events INTEGER NOT NULL DEFAULT 0 CHECK (mirror_events IN (0, 1));
ALTER TABLE sessions ADD COLUMN event_id INTEGER;
