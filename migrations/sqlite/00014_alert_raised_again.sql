-- +goose Up
-- A finding is raised once while its alert is unresolved, no longer once
-- for ever. A rupture resolved because a session was rated between its
-- two sessions is a finding again when that rating is voided; under a key
-- unique among all alerts, resolved ones included, its new alert was
-- skipped and the rupture was lost without a word. Every other key names
-- a rating version, and a resolved alert's versions are gone, so only a
-- finding that really came back is raised again.
DROP INDEX alerts_dedup;
CREATE UNIQUE INDEX alerts_dedup ON alerts (dedup_key) WHERE resolved_at IS NULL;

-- +goose Down
-- Refused, rather than deleting alerts, once a finding has been raised a
-- second time: the old index cannot hold both.
DROP INDEX alerts_dedup;
CREATE UNIQUE INDEX alerts_dedup ON alerts (dedup_key);
