-- PostgreSQL twin of sqlite/00004_privacy.sql.

-- +goose Up
ALTER TABLE studies ADD COLUMN code_pattern text;
ALTER TABLE studies ADD COLUMN language text;

ALTER TABLE dyads ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE dyads ADD COLUMN withdrawn_scope text CHECK (withdrawn_scope IN ('client', 'counsellor', 'both'));
ALTER TABLE dyads ADD COLUMN withdrawal_reason text;

ALTER TABLE invitations ADD COLUMN revoked_at timestamptz;

ALTER TABLE ratings ADD COLUMN voided_at timestamptz;
ALTER TABLE ratings ADD COLUMN void_reason text;

ALTER TABLE audit_log ADD COLUMN dyad_id text;
ALTER TABLE audit_log ADD COLUMN redacted_at timestamptz;
CREATE INDEX audit_log_dyad ON audit_log (dyad_id) WHERE dyad_id IS NOT NULL;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
UPDATE audit_log SET dyad_id = CASE resource
    WHEN 'dyad' THEN resource_id
    WHEN 'rating' THEN (SELECT r.dyad_id FROM ratings r WHERE r.id = audit_log.resource_id)
    WHEN 'invitation' THEN (SELECT i.dyad_id FROM invitations i WHERE i.id = audit_log.resource_id)
END;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

-- The log stays append-only, but for one change: an erasure may redact an
-- entry's payload (before and after), leaving who did what and when.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.before IS NULL AND NEW.after IS NULL AND NEW.redacted_at IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.resource, NEW.resource_id, NEW.study_id, NEW.dyad_id)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.resource, OLD.resource_id, OLD.study_id, OLD.dyad_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd

-- No rating joins a dyad whose consent was withdrawn.
-- +goose StatementBegin
CREATE FUNCTION ratings_dyad_withdrawn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dyads d WHERE d.id = NEW.dyad_id AND d.withdrawn_at IS NOT NULL) THEN
        RAISE EXCEPTION 'dyad_withdrawn' USING ERRCODE = 'check_violation', CONSTRAINT = 'dyad_withdrawn';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ratings_dyad_withdrawn BEFORE INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_dyad_withdrawn();

-- +goose Down
DROP TRIGGER ratings_dyad_withdrawn ON ratings;
DROP FUNCTION ratings_dyad_withdrawn();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
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
