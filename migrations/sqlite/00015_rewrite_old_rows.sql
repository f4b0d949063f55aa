-- +goose NO TRANSACTION
-- +goose Up
-- For databases that held data before this release's first migrations:
-- two things a later step cannot do on its own.
--
-- Studies stored before 00008 hold no value for the REAL columns it
-- added: SQLite reads the column's default. SQLite 3.42 to 3.46 (the one
-- in this binary among them) misreads such a REAL default as NULL in
-- PRAGMA integrity_check, so `alliance backup`, which checks every copy,
-- failed on every upgraded database with a study. Writing the values
-- into the rows makes the check clean.
UPDATE studies SET alert_divergence_band = alert_divergence_band, alert_rupture_z = alert_rupture_z;

-- Releases before 00004 wrote without secure_delete, so deleted and
-- overwritten rows (an amended rating's old answers, say) may still lie
-- in free space, where erasing a dyad cannot reach them. VACUUM rewrites
-- the file with live rows only, once; it needs free disk about the size
-- of the database, and on a new database it takes no time. It runs with
-- secure_delete, as every write of the service does: without it the
-- rebuilt pages keep spare copies of live rows (a page's old content,
-- left behind when it splits), which no later erasure would reach.
-- +goose StatementBegin
PRAGMA secure_delete = ON;
VACUUM;
-- +goose StatementEnd

-- +goose Down
SELECT 1;
