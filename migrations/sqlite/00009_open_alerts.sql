-- +goose Up
-- Alert evaluation reads, before each rating write, the unresolved alerts
-- the write can bear on: those at or after its earliest context session,
-- and its rater's ruptures with no unresolved repair (internal/store,
-- activeAlertsSQL). A dyad's unresolved alerts only grow; without these
-- partial indexes each write scanned all of them, and looked for each
-- rupture's repair among them, so rating writes slowed down as a dyad was
-- followed.
CREATE INDEX alerts_open ON alerts (dyad_id, session) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_ruptures ON alerts (dyad_id, role, session) WHERE resolved_at IS NULL AND kind = 'rupture';
CREATE INDEX alerts_open_repairs ON alerts (dyad_id, episode_id) WHERE resolved_at IS NULL AND kind = 'repair';

-- +goose Down
DROP INDEX alerts_open_repairs;
DROP INDEX alerts_open_ruptures;
DROP INDEX alerts_open;
