-- +goose Up
-- Study settings: a pattern every participant code must match, and the
-- language of the hosted survey page.
ALTER TABLE studies ADD COLUMN code_pattern TEXT;
ALTER TABLE studies ADD COLUMN language TEXT;

-- Consent withdrawal: collection stops, what was given is kept.
ALTER TABLE dyads ADD COLUMN withdrawn_at DATETIME;
ALTER TABLE dyads ADD COLUMN withdrawn_scope TEXT CHECK (withdrawn_scope IN ('client', 'counsellor', 'both'));
ALTER TABLE dyads ADD COLUMN withdrawal_reason TEXT;

-- A survey link revoked before it was used.
ALTER TABLE invitations ADD COLUMN revoked_at DATETIME;

-- A voided rating leaves current data (it is superseded with no
-- successor) but stays in the history with when and why.
ALTER TABLE ratings ADD COLUMN voided_at DATETIME;
ALTER TABLE ratings ADD COLUMN void_reason TEXT;

-- The audit log names the dyad an entry concerns, so an erasure can find
-- and redact its payloads; redacted_at marks a redacted entry.
ALTER TABLE audit_log ADD COLUMN dyad_id TEXT;
ALTER TABLE audit_log ADD COLUMN redacted_at DATETIME;
CREATE INDEX audit_log_dyad ON audit_log (dyad_id) WHERE dyad_id IS NOT NULL;

DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET dyad_id = CASE resource
    WHEN 'dyad' THEN resource_id
    WHEN 'rating' THEN (SELECT r.dyad_id FROM ratings r WHERE r.id = audit_log.resource_id)
    WHEN 'invitation' THEN (SELECT i.dyad_id FROM invitations i WHERE i.id = audit_log.resource_id)
END;

-- The log stays append-only, but for one change: an erasure may redact an
-- entry's payload (before and after), leaving who did what and when.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (NEW.before IS NULL AND NEW.after IS NULL AND NEW.redacted_at IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
    AND NEW.resource IS OLD.resource AND NEW.resource_id IS OLD.resource_id
    AND NEW.study_id IS OLD.study_id AND NEW.dyad_id IS OLD.dyad_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- No rating joins a dyad whose consent was withdrawn, whichever instance
-- or cached copy of the dyad a request saw.
-- +goose StatementBegin
CREATE TRIGGER ratings_dyad_withdrawn BEFORE INSERT ON ratings
WHEN (SELECT d.withdrawn_at FROM dyads d WHERE d.id = NEW.dyad_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'dyad_withdrawn');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER ratings_dyad_withdrawn;
DROP TRIGGER audit_log_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
DROP INDEX audit_log_dyad;
ALTER TABLE audit_log DROP COLUMN redacted_at;
ALTER TABLE audit_log DROP COLUMN dyad_id;
ALTER TABLE ratings DROP COLUMN void_reason;
ALTER TABLE ratings DROP COLUMN voided_at;
ALTER TABLE invitations DROP COLUMN revoked_at;
ALTER TABLE dyads DROP COLUMN withdrawal_reason;
ALTER TABLE dyads DROP COLUMN withdrawn_scope;
ALTER TABLE dyads DROP COLUMN withdrawn_at;
ALTER TABLE studies DROP COLUMN language;
ALTER TABLE studies DROP COLUMN code_pattern;
