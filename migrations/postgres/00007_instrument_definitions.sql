-- PostgreSQL twin of sqlite/00007_instrument_definitions.sql.

-- +goose Up
-- Families of parallel forms defined at run time (POST /v1/instruments),
-- beside the built-in ones compiled into the binary. A row is one version
-- of one family: its canonical JSON definition (structure and our own
-- labels, never item wording). A stored definition never changes: studies
-- and scores name it by its versioned form ids ("sai_client@2"), and every
-- instance keeps it in memory without expiry. So the table takes inserts
-- only; a changed definition is a new version.
CREATE TABLE instrument_definitions (
    id         text NOT NULL,
    version    text NOT NULL,
    definition text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (id, version)
);

-- The error is an integrity constraint violation (class 23), as SQLite's
-- RAISE(ABORT).
-- +goose StatementBegin
CREATE FUNCTION instrument_definitions_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'instrument_definitions is insert-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER instrument_definitions_no_update BEFORE UPDATE ON instrument_definitions
    FOR EACH ROW EXECUTE FUNCTION instrument_definitions_insert_only();
CREATE TRIGGER instrument_definitions_no_delete BEFORE DELETE ON instrument_definitions
    FOR EACH ROW EXECUTE FUNCTION instrument_definitions_insert_only();
CREATE TRIGGER instrument_definitions_no_truncate BEFORE TRUNCATE ON instrument_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION instrument_definitions_insert_only();

-- +goose Down
DROP TABLE instrument_definitions;
DROP FUNCTION instrument_definitions_insert_only();
