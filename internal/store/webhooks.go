package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// webhookRow mirrors webhook_endpoints. The secrets are sealed (see
// auth.SecretBox); events is a comma-separated list.
type webhookRow struct {
	ID                  string `gorm:"primaryKey"`
	StudyID             string
	URL                 string `gorm:"column:url"`
	Events              string
	IncludeAnswers      int
	Secret              string
	PreviousSecret      sql.NullString
	PreviousExpiresAt   sql.NullTime
	CreatedAt           time.Time
	CreatedBy           string
	DisabledAt          sql.NullTime
	DisabledReason      sql.NullString
	ConsecutiveFailures int
}

func (webhookRow) TableName() string { return "webhook_endpoints" }

const (
	insertWebhookSQL = `INSERT INTO webhook_endpoints (id, study_id, url, events, include_answers, secret, previous_secret,
	previous_expires_at, created_at, created_by, disabled_at, disabled_reason, consecutive_failures)
VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, 0)`
	updateWebhookSQL = `UPDATE webhook_endpoints SET url = ?, events = ?, include_answers = ?, secret = ?, previous_secret = ?,
	previous_expires_at = ?, disabled_at = ?, disabled_reason = ?, consecutive_failures = ?
WHERE id = ?`
	// requeueDeliveriesSQL retries an endpoint's waiting and failed
	// deliveries now, with a new retry window.
	requeueDeliveriesSQL = `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, retry_from = ?,
	lease_until = NULL, lease_owner = NULL
WHERE endpoint_id = ? AND state IN ('pending', 'failed')`
	// replayEventsSQL queues a study's events of the given types (a
	// comma-separated list) stored since a time for one endpoint again.
	replayEventsSQL = `INSERT INTO webhook_deliveries (endpoint_id, event_id, study_id, state, attempts, next_attempt_at, retry_from,
	lease_until, lease_owner, created_at, delivered_at)
SELECT ?, d.id, d.study_id, 'pending', 0, ?, ?, NULL, NULL, ?, NULL FROM outbox_events d
WHERE d.study_id = ? AND d.created_at >= ? AND (',' || ? || ',') LIKE ('%,' || d.type || ',%')`
	deleteWebhookAttemptsSQL   = `DELETE FROM webhook_attempts WHERE endpoint_id = ?`
	deleteWebhookDeliveriesSQL = `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`
	deleteWebhookSQL           = `DELETE FROM webhook_endpoints WHERE id = ?`
)

func (r webhookRow) toDomain() alliance.WebhookEndpoint {
	w := alliance.WebhookEndpoint{ID: r.ID, StudyID: r.StudyID, URL: r.URL, Events: strings.Split(r.Events, ","),
		IncludeAnswers: r.IncludeAnswers != 0, Secret: r.Secret, PreviousSecret: r.PreviousSecret.String,
		PreviousExpiresAt: timePtr(r.PreviousExpiresAt), CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy,
		DisabledAt: timePtr(r.DisabledAt), DisabledReason: r.DisabledReason.String, ConsecutiveFailures: r.ConsecutiveFailures}
	return w
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

// CreateWebhook stores an endpoint (its sealed secret) with its audit entry.
func (s *Store) CreateWebhook(ctx context.Context, w alliance.WebhookEndpoint, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.insertWebhook, args: []any{w.ID, w.StudyID, w.URL, strings.Join(w.Events, ","),
		boolInt(w.IncludeAnswers), w.Secret, w.CreatedAt, w.CreatedBy}})
}

// FindWebhookByID returns one endpoint or ErrNotFound.
func (s *Store) FindWebhookByID(ctx context.Context, id string) (alliance.WebhookEndpoint, error) {
	var row webhookRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.WebhookEndpoint{}, translate(err)
	}
	return row.toDomain(), nil
}

// FindWebhooks lists a study's endpoints in creation order.
func (s *Store) FindWebhooks(ctx context.Context, studyID string) ([]alliance.WebhookEndpoint, error) {
	var rows []webhookRow
	if err := s.db.WithContext(ctx).Where("study_id = ?", studyID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// UpdateWebhook stores an endpoint's settings and state; with requeue its
// waiting and failed deliveries are retried now.
func (s *Store) UpdateWebhook(ctx context.Context, w alliance.WebhookEndpoint, requeue bool, audit ...alliance.AuditEntry) error {
	ops := []op{{st: s.sql.updateWebhook, args: []any{w.URL, strings.Join(w.Events, ","), boolInt(w.IncludeAnswers), w.Secret,
		nullString(w.PreviousSecret), nullTime(w.PreviousExpiresAt), nullTime(w.DisabledAt), nullString(w.DisabledReason),
		w.ConsecutiveFailures, w.ID},
		none: fmt.Errorf("webhook %s: %w", w.ID, alliance.ErrNotFound)}}
	if requeue {
		now := time.Now().UTC().Truncate(time.Microsecond)
		ops = append(ops, op{st: s.sql.requeueDeliveries, args: []any{now, now, w.ID}})
	}
	return s.write(ctx, audit, ops...)
}

// DeleteWebhook deletes an endpoint with its deliveries and delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, id string, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit,
		op{st: s.sql.deleteWebhookAttempts, args: []any{id}},
		op{st: s.sql.deleteWebhookDeliveries, args: []any{id}},
		op{st: s.sql.deleteWebhook, args: []any{id}, none: fmt.Errorf("webhook %s: %w", id, alliance.ErrNotFound)})
}

// FindWebhookAttempts returns an endpoint's last attempts, newest first.
func (s *Store) FindWebhookAttempts(ctx context.Context, endpointID string, limit int) ([]alliance.DeliveryAttempt, error) {
	var rows []attemptRow
	if err := s.db.WithContext(ctx).Where("endpoint_id = ?", endpointID).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.DeliveryAttempt, len(rows))
	for i, r := range rows {
		out[i] = alliance.DeliveryAttempt{ID: r.ID, DeliveryID: r.DeliveryID, EventID: r.EventID, EventType: r.EventType,
			Attempt: r.Attempt, At: r.At.UTC(), Status: int(r.Status.Int64), Latency: time.Duration(r.LatencyMs) * time.Millisecond,
			Error: r.Error.String}
	}
	return out, nil
}

// ReplayEvents queues the study's events of the endpoint's types stored
// at or after since for delivery to it again.
func (s *Store) ReplayEvents(ctx context.Context, w alliance.WebhookEndpoint, since, now time.Time, audit ...alliance.AuditEntry) (int, error) {
	var n int64
	err := s.write(ctx, audit, op{st: s.sql.replayEvents, args: []any{w.ID, now, now, now, w.StudyID, since, strings.Join(w.Events, ",")},
		count: &n})
	return int(n), err
}
