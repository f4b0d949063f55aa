-- +goose Up
-- No survey link is made for a dyad whose consent was withdrawn, whichever
-- instance or cached copy of the dyad the request saw: a link made while a
-- withdrawal ran was committed after it, never revoked, and served the
-- form to the rater who had withdrawn. SQLite's one writer runs one
-- transaction at a time, so the trigger reads the dyad as committed.
-- +goose StatementBegin
CREATE TRIGGER invitations_dyad_withdrawn BEFORE INSERT ON invitations
WHEN (SELECT d.withdrawn_at FROM dyads d WHERE d.id = NEW.dyad_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'dyad_withdrawn');
END;
-- +goose StatementEnd
-- Links that slipped through before: revoked as of their dyad's withdrawal.
UPDATE invitations SET revoked_at = (SELECT d.withdrawn_at FROM dyads d WHERE d.id = invitations.dyad_id)
WHERE used_at IS NULL AND revoked_at IS NULL
  AND (SELECT d.withdrawn_at FROM dyads d WHERE d.id = invitations.dyad_id) IS NOT NULL;

-- +goose Down
DROP TRIGGER invitations_dyad_withdrawn;
