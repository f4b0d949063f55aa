package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
)

// studyRow mirrors the studies table column for column; the schema
// parity test checks every field against the migrations.
type studyRow struct {
	ID                     string `gorm:"primaryKey"`
	Name                   string
	Description            string
	ClientForm             sql.NullString
	CounsellorForm         sql.NullString
	MaxMissingFraction     float64
	TotalRequiresSubscales bool
	CreatedAt              time.Time
	CodePattern            sql.NullString
	Language               sql.NullString
	// The alert thresholds: changed in place (UpdateAlertThresholds),
	// unlike the rest of the row.
	AlertDivergenceBand float64
	AlertRuptureZ       float64
	AlertLowCutoff      sql.NullFloat64
}

func (studyRow) TableName() string { return "studies" }

const insertStudySQL = `INSERT INTO studies (id, name, description, client_form, counsellor_form, max_missing_fraction,
	total_requires_subscales, created_at, code_pattern, language, alert_divergence_band, alert_rupture_z, alert_low_cutoff)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func toStudyRow(s alliance.Study) studyRow {
	return studyRow{
		ID:                     s.ID,
		Name:                   s.Name,
		Description:            s.Description,
		ClientForm:             nullString(s.Forms[alliance.RoleClient]),
		CounsellorForm:         nullString(s.Forms[alliance.RoleCounsellor]),
		MaxMissingFraction:     s.Policy.MaxMissingFraction,
		TotalRequiresSubscales: s.Policy.TotalRequiresSubscales,
		CreatedAt:              s.CreatedAt,
		CodePattern:            nullString(s.CodePattern),
		Language:               nullString(s.Language),
		AlertDivergenceBand:    s.Alerts.DivergenceBand,
		AlertRuptureZ:          s.Alerts.RuptureZ,
		AlertLowCutoff:         nullFloat(s.Alerts.LowAllianceCutoff),
	}
}

func (r studyRow) args() []any {
	return []any{r.ID, r.Name, r.Description, r.ClientForm, r.CounsellorForm, r.MaxMissingFraction, r.TotalRequiresSubscales, r.CreatedAt,
		r.CodePattern, r.Language, r.AlertDivergenceBand, r.AlertRuptureZ, r.AlertLowCutoff}
}

func (r studyRow) toDomain() alliance.Study {
	forms := map[alliance.Role]string{}
	if r.ClientForm.Valid {
		forms[alliance.RoleClient] = r.ClientForm.String
	}
	if r.CounsellorForm.Valid {
		forms[alliance.RoleCounsellor] = r.CounsellorForm.String
	}
	st := alliance.Study{
		ID:          r.ID,
		Name:        r.Name,
		Description: r.Description,
		Forms:       forms,
		Policy:      alliance.Policy{MaxMissingFraction: r.MaxMissingFraction, TotalRequiresSubscales: r.TotalRequiresSubscales},
		CodePattern: r.CodePattern.String,
		Language:    r.Language.String,
		CreatedAt:   r.CreatedAt.UTC(),
		Alerts:      alliance.AlertThresholds{DivergenceBand: r.AlertDivergenceBand, RuptureZ: r.AlertRuptureZ},
	}
	if r.AlertLowCutoff.Valid {
		c := r.AlertLowCutoff.Float64
		st.Alerts.LowAllianceCutoff = &c
	}
	return st
}

// CreateStudy inserts a study.
func (s *Store) CreateStudy(ctx context.Context, st alliance.Study, audit ...alliance.AuditEntry) error {
	row := toStudyRow(st)
	return s.write(ctx, audit, op{st: s.sql.insertStudy, args: row.args()})
}

// FindStudyByID returns one study or ErrNotFound.
func (s *Store) FindStudyByID(ctx context.Context, id string) (alliance.Study, error) {
	var row studyRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Study{}, translate(err)
	}
	return row.toDomain(), nil
}

// FindRatingTarget reads a dyad and its study; rowcache caches them.
func (s *Store) FindRatingTarget(ctx context.Context, dyadID string) (alliance.Dyad, alliance.Study, error) {
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return d, alliance.Study{}, err
	}
	st, err := s.FindStudyByID(ctx, d.StudyID)
	return d, st, err
}

// FindStudies returns one page of studies ordered by id (creation order).
func (s *Store) FindStudies(ctx context.Context, p alliance.Page) ([]alliance.Study, error) {
	var rows []studyRow
	if err := page(s.db.WithContext(ctx), p).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Study, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// page applies keyset pagination: ids are time-ordered, so "id > after"
// gives a stable order that inserts cannot shift.
func page(q *gorm.DB, p alliance.Page) *gorm.DB {
	if p.After != "" {
		q = q.Where("id > ?", p.After)
	}
	return q.Order("id").Limit(p.Limit)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
