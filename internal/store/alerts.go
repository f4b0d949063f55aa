package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// alertRow mirrors the alerts table. Figures hold JSON (storedFigures).
type alertRow struct {
	ID             string `gorm:"primaryKey"`
	StudyID        string
	DyadID         string
	Kind           string
	Role           sql.NullString
	Session        int
	DedupKey       string
	RatingID       string
	RatingIDs      string `gorm:"column:rating_ids"`
	EpisodeID      sql.NullString
	Figures        string
	CreatedAt      time.Time
	AcknowledgedAt sql.NullTime
	AcknowledgedBy sql.NullString
	ResolvedAt     sql.NullTime
	ResolvedBy     sql.NullString
	ResolvedReason sql.NullString
}

func (alertRow) TableName() string { return "alerts" }

// storedFigures is the persisted shape of an alert's figures, owned by
// the store so a renamed Go field never changes what old rows mean.
type storedFigures struct {
	Metric          string             `json:"metric"`
	Client          float64            `json:"client,omitempty"`
	Counsellor      float64            `json:"counsellor,omitempty"`
	Difference      float64            `json:"difference,omitempty"`
	Band            float64            `json:"band,omitempty"`
	Direction       string             `json:"direction,omitempty"`
	PreviousSession int                `json:"previous_session,omitempty"`
	Previous        float64            `json:"previous,omitempty"`
	Current         float64            `json:"current,omitempty"`
	Change          float64            `json:"change,omitempty"`
	RCI             float64            `json:"rci,omitempty"`
	SDiff           float64            `json:"s_diff,omitempty"`
	Threshold       float64            `json:"threshold,omitempty"`
	Z               float64            `json:"z,omitempty"`
	Reliability     *storedReliability `json:"reliability,omitempty"`
	RuptureSession  int                `json:"rupture_session,omitempty"`
	Rupture         float64            `json:"rupture,omitempty"`
	Sum             float64            `json:"sum,omitempty"`
	Cutoff          float64            `json:"cutoff,omitempty"`
	CutoffSource    string             `json:"cutoff_source,omitempty"`
}

type storedReliability struct {
	Alpha    float64 `json:"alpha"`
	SD       float64 `json:"sd"`
	Source   string  `json:"source"`
	N        int     `json:"n,omitempty"`
	Citation string  `json:"citation,omitempty"`
}

const (
	updateAlertThresholdsSQL = `UPDATE studies SET alert_divergence_band = ?, alert_rupture_z = ?, alert_low_cutoff = ? WHERE id = ?`
	// bumpAlertRevSQL is the optimistic lock of alert evaluation: it
	// matches only while the dyad is at the revision the alerts were
	// computed from.
	bumpAlertRevSQL = `UPDATE dyads SET alert_rev = alert_rev + 1 WHERE id = ? AND alert_rev = ?`
	// insertAlertSQL raises a finding once: a key raised before (resolved
	// or not) is skipped.
	insertAlertSQL = `INSERT INTO alerts (id, study_id, dyad_id, kind, role, session, dedup_key, rating_id, rating_ids, episode_id,
	figures, created_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolved_reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)
ON CONFLICT (dedup_key) DO NOTHING`
	resolveAlertSQL     = `UPDATE alerts SET resolved_at = ?, resolved_by = ?, resolved_reason = ? WHERE id = ? AND resolved_at IS NULL`
	acknowledgeAlertSQL = `UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?
WHERE id = ? AND acknowledged_at IS NULL AND resolved_at IS NULL`
)

