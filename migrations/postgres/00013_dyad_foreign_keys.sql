-- +goose Up
-- Ratings, alerts and outbox events reference their dyad and its study in
-- one foreign key, (dyad_id, study_id) → dyads (id, study_id), in place of
-- one key to the dyad and another to the study. On PostgreSQL a foreign
-- key check locks the row it finds (FOR KEY SHARE): every rating write
-- locked its study's one row, so concurrent write batches of a study kept
-- sharing that lock (a MultiXact created and the row rewritten per
-- batch). The dyad's row is locked by the write already (alert
-- evaluation, FOR NO KEY UPDATE), so checking against it costs no new
-- lock. The key is also stricter: a row's study must be its dyad's.
-- An outbox event without a dyad (none is written today) is not checked.
CREATE UNIQUE INDEX dyads_id_study ON dyads (id, study_id);
ALTER TABLE ratings
    DROP CONSTRAINT ratings_dyad_id_fkey,
    DROP CONSTRAINT ratings_study_id_fkey,
    ADD CONSTRAINT ratings_dyad_fkey FOREIGN KEY (dyad_id, study_id) REFERENCES dyads (id, study_id);
ALTER TABLE alerts
    DROP CONSTRAINT alerts_dyad_id_fkey,
    DROP CONSTRAINT alerts_study_id_fkey,
    ADD CONSTRAINT alerts_dyad_fkey FOREIGN KEY (dyad_id, study_id) REFERENCES dyads (id, study_id);
ALTER TABLE outbox_events
    DROP CONSTRAINT outbox_events_study_id_fkey,
    ADD CONSTRAINT outbox_events_dyad_fkey FOREIGN KEY (dyad_id, study_id) REFERENCES dyads (id, study_id);

-- +goose Down
ALTER TABLE outbox_events
    DROP CONSTRAINT outbox_events_dyad_fkey,
    ADD CONSTRAINT outbox_events_study_id_fkey FOREIGN KEY (study_id) REFERENCES studies (id);
ALTER TABLE alerts
    DROP CONSTRAINT alerts_dyad_fkey,
    ADD CONSTRAINT alerts_dyad_id_fkey FOREIGN KEY (dyad_id) REFERENCES dyads (id),
    ADD CONSTRAINT alerts_study_id_fkey FOREIGN KEY (study_id) REFERENCES studies (id);
ALTER TABLE ratings
    DROP CONSTRAINT ratings_dyad_fkey,
    ADD CONSTRAINT ratings_dyad_id_fkey FOREIGN KEY (dyad_id) REFERENCES dyads (id),
    ADD CONSTRAINT ratings_study_id_fkey FOREIGN KEY (study_id) REFERENCES studies (id);
DROP INDEX dyads_id_study;
