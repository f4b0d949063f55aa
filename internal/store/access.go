package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
)

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

func (r keyRow) toDomain() alliance.Key {
	k := alliance.Key{ID: r.ID, Name: r.Name, StudyID: r.StudyID.String, Hash: r.Hash,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
	for _, s := range strings.Split(r.Scopes, ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, auth.Scope(s))
		}
	}
	if r.RevokedAt.Valid {
		t := r.RevokedAt.Time.UTC()
		k.RevokedAt = &t
	}
	return k
}

type invitationRow struct {
	ID        string `gorm:"primaryKey"`
	StudyID   string
	DyadID    string
	Session   int
	Role      string
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	ExpiresAt time.Time
	UsedAt    sql.NullTime
	RatingID  sql.NullString
}

func (invitationRow) TableName() string { return "invitations" }

func (r invitationRow) toDomain() alliance.Invitation {
	inv := alliance.Invitation{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID, Session: r.Session,
		Role: alliance.Role(r.Role), Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy,
		ExpiresAt: r.ExpiresAt.UTC(), RatingID: r.RatingID.String}
	if r.UsedAt.Valid {
		t := r.UsedAt.Time.UTC()
		inv.UsedAt = &t
	}
	return inv
}

type auditRow struct {
	ID         int64 `gorm:"primaryKey"`
	At         time.Time
	Actor      string
	Action     string
	Resource   string
	ResourceID string
	StudyID    sql.NullString
	Before     sql.NullString
	After      sql.NullString
}

func (auditRow) TableName() string { return "audit_log" }

// auditRows maps audit entries to rows.
func auditRows(entries []alliance.AuditEntry) []auditRow {
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		rows[i] = auditRow{At: e.At, Actor: e.Actor, Action: e.Action, Resource: e.Resource, ResourceID: e.ResourceID,
			StudyID: nullString(e.StudyID), Before: nullString(e.Before), After: nullString(e.After)}
	}
	return rows
}

// inTx runs fn and appends the audit entries in one transaction. Every
// write of the store goes through it: on SQLite through the group
// committer (which appends the audit entries of a whole batch at once), on
// PostgreSQL in a transaction of its own.
func (s *Store) inTx(ctx context.Context, audit []alliance.AuditEntry, fn func(tx *gorm.DB) error) error {
	rows := auditRows(audit)
	var err error
	if s.committer != nil {
		err = s.committer.do(ctx, fn, rows)
	} else {
		// translate again: an error raised at COMMIT (a deferred constraint,
		// a lost connection) comes from Transaction itself, not from fn.
		err = translate(s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := fn(tx); err != nil || len(rows) == 0 {
				return err
			}
			return translate(tx.Create(&rows).Error)
		}))
	}
	s.writes.record(err)
	return err
}

// CreateKey stores a new API key (its hash) with its audit entry.
func (s *Store) CreateKey(ctx context.Context, k alliance.Key, audit ...alliance.AuditEntry) error {
	scopes := make([]string, len(k.Scopes))
	for i, sc := range k.Scopes {
		scopes[i] = string(sc)
	}
	row := keyRow{ID: k.ID, Name: k.Name, Scopes: strings.Join(scopes, ","), StudyID: nullString(k.StudyID),
		Hash: k.Hash, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy}
	return s.inTx(ctx, audit, func(tx *gorm.DB) error { return translate(tx.Create(&row).Error) })
}

// FindKeyByID returns one key or ErrNotFound. A key read in the last
// KeyCacheTTL comes from the cache.
func (s *Store) FindKeyByID(ctx context.Context, id string) (alliance.Key, error) {
	if k, ok := s.cache.keys.get(id); ok {
		return k, nil
	}
	var row keyRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Key{}, translate(err)
	}
	k := row.toDomain()
	s.cache.keys.add(k.ID, k)
	return k, nil
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
	// Forgotten before and after the write: a read racing the revocation
	// cannot leave the unrevoked key in the cache.
	s.cache.keys.remove(id)
	defer s.cache.keys.remove(id)
	return s.inTx(ctx, audit, func(tx *gorm.DB) error {
		res := tx.Model(&keyRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", at)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("key %s: %w", id, alliance.ErrNotFound)
		}
		return nil
	})
}

// CreateInvitation stores a survey link (its hash) with its audit entry.
func (s *Store) CreateInvitation(ctx context.Context, inv alliance.Invitation, audit ...alliance.AuditEntry) error {
	row := invitationRow{ID: inv.ID, StudyID: inv.StudyID, DyadID: inv.DyadID, Session: inv.Session, Role: string(inv.Role),
		Hash: inv.Hash, CreatedAt: inv.CreatedAt, CreatedBy: inv.CreatedBy, ExpiresAt: inv.ExpiresAt}
	return s.inTx(ctx, audit, func(tx *gorm.DB) error { return translate(tx.Create(&row).Error) })
}

// FindInvitationByID returns one invitation or ErrNotFound.
func (s *Store) FindInvitationByID(ctx context.Context, id string) (alliance.Invitation, error) {
	var row invitationRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Invitation{}, translate(err)
	}
	return row.toDomain(), nil
}

// CreateInvitedRating uses the invitation up and inserts the rating in one
// transaction. The conditional update is the single-use guard: of two
// concurrent submissions only one finds the invitation unused.
func (s *Store) CreateInvitedRating(ctx context.Context, invID string, now time.Time, r alliance.Rating, audit ...alliance.AuditEntry) error {
	row, err := toRatingRow(r)
	if err != nil {
		return err
	}
	return s.inTx(ctx, audit, func(tx *gorm.DB) error {
		res := tx.Model(&invitationRow{}).
			Where("id = ? AND used_at IS NULL AND expires_at > ?", invID, now).
			Updates(map[string]any{"used_at": now, "rating_id": r.ID})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected != 1 {
			return alliance.ErrGone
		}
		return translate(tx.Create(&row).Error)
	})
}

// FindAudit reads the audit log in id order after f.AfterID.
func (s *Store) FindAudit(ctx context.Context, f alliance.AuditFilter) ([]alliance.AuditEntry, error) {
	q := s.db.WithContext(ctx).Where("id > ?", f.AfterID)
	for col, v := range map[string]string{"study_id": f.StudyID, "actor": f.Actor, "action": f.Action, "resource_id": f.ResourceID} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if f.Since != nil {
		q = q.Where("at >= ?", *f.Since)
	}
	var rows []auditRow
	if err := q.Order("id").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = alliance.AuditEntry{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Resource: r.Resource,
			ResourceID: r.ResourceID, StudyID: r.StudyID.String, Before: r.Before.String, After: r.After.String}
	}
	return out, nil
}
