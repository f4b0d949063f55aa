-- +goose Up
-- No survey link is made for a dyad whose consent was withdrawn, whichever
-- instance or cached copy of the dyad the request saw: a link made while a
-- withdrawal ran was committed after it, never revoked, and served the
-- form to the rater who had withdrawn. The trigger reads the dyad FOR
-- SHARE: it waits for a withdrawal in progress (its UPDATE holds the row)
-- and then reads it as committed; a withdrawal that comes second waits for
-- the link's transaction, and then its revocation of the dyad's pending
-- links (a later statement) sees the link.
-- +goose StatementBegin
CREATE FUNCTION invitations_dyad_withdrawn() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    withdrawn timestamptz;
BEGIN
    SELECT d.withdrawn_at INTO withdrawn FROM dyads d WHERE d.id = NEW.dyad_id FOR SHARE;
    IF withdrawn IS NOT NULL THEN
        RAISE EXCEPTION 'dyad_withdrawn' USING ERRCODE = 'check_violation', CONSTRAINT = 'dyad_withdrawn';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER invitations_dyad_withdrawn BEFORE INSERT ON invitations
    FOR EACH ROW EXECUTE FUNCTION invitations_dyad_withdrawn();
-- Links that slipped through before: revoked as of their dyad's withdrawal.
UPDATE invitations AS i SET revoked_at = d.withdrawn_at
FROM dyads AS d
WHERE d.id = i.dyad_id AND d.withdrawn_at IS NOT NULL AND i.used_at IS NULL AND i.revoked_at IS NULL;

-- +goose Down
DROP TRIGGER invitations_dyad_withdrawn ON invitations;
DROP FUNCTION invitations_dyad_withdrawn();
