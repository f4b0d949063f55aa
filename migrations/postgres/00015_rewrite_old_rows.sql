-- +goose Up
-- Nothing to do on PostgreSQL: 00015 rewrites an SQLite file's old rows
-- (see the SQLite migration). This file keeps the versions of both
-- dialects the same.
SELECT 1;

-- +goose Down
SELECT 1;
