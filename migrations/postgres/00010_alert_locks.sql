-- +goose Up
-- Alert evaluation now runs in the rating write's own transaction, with
-- the dyad locked against every other write of its alerts (on PostgreSQL
-- the dyad's row, FOR NO KEY UPDATE; SQLite has one writer), so the
-- optimistic revision rows that refused a write computed from a stale
-- state (00008) have nothing left to do.
DROP TABLE alert_revisions;

-- +goose Down
CREATE TABLE alert_revisions (
    dyad_id text NOT NULL REFERENCES dyads (id),
    rev     integer NOT NULL,
    PRIMARY KEY (dyad_id, rev)
);
