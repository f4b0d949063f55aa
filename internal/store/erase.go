package store

import (
	"context"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// Erasure (GDPR Art. 17): every row of a dyad or a study is deleted, and
// the payloads of their audit entries are redacted; the audit log keeps
// who did what and when, and the erasure itself. Deleted bytes are then
// purged from the files: SQLite overwrites deleted content with zeros
// (secure_delete on every connection, see SQLiteDSN) and the WAL, which still
// holds the pages as they were before, is checkpointed and truncated; on
// PostgreSQL the tables are vacuumed.
const (
	redactDyadAuditSQL = `UPDATE audit_log SET before = NULL, after = NULL, redacted_at = ?
WHERE dyad_id = ? AND redacted_at IS NULL`
	redactStudyAuditSQL = `UPDATE audit_log SET before = NULL, after = NULL, redacted_at = ?
WHERE study_id = ? AND redacted_at IS NULL`
	eraseDyadKeysSQL        = `DELETE FROM idempotency_keys WHERE rating_id IN (SELECT id FROM ratings WHERE dyad_id = ?)`
	eraseDyadInvitationsSQL = `DELETE FROM invitations WHERE dyad_id = ?`
	eraseDyadRatingsSQL     = `DELETE FROM ratings WHERE dyad_id = ?`
	eraseDyadSQL            = `DELETE FROM dyads WHERE id = ?`

	eraseStudyKeysSQL        = `DELETE FROM idempotency_keys WHERE rating_id IN (SELECT id FROM ratings WHERE study_id = ?)`
	eraseStudyInvitationsSQL = `DELETE FROM invitations WHERE study_id = ?`
	eraseStudyRatingsSQL     = `DELETE FROM ratings WHERE study_id = ?`
	eraseStudyDyadsSQL       = `DELETE FROM dyads WHERE study_id = ?`
	eraseStudyUISessionsSQL  = `DELETE FROM ui_sessions WHERE key_id IN (SELECT id FROM api_keys WHERE study_id = ?)`
	eraseStudyAPIKeysSQL     = `DELETE FROM api_keys WHERE study_id = ?`
	eraseStudySQL            = `DELETE FROM studies WHERE id = ?`

	// A dyad's alerts and outbox events, with the deliveries and delivery
	// log lines of those events; a study's, with its webhook endpoints.
	eraseDyadAttemptsSQL    = `DELETE FROM webhook_attempts WHERE event_id IN (SELECT id FROM outbox_events WHERE dyad_id = ?)`
	eraseDyadDeliveriesSQL  = `DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM outbox_events WHERE dyad_id = ?)`
	eraseDyadEventsSQL      = `DELETE FROM outbox_events WHERE dyad_id = ?`
	eraseDyadAlertsSQL      = `DELETE FROM alerts WHERE dyad_id = ?`
	eraseStudyAttemptsSQL   = `DELETE FROM webhook_attempts WHERE endpoint_id IN (SELECT id FROM webhook_endpoints WHERE study_id = ?)`
	eraseStudyDeliveriesSQL = `DELETE FROM webhook_deliveries WHERE study_id = ?`
	eraseStudyWebhooksSQL   = `DELETE FROM webhook_endpoints WHERE study_id = ?`
	eraseStudyEventsSQL     = `DELETE FROM outbox_events WHERE study_id = ?`
	eraseStudyAlertsSQL     = `DELETE FROM alerts WHERE study_id = ?`

	// On PostgreSQL an erasure first locks what it erases, FOR UPDATE:
	// the dyad, or the study and then its dyads in id order (the order
	// rating writes lock dyads in). A rating write holds its dyad's lock
	// from before its INSERTs to its commit, and its foreign-key check
	// needs a lock this one excludes. Without it a rating committed
	// between the erasure's DELETE of the ratings and its DELETE of the
	// dyad: the dyad's DELETE then failed its foreign key, the erasure
	// answered 404 and erased nothing. Now such a write waits, and finds
	// its dyad gone. SQLite's one writer runs one transaction at a time.
	lockDyadErasedSQL       = `SELECT 1 FROM dyads WHERE id = ? FOR UPDATE`
	lockStudyErasedSQL      = `SELECT 1 FROM studies WHERE id = ? FOR UPDATE`
	lockStudyDyadsErasedSQL = `SELECT 1 FROM dyads WHERE study_id = ? ORDER BY id FOR UPDATE`
)

// EraseDyad deletes a dyad with its ratings (every version), survey links,
// idempotency records, alerts and outbox events (with
// their deliveries), and redacts its audit entries, in one transaction; then purges the
// deleted bytes. ErrNotFound if there is no such dyad.
func (s *Store) EraseDyad(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	err := s.write(ctx, audit, erase(fmt.Sprintf("dyad %s", id), id, at, []*statement{s.sql.lockDyadErased},
		s.sql.redactDyadAudit, s.sql.eraseDyadKeys, s.sql.eraseDyadInvitations,
		s.sql.eraseDyadAttempts, s.sql.eraseDyadDeliveries, s.sql.eraseDyadEvents, s.sql.eraseDyadAlerts,
		s.sql.eraseDyadRatings, s.sql.eraseDyad)...)
	if err != nil {
		return err
	}
	return s.purge(ctx)
}

// EraseStudy erases a whole study the same way, its dyads, keys bound to
// it, webhook endpoints and audit payloads included.
func (s *Store) EraseStudy(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	err := s.write(ctx, audit, erase(fmt.Sprintf("study %s", id), id, at, []*statement{s.sql.lockStudyErased, s.sql.lockStudyDyadsErased},
		s.sql.redactStudyAudit, s.sql.eraseStudyKeys, s.sql.eraseStudyInvitations,
		s.sql.eraseStudyAttempts, s.sql.eraseStudyDeliveries, s.sql.eraseStudyWebhooks, s.sql.eraseStudyEvents, s.sql.eraseStudyAlerts,
		s.sql.eraseStudyRatings,
		s.sql.eraseStudyDyads, s.sql.eraseStudyUISessions, s.sql.eraseStudyAPIKeys, s.sql.eraseStudy)...)
	if err != nil {
		return err
	}
	return s.purge(ctx)
}

// erase is the ops of an erasure: the locks (id) the dialect has, redact
// (at, id), then the deletes (id) in order, children first; the last
// deletes the erased row itself, and finding none is ErrNotFound.
func erase(what, id string, at time.Time, locks []*statement, redact *statement, deletes ...*statement) []op {
	var ops []op
	for _, st := range locks {
		if st != nil {
			ops = append(ops, op{st: st, args: []any{id}})
		}
	}
	ops = append(ops, op{st: redact, args: []any{at, id}})
	for _, st := range deletes {
		ops = append(ops, op{st: st, args: []any{id}})
	}
	ops[len(ops)-1].none = fmt.Errorf("%s: %w", what, alliance.ErrNotFound)
	return ops
}

// purge removes the erased bytes from the database files. On SQLite the
// deleted rows are already zeros in the pages the erasure wrote
// (secure_delete), but the WAL still holds earlier images of those pages:
// a TRUNCATE checkpoint copies the new pages into the database file and
// empties the WAL. It waits for readers that hold older snapshots; if it
// cannot finish in time, the checkpointer keeps trying (see truncateWAL).
// On PostgreSQL deleted and redacted rows are gone from every query at
// once; VACUUM, started in the background, frees their space.
func (s *Store) purge(ctx context.Context) error {
	if s.checkpoints != nil {
		s.checkpoints.truncateWAL(ctx)
		return nil
	}
	go s.vacuum()
	return nil
}

// vacuum frees the space of deleted rows on PostgreSQL. A failure is
// logged (see sqlLog) and left to autovacuum.
func (s *Store) vacuum() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s.db.WithContext(ctx).Exec("VACUUM audit_log, idempotency_keys, invitations, webhook_attempts, webhook_deliveries, webhook_endpoints, outbox_events, alerts, ratings, dyads, api_keys, studies")
}
