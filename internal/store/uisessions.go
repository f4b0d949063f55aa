package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// uiSessionRow mirrors ui_sessions: a dashboard session's hash, never its
// token.
type uiSessionRow struct {
	ID        string `gorm:"primaryKey"`
	KeyID     string
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	EndedAt   sql.NullTime
}

func (uiSessionRow) TableName() string { return "ui_sessions" }

const (
	insertUISessionSQL = `INSERT INTO ui_sessions (id, key_id, hash, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, NULL)`
	endUISessionSQL    = `UPDATE ui_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`
)

func (r uiSessionRow) toDomain() alliance.UISession {
	us := alliance.UISession{ID: r.ID, KeyID: r.KeyID, Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.EndedAt.Valid {
		t := r.EndedAt.Time.UTC()
		us.EndedAt = &t
	}
	return us
}

// CreateUISession stores a new dashboard session (its hash) with its
// audit entry.
func (s *Store) CreateUISession(ctx context.Context, us alliance.UISession, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.insertUISession, args: []any{us.ID, us.KeyID, us.Hash, us.CreatedAt, us.ExpiresAt}})
}

// FindUISessionByID returns one dashboard session or ErrNotFound.
func (s *Store) FindUISessionByID(ctx context.Context, id string) (alliance.UISession, error) {
	var row uiSessionRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.UISession{}, translate(err)
	}
	return row.toDomain(), nil
}

// EndUISession marks a session ended; a missing or already ended session
// is ErrNotFound.
func (s *Store) EndUISession(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.endUISession, args: []any{at, id},
		none: fmt.Errorf("dashboard session %s: %w", id, alliance.ErrNotFound)})
}
