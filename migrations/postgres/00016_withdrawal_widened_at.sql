-- +goose Up
-- When a withdrawal's scope widened to both (the other side withdrew
-- too). The withdrawal keeps its first time, when collection stopped, so
-- an incremental export (updated_since) never saw the widening and a
-- merged dataset kept the narrower scope for good. Widenings made before
-- this migration take their time from the audit log.
ALTER TABLE dyads ADD COLUMN withdrawal_widened_at timestamptz;
UPDATE dyads SET withdrawal_widened_at = (
    SELECT max(a.at) FROM audit_log AS a
    WHERE a.dyad_id = dyads.id AND a.action = 'dyad.withdraw' AND a.before IS NOT NULL)
WHERE withdrawn_scope = 'both';

-- +goose Down
ALTER TABLE dyads DROP COLUMN withdrawal_widened_at;
