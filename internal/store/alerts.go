package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	// insertAlertEventSQL publishes an alert's event only if the alert
	// is there: its id is new, so it is there only if insertAlertSQL just
	// raised it.
	insertAlertEventSQL = `INSERT INTO outbox_events (id, study_id, dyad_id, type, payload, created_at, fanned_out_at)
SELECT ?, ?, ?, ?, ?, ?, NULL WHERE EXISTS (SELECT 1 FROM alerts WHERE id = ?)`
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
		if err := tx.exec(s.sql.insertAlert, row.args()...); err != nil {
			return err
		}
		if ra.Event != nil {
			if err := tx.exec(s.sql.insertAlertEvent, append(eventArgs(*ra.Event), ra.Alert.ID)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// The reads of alert evaluation, on the write path: plain SQL over the
// partial index of current ratings (dyad, session, role), scores only, in
// two statements when the dyad has no unresolved alert (the usual case).
const (
	alertRevSQL = `SELECT d.alert_rev, EXISTS (SELECT 1 FROM alerts a WHERE a.dyad_id = d.id AND a.resolved_at IS NULL)
FROM dyads d WHERE d.id = ?`
	// alertRatingsSQL: the session's ratings and the role's later ones,
	// then the role's nearest earlier ones.
	alertRatingsSQL = `SELECT id, session, role, form_id, scores FROM ratings
WHERE dyad_id = ? AND superseded_at IS NULL AND session >= ? AND (session = ? OR role = ?)
UNION ALL
SELECT id, session, role, form_id, scores FROM (SELECT id, session, role, form_id, scores FROM ratings
	WHERE dyad_id = ? AND superseded_at IS NULL AND session < ? AND role = ? ORDER BY session DESC LIMIT ?) earlier`
	activeAlertsSQL = `SELECT id, study_id, dyad_id, kind, role, session, dedup_key, rating_id, rating_ids, episode_id, figures, created_at,
	acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolved_reason FROM alerts WHERE dyad_id = ? AND resolved_at IS NULL ORDER BY id`
)

// FindAlertContext reads a dyad's alert revision, then its unresolved
// alerts and the current ratings a write of role at session bears on (see
// alliance.AlertContext), with their scores but not their answers. A
// write between the reads advances the revision, so the alerts computed
// from them are refused and computed again.
func (s *Store) FindAlertContext(ctx context.Context, dyadID string, session int, role alliance.Role) (alliance.AlertContext, error) {
	out := alliance.AlertContext{}
	rev, ratings, err := s.alertReads.get(ctx, s)
	if err != nil {
		return out, err
	}
	var active bool
	if err := rev.QueryRowContext(ctx, dyadID).Scan(&out.Rev, &active); err != nil {
		return out, translate(err)
	}
	rows, err := ratings.QueryContext(ctx, dyadID, session, session, string(role),
		dyadID, session, string(role), alliance.PreviousWindow)
	if err != nil {
		return out, translate(err)
	}
	defer rows.Close()
	dec := new(scoreDecoder)
	for rows.Next() {
		r := alliance.Rating{DyadID: dyadID}
		var role, scores string
		if err := rows.Scan(&r.ID, &r.Session, &role, &r.FormID, &scores); err != nil {
			return out, translate(err)
		}
		r.Role = alliance.Role(role)
		if r.Scores, err = dec.decode([]byte(scores)); err != nil {
			return out, fmt.Errorf("decode scores of rating %s: %w", r.ID, err)
		}
		out.Ratings = append(out.Ratings, r)
	}
	if err := rows.Err(); err != nil || !active {
		return out, translate(err)
	}
	if out.Active, err = s.activeAlerts(ctx, dyadID); err != nil {
		return out, err
	}
	return out, nil
}

// alertReads are the two reads of every rating write, prepared once on
// the read pool (database/sql prepares them again on each connection that
// runs them, once).
type alertReads struct {
	mu           sync.Mutex
	rev, ratings *sql.Stmt
}

func (a *alertReads) get(ctx context.Context, s *Store) (rev, ratings *sql.Stmt, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rev == nil {
		if a.rev, err = s.sqlDB.PrepareContext(ctx, rebind(s.dialect, alertRevSQL)); err != nil {
			return nil, nil, translate(err)
		}
	}
	if a.ratings == nil {
		if a.ratings, err = s.sqlDB.PrepareContext(ctx, rebind(s.dialect, alertRatingsSQL)); err != nil {
			return nil, nil, translate(err)
		}
	}
	return a.rev, a.ratings, nil
}

func (a *alertReads) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range []*sql.Stmt{a.rev, a.ratings} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// activeAlerts reads a dyad's unresolved alerts.
func (s *Store) activeAlerts(ctx context.Context, dyadID string) ([]alliance.Alert, error) {
	rows, err := s.sqlDB.QueryContext(ctx, rebind(s.dialect, activeAlertsSQL), dyadID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []alliance.Alert
	for rows.Next() {
		var r alertRow
		if err := rows.Scan(&r.ID, &r.StudyID, &r.DyadID, &r.Kind, &r.Role, &r.Session, &r.DedupKey, &r.RatingID, &r.RatingIDs,
			&r.EpisodeID, &r.Figures, &r.CreatedAt, &r.AcknowledgedAt, &r.AcknowledgedBy, &r.ResolvedAt, &r.ResolvedBy,
			&r.ResolvedReason); err != nil {
			return nil, translate(err)
		}
		a, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, translate(rows.Err())
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
