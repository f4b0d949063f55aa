package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
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
	// fanOutEventsSQL (SQLite) makes one delivery per endpoint of its
	// study subscribed to its type (events is a comma-separated list) of
	// each of the first events not fanned out yet; markFannedOutSQL then
	// marks the same events, in the same transaction of the one writer.
	fanOutEventsSQL = `INSERT INTO webhook_deliveries (endpoint_id, event_id, study_id, state, attempts, next_attempt_at, retry_from,
	lease_until, lease_owner, created_at, delivered_at)
SELECT e.id, v.id, e.study_id, 'pending', 0, ?, ?, NULL, NULL, ?, NULL
FROM (SELECT id, study_id, type FROM outbox_events WHERE fanned_out_at IS NULL ORDER BY id LIMIT ?) v
JOIN webhook_endpoints e ON e.study_id = v.study_id AND (',' || e.events || ',') LIKE ('%,' || v.type || ',%')`
	markFannedOutSQL = `UPDATE outbox_events SET fanned_out_at = ?
WHERE id IN (SELECT id FROM outbox_events WHERE fanned_out_at IS NULL ORDER BY id LIMIT ?)`
	// fanOutEventsPostgresSQL is both in one statement, on PostgreSQL:
	// the events it takes are locked until it commits and skipped by
	// other instances' fan-outs, and an event committed meanwhile cannot
	// be marked without its deliveries.
	fanOutEventsPostgresSQL = `WITH v AS (SELECT d.id, d.study_id, d.type FROM outbox_events d WHERE d.fanned_out_at IS NULL
	ORDER BY d.id LIMIT ? ` + skipLocked + `),
fan AS (INSERT INTO webhook_deliveries (endpoint_id, event_id, study_id, state, attempts, next_attempt_at, retry_from,
	lease_until, lease_owner, created_at, delivered_at)
	SELECT e.id, v.id, e.study_id, 'pending', 0, ?, ?, NULL, NULL, ?, NULL
	FROM v JOIN webhook_endpoints e ON e.study_id = v.study_id AND (',' || e.events || ',') LIKE ('%,' || v.type || ',%'))
UPDATE outbox_events SET fanned_out_at = ? WHERE id IN (SELECT id FROM v)`
	// claimDeliveriesSQL leases due deliveries of enabled endpoints but
	// those skipped (a comma-separated list of endpoint ids, matched as
	// the events of an endpoint are); the outer condition re-checks the
	// lease of a row another instance claimed while this statement waited.
	claimDeliveriesSQL = `UPDATE webhook_deliveries SET lease_until = ?, lease_owner = ?
WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
	WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?) AND e.disabled_at IS NULL
	AND (',' || ? || ',') NOT LIKE ('%,' || d.endpoint_id || ',%')
	ORDER BY d.next_attempt_at, d.id LIMIT ? ` + skipLocked + `)
AND (lease_until IS NULL OR lease_until < ?)`
	// releaseDeliverySQL gives a claimed delivery back, unattempted.
	releaseDeliverySQL = `UPDATE webhook_deliveries SET lease_until = NULL, lease_owner = NULL WHERE id = ? AND lease_owner = ?`
	deliveryDoneSQL    = `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?,
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
// transaction (see writeApart); on PostgreSQL concurrent dispatchers skip
// each other's events.
func (s *Store) FanOutEvents(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int64
	var ops []op
	if s.sql.markFannedOut == nil { // PostgreSQL: one statement
		ops = []op{{st: s.sql.fanOutEvents, args: []any{limit, now, now, now, now}, count: &n}}
	} else {
		ops = []op{{st: s.sql.fanOutEvents, args: []any{now, now, now, limit}},
			{st: s.sql.markFannedOut, args: []any{now, limit}, count: &n}}
	}
	err := s.writeApart(ctx, ops...)
	return int(n), err
}

// ClaimDeliveries leases up to limit due deliveries of the endpoints not
// in skip to owner until until (one UPDATE; see writeApart) and returns
// them with their events and
// endpoints: the rows that owner leases until until, which no other
// claim names (until is this claim's own time, owner this dispatcher's).
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int, skip []string) ([]alliance.Delivery, error) {
	var n int64
	err := s.writeApart(ctx, op{st: s.sql.claimDeliveries, args: []any{until, owner, now, now, strings.Join(skip, ","), limit, now}, count: &n})
	if err != nil || n == 0 {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var rows []deliveryRow
	if err := db.Where("lease_owner = ? AND lease_until = ?", owner, until).Order("next_attempt_at, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	var eventIDs, endpointIDs []string
	for _, r := range rows {
		eventIDs = append(eventIDs, r.EventID)
		if !slices.Contains(endpointIDs, r.EndpointID) {
			endpointIDs = append(endpointIDs, r.EndpointID)
		}
	}
	events := map[string]alliance.OutboxEvent{}
	endpoints := map[string]alliance.WebhookEndpoint{}
	if len(rows) > 0 {
		var evs []eventRow
		if err := db.Where("id IN ?", eventIDs).Find(&evs).Error; err != nil {
			return nil, translate(err)
		}
		for _, e := range evs {
			events[e.ID] = e.toDomain()
		}
		var eps []webhookRow
		if err := db.Where("id IN ?", endpointIDs).Find(&eps).Error; err != nil {
			return nil, translate(err)
		}
		for _, e := range eps {
			endpoints[e.ID] = e.toDomain()
		}
	}
	out := make([]alliance.Delivery, 0, len(rows))
	for _, r := range rows {
		ev, ok := events[r.EventID]
		ep, ok2 := endpoints[r.EndpointID]
		if !ok || !ok2 { // erased meanwhile
			continue
		}
		out = append(out, alliance.Delivery{ID: r.ID, Endpoint: ep, Event: ev, Attempts: r.Attempts, RetryFrom: r.RetryFrom.UTC()})
	}
	return out, nil
}

func (r eventRow) toDomain() alliance.OutboxEvent {
	return alliance.OutboxEvent{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID.String, Type: r.Type, Data: []byte(r.Payload),
		CreatedAt: r.CreatedAt.UTC()}
}

// ReleaseDeliveries gives deliveries owner claimed back unattempted, due
// as they were, in one transaction (none for no ids).
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ops := make([]op, len(ids))
	for i, id := range ids {
		ops[i] = op{st: s.sql.releaseDelivery, args: []any{id, owner}}
	}
	return s.writeApart(ctx, ops...)
}

// errLeaseLost fails FinishDelivery's ops when owner no longer holds the
// lease: nothing of them is stored, and FinishDelivery reports no error.
var errLeaseLost = errors.New("the delivery's lease was lost")

// FinishDelivery records one attempt: the delivery's new state, the
// endpoint's failure count (and, on giving up, its disabling) and a line
// of its delivery log, of which the last 100 stay; in one transaction
// (see writeApart). Nothing is recorded if owner no longer holds the
// lease (another dispatcher took the delivery over after it expired):
// the first statement then matches no row and the others do not run.
func (s *Store) FinishDelivery(ctx context.Context, o alliance.DeliveryOutcome) error {
	d := o.Delivery
	held := op{none: errLeaseLost}
	switch {
	case o.Delivered:
		held.st, held.args = s.sql.deliveryDone, []any{o.At, d.ID, o.Owner}
	case o.GiveUp:
		held.st, held.args = s.sql.deliveryRetry, []any{"failed", o.At, d.ID, o.Owner}
	default:
		held.st, held.args = s.sql.deliveryRetry, []any{"pending", o.NextAttemptAt, d.ID, o.Owner}
	}
	status := sql.NullInt64{Int64: int64(o.Status), Valid: o.Status != 0}
	ops := []op{held,
		{st: s.sql.insertAttempt, args: []any{d.Endpoint.ID, d.ID, d.Event.ID, d.Event.Type, d.Attempts + 1, o.At, status,
			o.Latency.Milliseconds(), nullString(o.Error)}},
		{st: s.sql.pruneAttempts, args: []any{d.Endpoint.ID, d.Endpoint.ID}},
	}
	switch {
	case o.Delivered:
		ops = append(ops, op{st: s.sql.endpointSucceeded, args: []any{d.Endpoint.ID}})
	case o.GiveUp:
		ops = append(ops, op{st: s.sql.endpointFailed, args: []any{d.Endpoint.ID}},
			op{st: s.sql.disableEndpoint, args: []any{o.At, o.DisableReason, d.Endpoint.ID}})
	default:
		ops = append(ops, op{st: s.sql.endpointFailed, args: []any{d.Endpoint.ID}})
	}
	err := s.writeApart(ctx, ops...)
	if errors.Is(err, errLeaseLost) {
		return nil
	}
	return err
}
