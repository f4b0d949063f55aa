package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// keyRow mirrors api_keys: a key's hash, never its secret.
type keyRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Scopes    string
	StudyID   sql.NullString
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	RevokedAt sql.NullTime
}

func (keyRow) TableName() string { return "api_keys" }

const (
	insertKeySQL = `INSERT INTO api_keys (id, name, scopes, study_id, hash, created_at, created_by, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`
	revokeKeySQL = `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`
)

func (r keyRow) toDomain() alliance.Key {
	k := alliance.Key{ID: r.ID, Name: r.Name, StudyID: r.StudyID.String, Hash: r.Hash,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
	for _, s := range strings.Split(r.Scopes, ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, alliance.Scope(s))
		}
	}
	if r.RevokedAt.Valid {
		t := r.RevokedAt.Time.UTC()
		k.RevokedAt = &t
	}
	return k
}

// CreateKey stores a new API key (its hash) with its audit entry.
func (s *Store) CreateKey(ctx context.Context, k alliance.Key, audit ...alliance.AuditEntry) error {
	scopes := make([]string, len(k.Scopes))
	for i, sc := range k.Scopes {
		scopes[i] = string(sc)
	}
	return s.write(ctx, audit, op{st: s.sql.insertKey, args: []any{k.ID, k.Name, strings.Join(scopes, ","), nullString(k.StudyID), k.Hash, k.CreatedAt, k.CreatedBy}})
}

// FindKeyByID returns one key or ErrNotFound.
func (s *Store) FindKeyByID(ctx context.Context, id string) (alliance.Key, error) {
	var row keyRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Key{}, translate(err)
	}
	return row.toDomain(), nil
}

// FindKeys lists keys by id; studyID "" lists every key.
func (s *Store) FindKeys(ctx context.Context, studyID string, p alliance.Page) ([]alliance.Key, error) {
	q := page(s.db.WithContext(ctx), p)
	if studyID != "" {
		q = q.Where("study_id = ?", studyID)
	}
	var rows []keyRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Key, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// CountKeys counts keys, revoked ones included.
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&keyRow{}).Count(&n).Error
	return int(n), translate(err)
}

// RevokeKey marks a key revoked; revoking twice keeps the first time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.revokeKey, args: []any{at, id}, none: fmt.Errorf("key %s: %w", id, alliance.ErrNotFound)})
}
