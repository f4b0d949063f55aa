-- +goose Up
-- A rupture's unresolved repair, on the rupture itself: alert evaluation
-- reads a rater's open ruptures (unresolved, and not repaired) before
-- every rating write, and finding them by looking for each unresolved
-- rupture's repair made that read grow with every rupture ever repaired.
-- The write that raises a repair sets it; the one that resolves the
-- repair alone clears it (internal/store/alerts.go). The partial index
-- of open ruptures now holds the unrepaired ones only, and the index of
-- unresolved repairs, which only that lookup used, goes.
ALTER TABLE alerts ADD COLUMN repaired_by TEXT;
UPDATE alerts SET repaired_by = (
    SELECT p.id FROM alerts p
    WHERE p.dyad_id = alerts.dyad_id AND p.episode_id = alerts.episode_id AND p.kind = 'repair' AND p.resolved_at IS NULL
    ORDER BY p.id LIMIT 1)
WHERE kind = 'rupture' AND resolved_at IS NULL;
DROP INDEX alerts_open_ruptures;
DROP INDEX alerts_open_repairs;
CREATE INDEX alerts_open_ruptures ON alerts (dyad_id, role, session) WHERE resolved_at IS NULL AND kind = 'rupture' AND repaired_by IS NULL;

-- +goose Down
DROP INDEX alerts_open_ruptures;
CREATE INDEX alerts_open_ruptures ON alerts (dyad_id, role, session) WHERE resolved_at IS NULL AND kind = 'rupture';
CREATE INDEX alerts_open_repairs ON alerts (dyad_id, episode_id) WHERE resolved_at IS NULL AND kind = 'repair';
ALTER TABLE alerts DROP COLUMN repaired_by;
