-- +goose Up
-- Nothing to do on SQLite. On PostgreSQL, ratings, alerts and outbox
-- events now reference their dyad and its study in one foreign key,
-- (dyad_id, study_id) → dyads (id, study_id), because a foreign key check
-- there locks the row it finds, and every rating write locked its study's
-- one row (see migrations/postgres). SQLite's foreign keys take no row
-- locks, and restating them would mean rebuilding the three tables, so
-- they stay as they are. The version exists here so that both dialects
-- keep the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
