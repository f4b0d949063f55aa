package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// eventRow mirrors outbox_events: one event a write published, stored in
// the write's transaction.
type eventRow struct {
	ID          string `gorm:"primaryKey"`
	StudyID     string
	DyadID      sql.NullString
	Type        string
	Payload     string
	CreatedAt   time.Time
	FannedOutAt sql.NullTime
}

func (eventRow) TableName() string { return "outbox_events" }

// deliveryRow mirrors webhook_deliveries: one event due to one endpoint.
type deliveryRow struct {
	ID            int64 `gorm:"primaryKey"`
	EndpointID    string
	EventID       string
	StudyID       string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	RetryFrom     time.Time
	LeaseUntil    sql.NullTime
	LeaseOwner    sql.NullString
	CreatedAt     time.Time
	DeliveredAt   sql.NullTime
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

// attemptRow mirrors webhook_attempts, the delivery log.
type attemptRow struct {
	ID         int64 `gorm:"primaryKey"`
	EndpointID string
	DeliveryID int64
	EventID    string
	EventType  string
	Attempt    int
	At         time.Time
	Status     sql.NullInt64
	LatencyMs  int64
	Error      sql.NullString
}

func (attemptRow) TableName() string { return "webhook_attempts" }

// The dispatcher's statements. The claimed table is aliased d where a
// statement locks the rows it claims (see skipLocked).
const (
	insertEventSQL = `INSERT INTO outbox_events (id, study_id, dyad_id, type, payload, created_at, fanned_out_at)
VALUES (?, ?, ?, ?, ?, ?, NULL)`
	pendingEventsSQL = `SELECT d.id, d.study_id, d.type FROM outbox_events d WHERE d.fanned_out_at IS NULL
ORDER BY d.id LIMIT ? ` + skipLocked
	// fanOutEventSQL makes one delivery of an event per endpoint of its
	// study subscribed to its type (events is a comma-separated list).
	fanOutEventSQL = `INSERT INTO webhook_deliveries (endpoint_id, event_id, study_id, state, attempts, next_attempt_at, retry_from,
	lease_until, lease_owner, created_at, delivered_at)
SELECT e.id, ?, e.study_id, 'pending', 0, ?, ?, NULL, NULL, ?, NULL FROM webhook_endpoints e
WHERE e.study_id = ? AND (',' || e.events || ',') LIKE ?`
	markFannedOutSQL = `UPDATE outbox_events SET fanned_out_at = ? WHERE id = ?`
	// claimDeliveriesSQL leases due deliveries of enabled endpoints; the
	// outer condition re-checks the lease of a row another instance
	// claimed while this statement waited.
	claimDeliveriesSQL = `UPDATE webhook_deliveries SET lease_until = ?, lease_owner = ?
WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
	WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?) AND e.disabled_at IS NULL
	ORDER BY d.next_attempt_at, d.id LIMIT ? ` + skipLocked + `)
AND (lease_until IS NULL OR lease_until < ?)
RETURNING id`
	deliveryDoneSQL = `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?,
	lease_until = NULL, lease_owner = NULL
WHERE id = ? AND lease_owner = ?`
	deliveryRetrySQL = `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?,
	lease_until = NULL, lease_owner = NULL
WHERE id = ? AND lease_owner = ?`
	insertAttemptSQL = `INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, event_type, attempt, at, status, latency_ms, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	pruneAttemptsSQL = `DELETE FROM webhook_attempts WHERE endpoint_id = ? AND id < (SELECT MIN(id) FROM
	(SELECT id FROM webhook_attempts WHERE endpoint_id = ? ORDER BY id DESC LIMIT 100) recent)`
	endpointSucceededSQL = `UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?`
	endpointFailedSQL    = `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = ?`
	disableEndpointSQL   = `UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL`
)

func eventArgs(e alliance.OutboxEvent) []any {
	return []any{e.ID, e.StudyID, nullString(e.DyadID), e.Type, string(e.Data), e.CreatedAt}
}

// FanOutEvents turns up to limit events not fanned out yet into
// deliveries, one per subscribed endpoint of their study, in one
// transaction; on PostgreSQL concurrent dispatchers skip each other's
// events.
func (s *Store) FanOutEvents(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.write(ctx, nil, func(tx *writeTx) error {
		type pending struct{ id, study, typ string }
		var evs []pending
		err := tx.query(s.sql.pendingEvents, func(rows *sql.Rows) error {
			var p pending
			if err := rows.Scan(&p.id, &p.study, &p.typ); err != nil {
				return err
			}
			evs = append(evs, p)
			return nil
		}, limit)
		if err != nil {
			return err
		}
		n = len(evs)
		for _, e := range evs {
			if err := tx.exec(s.sql.fanOutEvent, e.id, now, now, now, e.study, "%,"+e.typ+",%"); err != nil {
				return err
			}
			if err := tx.exec(s.sql.markFannedOut, now, e.id); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// ClaimDeliveries leases up to limit due deliveries to owner until
// until and returns them with their events and endpoints.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]alliance.Delivery, error) {
	var ids []int64
	err := s.write(ctx, nil, func(tx *writeTx) error {
		ids = ids[:0]
		return tx.query(s.sql.claimDeliveries, func(rows *sql.Rows) error {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		}, until, owner, now, now, limit, now)
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var rows []deliveryRow
	if err := db.Where("id IN ? AND lease_owner = ?", ids, owner).Order("next_attempt_at, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Delivery, 0, len(rows))
	for _, r := range rows {
		var ev eventRow
		var ep webhookRow
		if err := db.Take(&ev, "id = ?", r.EventID).Error; err != nil {
			return nil, translate(err)
		}
		if err := db.Take(&ep, "id = ?", r.EndpointID).Error; err != nil {
			return nil, translate(err)
		}
		out = append(out, alliance.Delivery{ID: r.ID, Endpoint: ep.toDomain(), Event: ev.toDomain(), Attempts: r.Attempts,
			RetryFrom: r.RetryFrom.UTC()})
	}
	return out, nil
}

func (r eventRow) toDomain() alliance.OutboxEvent {
	return alliance.OutboxEvent{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID.String, Type: r.Type, Data: []byte(r.Payload),
		CreatedAt: r.CreatedAt.UTC()}
}

// FinishDelivery records one attempt: the delivery's new state, the
// endpoint's failure count (and, on giving up, its disabling) and a line
// of its delivery log, of which the last 100 stay. Nothing is
// recorded if owner no longer holds the lease (another dispatcher took
// the delivery over after it expired).
func (s *Store) FinishDelivery(ctx context.Context, o alliance.DeliveryOutcome) error {
	d := o.Delivery
	return s.write(ctx, nil, func(tx *writeTx) error {
		var held bool
		var err error
		switch {
		case o.Delivered:
			held, err = tx.update(s.sql.deliveryDone, o.At, d.ID, o.Owner)
		case o.GiveUp:
			held, err = tx.update(s.sql.deliveryRetry, "failed", o.At, d.ID, o.Owner)
		default:
			held, err = tx.update(s.sql.deliveryRetry, "pending", o.NextAttemptAt, d.ID, o.Owner)
		}
		if err != nil || !held {
			return err
		}
		status := sql.NullInt64{Int64: int64(o.Status), Valid: o.Status != 0}
		if err := tx.exec(s.sql.insertAttempt, d.Endpoint.ID, d.ID, d.Event.ID, d.Event.Type, d.Attempts+1, o.At, status,
			o.Latency.Milliseconds(), nullString(o.Error)); err != nil {
			return err
		}
		if err := tx.exec(s.sql.pruneAttempts, d.Endpoint.ID, d.Endpoint.ID); err != nil {
			return err
		}
		if o.Delivered {
			return tx.exec(s.sql.endpointSucceeded, d.Endpoint.ID)
		}
		if err := tx.exec(s.sql.endpointFailed, d.Endpoint.ID); err != nil {
			return err
		}
		if o.GiveUp {
			return tx.exec(s.sql.disableEndpoint, o.At, o.DisableReason, d.Endpoint.ID)
		}
		return nil
	})
}
