package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// auditRow mirrors audit_log, which triggers keep append-only.
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
	DyadID     sql.NullString
	RedactedAt sql.NullTime
}

func (auditRow) TableName() string { return "audit_log" }

// insertAuditSQL appends one entry; the database numbers it.
const insertAuditSQL = `INSERT INTO audit_log (at, actor, action, resource, resource_id, study_id, before, after, dyad_id, redacted_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`

func auditArgs(e alliance.AuditEntry) []any {
	return []any{e.At, e.Actor, e.Action, e.Resource, e.ResourceID, nullString(e.StudyID), nullString(e.Before), nullString(e.After),
		nullString(e.DyadID)}
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
			ResourceID: r.ResourceID, StudyID: r.StudyID.String, DyadID: r.DyadID.String, Before: r.Before.String, After: r.After.String,
			RedactedAt: timePtr(r.RedactedAt)}
	}
	return out, nil
}