func toAlertRow(a alliance.Alert) (alertRow, error) {
	f := a.Figures
	sf := storedFigures{Metric: f.Metric, Client: f.Client, Counsellor: f.Counsellor, Difference: f.Difference, Band: f.Band,
		Direction: f.Direction, PreviousSession: f.PreviousSession, Previous: f.Previous, Current: f.Current, Change: f.Change,
		RCI: f.RCI, SDiff: f.SDiff, Threshold: f.Threshold, Z: f.Z, RuptureSession: f.RuptureSession, Rupture: f.Rupture,
		Sum: f.Sum, Cutoff: f.Cutoff, CutoffSource: f.CutoffSource}
	if f.Reliability.Source != "" {
		r := storedReliability(f.Reliability)
		sf.Reliability = &r
	}
	b, err := json.Marshal(sf)
	if err != nil {
		return alertRow{}, fmt.Errorf("encode alert figures: %w", err)
	}
	return alertRow{ID: a.ID, StudyID: a.StudyID, DyadID: a.DyadID, Kind: string(a.Kind), Role: nullString(string(a.Role)),
		Session: a.Session, DedupKey: a.Key, RatingID: a.RatingID, RatingIDs: strings.Join(a.RatingIDs, ","),
		EpisodeID: nullString(a.EpisodeID), Figures: string(b), CreatedAt: a.CreatedAt}, nil
}

func (r alertRow) args() []any {
	return []any{r.ID, r.StudyID, r.DyadID, r.Kind, r.Role, r.Session, r.DedupKey, r.RatingID, r.RatingIDs, r.EpisodeID,
		r.Figures, r.CreatedAt}
}

func (r alertRow) toDomain() (alliance.Alert, error) {
	var sf storedFigures
	if err := json.Unmarshal([]byte(r.Figures), &sf); err != nil {
		return alliance.Alert{}, fmt.Errorf("decode figures of alert %s: %w", r.ID, err)
	}
	f := alliance.AlertFigures{Metric: sf.Metric, Client: sf.Client, Counsellor: sf.Counsellor, Difference: sf.Difference,
		Band: sf.Band, Direction: sf.Direction, PreviousSession: sf.PreviousSession, Previous: sf.Previous, Current: sf.Current,
		Change: sf.Change, RCI: sf.RCI, SDiff: sf.SDiff, Threshold: sf.Threshold, Z: sf.Z, RuptureSession: sf.RuptureSession,
		Rupture: sf.Rupture, Sum: sf.Sum, Cutoff: sf.Cutoff, CutoffSource: sf.CutoffSource}
	if sf.Reliability != nil {
		f.Reliability = alliance.ReliabilityUsed(*sf.Reliability)
	}
	a := alliance.Alert{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID, Kind: alliance.AlertKind(r.Kind), Role: alliance.Role(r.Role.String),
		Session: r.Session, Key: r.DedupKey, RatingID: r.RatingID, RatingIDs: strings.Split(r.RatingIDs, ","),
		EpisodeID: r.EpisodeID.String, Figures: f, CreatedAt: r.CreatedAt.UTC(),
		AcknowledgedAt: timePtr(r.AcknowledgedAt), AcknowledgedBy: r.AcknowledgedBy.String,
		ResolvedAt: timePtr(r.ResolvedAt), ResolvedBy: r.ResolvedBy.String, ResolvedReason: r.ResolvedReason.String}
	return a, nil
}

