package store

import (
	"context"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// dyadRow mirrors the dyads table.
type dyadRow struct {
	ID             string `gorm:"primaryKey"`
	StudyID        string
	ClientCode     string
	CounsellorCode string
	CreatedAt      time.Time
}

func (dyadRow) TableName() string { return "dyads" }

const insertDyadSQL = `INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES (?, ?, ?, ?, ?)`

func (r dyadRow) toDomain() alliance.Dyad {
	d := alliance.Dyad(r)
	d.CreatedAt = d.CreatedAt.UTC()
	return d
}

// CreateDyad inserts a dyad; a taken client code yields ErrConflict.
func (s *Store) CreateDyad(ctx context.Context, d alliance.Dyad, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, func(tx *writeTx) error {
		return tx.exec(s.sql.insertDyad, d.ID, d.StudyID, d.ClientCode, d.CounsellorCode, d.CreatedAt)
	})
}

// FindDyadByID returns one dyad or ErrNotFound.
func (s *Store) FindDyadByID(ctx context.Context, id string) (alliance.Dyad, error) {
	var row dyadRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Dyad{}, translate(err)
	}
	return row.toDomain(), nil
}

// FindDyads returns one page of a study's dyads ordered by id.
func (s *Store) FindDyads(ctx context.Context, f alliance.DyadFilter) ([]alliance.Dyad, error) {
	q := page(s.db.WithContext(ctx), f.Page).Where("study_id = ?", f.StudyID)
	if f.CounsellorCode != "" {
		q = q.Where("counsellor_code = ?", f.CounsellorCode)
	}
	var rows []dyadRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Dyad, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}
