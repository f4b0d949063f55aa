package store

import (
	"context"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// instrumentRow mirrors instrument_definitions: one version of one family
// of forms defined at run time, as its canonical JSON. Rows are never
// changed or deleted (the database refuses both).
type instrumentRow struct {
	ID         string `gorm:"primaryKey"`
	Version    string `gorm:"primaryKey"`
	Definition string
	CreatedAt  time.Time
}

func (instrumentRow) TableName() string { return "instrument_definitions" }

const insertInstrumentSQL = `INSERT INTO instrument_definitions (id, version, definition, created_at)
VALUES (?, ?, ?, ?)`

func (r instrumentRow) toDomain() alliance.InstrumentDefinition {
	return alliance.InstrumentDefinition{ID: r.ID, Version: r.Version, Definition: []byte(r.Definition), CreatedAt: r.CreatedAt.UTC()}
}

// CreateInstrument stores a family definition with its audit entry; a
// stored id and version is ErrConflict.
func (s *Store) CreateInstrument(ctx context.Context, d alliance.InstrumentDefinition, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.insertInstrument, args: []any{d.ID, d.Version, string(d.Definition), d.CreatedAt}})
}

// FindInstruments returns every stored definition in the order they were
// defined (the latest version of a family last).
func (s *Store) FindInstruments(ctx context.Context) ([]alliance.InstrumentDefinition, error) {
	var rows []instrumentRow
	if err := s.db.WithContext(ctx).Order("created_at, id, version").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.InstrumentDefinition, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// CountInstruments counts the stored definitions: the one query an
// instance spends to learn whether another defined a family (see
// alliance.Service.FindForm).
func (s *Store) CountInstruments(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&instrumentRow{}).Count(&n).Error; err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
