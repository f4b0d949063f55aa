-- +goose Up
-- Index the child side of the deferred foreign keys that point at ratings.
-- A rating is inserted while its idempotency key (or the invitation it
-- uses up) already names it, and the database then looks up the child rows
-- that wait for the new parent. Without these indexes that lookup scanned
-- the whole child table, once per rating: submissions slowed down as the
-- idempotency_keys table grew.
CREATE INDEX idempotency_keys_rating ON idempotency_keys (rating_id);
CREATE INDEX invitations_rating ON invitations (rating_id);

-- +goose Down
DROP INDEX invitations_rating;
DROP INDEX idempotency_keys_rating;
