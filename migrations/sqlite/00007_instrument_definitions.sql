-- +goose Up
-- Families of parallel forms defined at run time (POST /v1/instruments),
-- beside the built-in ones compiled into the binary. A row is one version
-- of one family: its canonical JSON definition (structure and our own
-- labels, never item wording). A stored definition never changes: studies
-- and scores name it by its versioned form ids ("sai_client@2"), and every
-- instance keeps it in memory without expiry. So the table takes inserts
-- only; a changed definition is a new version.
CREATE TABLE instrument_definitions (
    id         TEXT NOT NULL,
    version    TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (id, version)
);

-- +goose StatementBegin
CREATE TRIGGER instrument_definitions_no_update BEFORE UPDATE ON instrument_definitions
BEGIN
    SELECT RAISE(ABORT, 'instrument_definitions is insert-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER instrument_definitions_no_delete BEFORE DELETE ON instrument_definitions
BEGIN
    SELECT RAISE(ABORT, 'instrument_definitions is insert-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE instrument_definitions;
