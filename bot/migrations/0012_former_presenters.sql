-- A past session whose presenter has since erased their data (`/mydata delete`): it
-- stays a presentation, counted, but by "a former member" with no id.
ALTER TABLE sessions ADD COLUMN presented_by_former INTEGER NOT NULL DEFAULT 0
    CHECK (presented_by_former IN (0, 1));