// alertSteps are the alert changes of a rating write, run in its
// transaction after the rating's own statements.
func (s *Store) alertSteps(tx *writeTx, dyadID string, fx *alliance.AlertEffects) error {
	if fx == nil {
		return nil
	}
	current, err := tx.update(s.sql.bumpAlertRev, dyadID, fx.Rev)
	if err != nil {
		return err
	}
	if !current {
		return alliance.ErrDyadChanged
	}
	for _, r := range fx.Resolve {
		if _, err := tx.update(s.sql.resolveAlert, r.At, r.By, r.Reason, r.ID); err != nil {
			return err
		}
	}
	for _, ra := range fx.Raise {
		row, err := toAlertRow(ra.Alert)
		if err != nil {
			return err
		}
		inserted, err := tx.update(s.sql.insertAlert, row.args()...)
		if err != nil {
			return err
		}
		if inserted && ra.Event != nil {
			if err := tx.exec(s.sql.insertEvent, eventArgs(*ra.Event)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// FindAlertContext reads a dyad's alert revision, then its current
// ratings and unresolved alerts. A write between the reads advances the
// revision, so the alerts computed from them are refused and computed
// again.
func (s *Store) FindAlertContext(ctx context.Context, dyadID string) (alliance.AlertContext, error) {
	var out alliance.AlertContext
	db := s.db.WithContext(ctx)
	if err := db.Raw(`SELECT alert_rev FROM dyads WHERE id = ?`, dyadID).Row().Scan(&out.Rev); err != nil {
		return out, translate(err)
	}
	var err error
	if out.Ratings, err = s.FindRatings(ctx, dyadID, 0); err != nil {
		return out, err
	}
	var rows []alertRow
	if err := db.Where("dyad_id = ? AND resolved_at IS NULL", dyadID).Order("id").Find(&rows).Error; err != nil {
		return out, translate(err)
	}
	for _, r := range rows {
		a, err := r.toDomain()
		if err != nil {
			return out, err
		}
		out.Active = append(out.Active, a)
	}
	return out, nil
}

// FindAlerts lists alerts in id order, with their dyads' codes.
func (s *Store) FindAlerts(ctx context.Context, f alliance.AlertFilter) ([]alliance.Alert, error) {
	db := s.db.WithContext(ctx)
	q := db.Model(&alertRow{})
	if f.StudyID != "" {
		q = q.Where("study_id = ?", f.StudyID)
	}
	if f.DyadID != "" {
		q = q.Where("dyad_id = ?", f.DyadID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", string(f.Kind))
	}
	switch f.State {
	case alliance.AlertOpen:
		q = q.Where("resolved_at IS NULL AND acknowledged_at IS NULL")
	case alliance.AlertAcknowledged:
		q = q.Where("resolved_at IS NULL AND acknowledged_at IS NOT NULL")
	case alliance.AlertResolved:
		q = q.Where("resolved_at IS NOT NULL")
	}
	if f.Since != nil {
		q = q.Where("created_at >= ?", *f.Since)
	}
	var rows []alertRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	// The page's dyads, for their codes.
	var ids []string
	for _, r := range rows {
		if !slices.Contains(ids, r.DyadID) {
			ids = append(ids, r.DyadID)
		}
	}
	codes := map[string]dyadRow{}
	if len(ids) > 0 {
		var ds []dyadRow
		if err := db.Where("id IN ?", ids).Find(&ds).Error; err != nil {
			return nil, translate(err)
		}
		for _, d := range ds {
			codes[d.ID] = d
		}
	}
	out := make([]alliance.Alert, len(rows))
	for i, r := range rows {
		a, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		a.ClientCode, a.CounsellorCode = codes[r.DyadID].ClientCode, codes[r.DyadID].CounsellorCode
		out[i] = a
	}
	return out, nil
}

// FindAlertByID returns one alert with its dyad's codes.
func (s *Store) FindAlertByID(ctx context.Context, id string) (alliance.Alert, error) {
	var row alertRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Alert{}, translate(err)
	}
	a, err := row.toDomain()
	if err != nil {
		return a, err
	}
	d, err := s.FindDyadByID(ctx, a.DyadID)
	if err != nil {
		return a, err
	}
	a.ClientCode, a.CounsellorCode = d.ClientCode, d.CounsellorCode
	return a, nil
}

// AcknowledgeAlert marks an alert seen; ErrConflict when it was
// acknowledged or resolved meanwhile.
func (s *Store) AcknowledgeAlert(ctx context.Context, id string, at time.Time, by string, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, func(tx *writeTx) error {
		done, err := tx.update(s.sql.acknowledgeAlert, at, by, id)
		if err == nil && !done {
			err = fmt.Errorf("alert %s is acknowledged or resolved: %w", id, alliance.ErrConflict)
		}
		return err
	})
}

// UpdateAlertThresholds stores a study's alert thresholds.
func (s *Store) UpdateAlertThresholds(ctx context.Context, studyID string, th alliance.AlertThresholds, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, func(tx *writeTx) error {
		found, err := tx.update(s.sql.updateAlertThresholds, th.DivergenceBand, th.RuptureZ, nullFloat(th.LowAllianceCutoff), studyID)
		if err == nil && !found {
			err = fmt.Errorf("study %s: %w", studyID, alliance.ErrNotFound)
		}
		return err
	})
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}
