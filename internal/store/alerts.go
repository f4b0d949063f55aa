package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	// RepairedBy is, on a rupture, its unresolved repair (migration 00012).
	RepairedBy sql.NullString
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
	// insertAlertSQL raises a finding once while it is unresolved: the key
	// of an unresolved alert is skipped (migration 00014).
	insertAlertSQL = `INSERT INTO alerts (id, study_id, dyad_id, kind, role, session, dedup_key, rating_id, rating_ids, episode_id,
	figures, created_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolved_reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)
ON CONFLICT (dedup_key) WHERE resolved_at IS NULL DO NOTHING`
	// insertAlertEventSQL publishes an alert's event only if the alert
	// is there: its id is new, so it is there only if insertAlertSQL just
	// raised it.
	insertAlertEventSQL = `INSERT INTO outbox_events (id, study_id, dyad_id, type, payload, created_at, fanned_out_at)
SELECT ?, ?, ?, ?, ?, ?, NULL WHERE EXISTS (SELECT 1 FROM alerts WHERE id = ?)`
	resolveAlertSQL = `UPDATE alerts SET resolved_at = ?, resolved_by = ?, resolved_reason = ? WHERE id = ? AND resolved_at IS NULL`
	// markRepairedSQL marks a rupture repaired by a repair just raised,
	// only if it was (its key may have been raised before).
	markRepairedSQL = `UPDATE alerts SET repaired_by = ? WHERE id = ? AND EXISTS (SELECT 1 FROM alerts r WHERE r.id = ?)`
	// reopenRuptureSQL clears the mark of the repair being resolved.
	reopenRuptureSQL    = `UPDATE alerts SET repaired_by = NULL WHERE id = ? AND repaired_by = ?`
	acknowledgeAlertSQL = `UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?
WHERE id = ? AND acknowledged_at IS NULL AND resolved_at IS NULL`
)

// The forms of n rows of resolveAlertSQL, insertAlertEventSQL and
// markRepairedSQL, on PostgreSQL (see batchAlertOps): head, one row's
// tuple (the single statement's arguments, in order), tail. Each does for
// every row what the single statement does for one.
const (
	resolveAlertsHead = `UPDATE alerts AS a SET resolved_at = v.at, resolved_by = v.by, resolved_reason = v.reason FROM (VALUES `
	resolveAlertsRow  = `(?::timestamptz, ?::text, ?::text, ?::text)`
	resolveAlertsTail = `) AS v (at, by, reason, id) WHERE a.id = v.id AND a.resolved_at IS NULL`

	insertAlertEventsHead = `INSERT INTO outbox_events (id, study_id, dyad_id, type, payload, created_at, fanned_out_at)
SELECT v.id, v.study_id, v.dyad_id, v.type, v.payload, v.created_at, NULL FROM (VALUES `
	insertAlertEventsRow  = `(?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamptz, ?::text)`
	insertAlertEventsTail = `) AS v (id, study_id, dyad_id, type, payload, created_at, alert)
WHERE EXISTS (SELECT 1 FROM alerts WHERE alerts.id = v.alert)`

	markRepairedManyHead = `UPDATE alerts AS a SET repaired_by = v.repair FROM (VALUES `
	markRepairedManyRow  = `(?::text, ?::text, ?::text)`
	markRepairedManyTail = `) AS v (repair, id, raised) WHERE a.id = v.id AND EXISTS (SELECT 1 FROM alerts r WHERE r.id = v.raised)`
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
	f, err := decodeFigures(r.ID, r.Figures)
	if err != nil {
		return alliance.Alert{}, err
	}
	a := alliance.Alert{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID, Kind: alliance.AlertKind(r.Kind), Role: alliance.Role(r.Role.String),
		Session: r.Session, Key: r.DedupKey, RatingID: r.RatingID, RatingIDs: strings.Split(r.RatingIDs, ","),
		EpisodeID: r.EpisodeID.String, Figures: f, CreatedAt: r.CreatedAt.UTC(),
		AcknowledgedAt: timePtr(r.AcknowledgedAt), AcknowledgedBy: r.AcknowledgedBy.String,
		ResolvedAt: timePtr(r.ResolvedAt), ResolvedBy: r.ResolvedBy.String, ResolvedReason: r.ResolvedReason.String}
	return a, nil
}

// decodeFigures decodes the figures column of alert id.
func decodeFigures(id, figures string) (alliance.AlertFigures, error) {
	var sf storedFigures
	if err := json.Unmarshal([]byte(figures), &sf); err != nil {
		return alliance.AlertFigures{}, fmt.Errorf("decode figures of alert %s: %w", id, err)
	}
	f := alliance.AlertFigures{Metric: sf.Metric, Client: sf.Client, Counsellor: sf.Counsellor, Difference: sf.Difference,
		Band: sf.Band, Direction: sf.Direction, PreviousSession: sf.PreviousSession, Previous: sf.Previous, Current: sf.Current,
		Change: sf.Change, RCI: sf.RCI, SDiff: sf.SDiff, Threshold: sf.Threshold, Z: sf.Z, RuptureSession: sf.RuptureSession,
		Rupture: sf.Rupture, Sum: sf.Sum, Cutoff: sf.Cutoff, CutoffSource: sf.CutoffSource}
	if sf.Reliability != nil {
		f.Reliability = alliance.ReliabilityUsed(*sf.Reliability)
	}
	return f, nil
}

// alertChanges are the alert changes of one or more rating writes, to run
// in their transaction after the ratings and their audit entries: a row
// of arguments per change, by kind, in the order they are made:
//
//   - each resolution, of an alert still unresolved; a repair's also
//     reopens its rupture;
//   - each alert raised, skipped if its key was raised before (resolved
//     or not);
//   - its event, inserted only if the alert was: the INSERT of the event
//     selects from the alert, so whether it publishes is decided in SQL,
//     in the transaction, not by code reading a result;
//   - a raised repair marks its rupture repaired, under the same
//     condition.
//
// Within one write this order is all its rules need: an event or a mark
// finds the alert raised before it, and the other changes touch
// different rows or commute. Writes of different dyads never touch each
// other's alerts, so a batch of them can make each kind's changes at once.
type alertChanges struct {
	resolve, reopen, raise, event, repaired [][]any
}

// add appends the changes of fx, one write's.
func (c *alertChanges) add(fx *alliance.AlertEffects) error {
	if fx == nil {
		return nil
	}
	for _, r := range fx.Resolve {
		c.resolve = append(c.resolve, []any{r.At, r.By, r.Reason, r.ID})
		if r.Reopens != "" {
			c.reopen = append(c.reopen, []any{r.Reopens, r.ID})
		}
		if r.Event != nil {
			c.event = append(c.event, append(eventArgs(*r.Event), r.ID))
		}
	}
	for _, ra := range fx.Raise {
		row, err := toAlertRow(ra.Alert)
		if err != nil {
			return err
		}
		c.raise = append(c.raise, row.args())
		if ra.Event != nil {
			c.event = append(c.event, append(eventArgs(*ra.Event), ra.Alert.ID))
		}
		if ra.Alert.Kind == alliance.AlertRepair {
			c.repaired = append(c.repaired, []any{ra.Alert.ID, ra.Alert.EpisodeID, ra.Alert.ID})
		}
	}
	return nil
}

// ops are the statements that make c: a statement per change, or, with
// merge (a PostgreSQL batch), each kind's changes in one statement of as
// many rows where the kind has that form.
func (c alertChanges) ops(sq *statements, merge bool) []op {
	var ops []op
	for _, k := range []struct {
		st   *statement
		rows [][]any
	}{
		{sq.resolveAlert, c.resolve}, {sq.reopenRupture, c.reopen}, {sq.insertAlert, c.raise},
		{sq.insertAlertEvent, c.event}, {sq.markRepaired, c.repaired},
	} {
		if merge && len(k.rows) > 1 && k.st.tuple != "" {
			ops = append(ops, op{st: k.st, args: slices.Concat(k.rows...), rows: len(k.rows)})
			continue
		}
		for _, args := range k.rows {
			ops = append(ops, op{st: k.st, args: args})
		}
	}
	return ops
}

// alertLockSQL takes a dyad's alert lock on PostgreSQL, before its alerts
// are read: FOR NO KEY UPDATE, which conflicts with itself and with
// updates of the dyad (a consent withdrawal, an erasure) but not with the
// key-share locks that inserting a dyad's ratings takes. A batch sends one
// per dyad, in id order (two batches that share dyads lock them in the
// same order, so neither waits for the other while holding what it
// needs). One statement with an array of the batch's dyads did the same,
// but PostgreSQL planned it again on every call (its generic plan of an
// array of unknown length never looked cheaper), which cost more than
// running it. SQLite needs none: its one writer runs one transaction at a
// time.
const alertLockSQL = `SELECT 1 FROM dyads WHERE id = ? FOR NO KEY UPDATE`

// alertContextSQL is the first read of alert evaluation, in the rating
// write's transaction: a first row with the dyad's study's alert
// thresholds (read here, never from a cache: they are the one part of a
// study that changes); then the current ratings the write bears on, over
// the partial index of current ratings (dyad, session, role): the
// session's, and the role's nearest earlier one with a scored total among
// its PreviousWindow previous rated sessions (earlierSQL). Of each rating
// it takes what the rules use, its total's mean and sum (the columns that
// repeat them, not the scores document).
//
// The role's later ratings are alertLaterSQL's. Kept out of this
// statement, its conditions are all equalities or bounded by a LIMIT, so
// that PostgreSQL's generic plan of it costs about what a custom one does
// and is the one it keeps; an open range of sessions made it plan the
// statement again on every execution, which cost three times what running
// it did.
const alertContextSQL = `SELECT NULL, NULL, NULL, NULL, NULL, s.alert_divergence_band, s.alert_rupture_z, s.alert_low_cutoff
FROM dyads d JOIN studies s ON s.id = d.study_id WHERE d.id = ?
UNION ALL
SELECT id, session, role, total_mean, total_sum, NULL, NULL, NULL FROM ratings
WHERE dyad_id = ? AND superseded_at IS NULL AND session = ?
UNION ALL
SELECT id, session, role, total_mean, total_sum, NULL, NULL, NULL FROM ratings WHERE id = (` + earlierSQL + `)`

// earlierSQL is the id of the role's nearest earlier current rating with
// a scored total, among its PreviousWindow previous rated sessions
// (arguments: dyad, session, role, PreviousWindow): the rating a rupture
// compares with.
const earlierSQL = `SELECT id FROM (
	SELECT id, session, total_mean FROM ratings
	WHERE dyad_id = ? AND superseded_at IS NULL AND session < ? AND role = ? ORDER BY session DESC LIMIT ?) rated
	WHERE rated.total_mean IS NOT NULL ORDER BY session DESC LIMIT 1`

// alertLaterSQL reads the role's current ratings of sessions after the
// written one, as alertContextSQL reads the others.
const alertLaterSQL = `SELECT id, session, role, total_mean, total_sum FROM ratings
WHERE dyad_id = ? AND superseded_at IS NULL AND session > ? AND role = ?`

// activeAlertsSQL reads the unresolved alerts a write can bear on, not
// all of a dyad's: a dyad's unresolved alerts only grow (an alert stays
// until an amendment or a void resolves it), and reading them all made
// every rating write slower the longer the dyad was followed. A write at
// session s with context ratings from session m on (the session of the
// rater's nearest earlier scored rating, earlierSQL, else s) can only:
//
//   - resolve an alert that names one of its ratings, or a rupture at the
//     rater's next session: every such alert is at a session ≥ m;
//   - repeat a finding of its context (divergence, rupture, repair, low
//     alliance), whose alert is at a session ≥ m;
//   - repair an open rupture of its rater, at any session: a rupture with
//     no unresolved repair in its episode, which the rupture's
//     repaired_by says (alertChanges keeps it: set when a repair is raised,
//     cleared when the repair is resolved);
//   - move or drop the repair of an earlier rupture of its rater: a repair
//     it resolves (amended, voided, or a session rated late between the
//     rupture and it that is back itself, or the rupture of its rater's
//     next session resolved), which is at a session ≥ s, after which the
//     rupture's next repair is looked for at once, from the rupture's
//     figures.
//
// The first two are the alerts at sessions ≥ m, the third the open
// ruptures before m, the last the ruptures of the rater's repairs at
// sessions ≥ s (for a write after the rater's last session, none); the
// rules see every alert they use. A rupture at a session ≥ m comes from
// the first part and the last; the scan keeps it once. Partial indexes
// on the unresolved alerts serve each part (migration 00009). m is
// computed here, so that the statement can be sent with the others,
// before any of their results is back (pipeline.go). Of each alert it
// reads what the rules use: not its dates or study, and the figures of a
// rupture only (a repair is computed from them). The ruptures already
// repaired, which only grow, are not in the partial index of open ruptures
// (migration 00012), so they cost this read nothing.
const activeAlertsSQL = `SELECT a.id, a.kind, a.role, a.session, a.dedup_key, a.rating_ids, a.episode_id,
	CASE WHEN a.kind = 'rupture' THEN a.figures END
FROM alerts a
WHERE a.dyad_id = ? AND a.resolved_at IS NULL AND a.session >= ` + earliestSQL + `
UNION ALL
SELECT a.id, a.kind, a.role, a.session, a.dedup_key, a.rating_ids, a.episode_id, a.figures
FROM alerts a
WHERE a.dyad_id = ? AND a.resolved_at IS NULL AND a.kind = 'rupture' AND a.role = ? AND a.session < ` + earliestSQL + `
	AND a.repaired_by IS NULL
UNION ALL
SELECT a.id, a.kind, a.role, a.session, a.dedup_key, a.rating_ids, a.episode_id, a.figures
FROM alerts r JOIN alerts a ON a.id = r.episode_id
WHERE r.dyad_id = ? AND r.resolved_at IS NULL AND r.session >= ? AND r.kind = 'repair' AND r.role = ? AND a.resolved_at IS NULL`

// earliestSQL is m of activeAlertsSQL (arguments: dyad, session, role,
// PreviousWindow, session): the session of the rater's nearest earlier
// scored rating, else the written session. A scalar subquery in each
// branch, computed once per execution by both databases, rather than a
// CTE joined to the alerts: with statistics (ANALYZE) SQLite joined that
// one in an order that took 8 ms instead of 40 µs.
const earliestSQL = `(SELECT COALESCE((SELECT session FROM ratings WHERE id = (` + earlierSQL + `)), ?))`

// alertStep is a rating write's alert evaluation, which the write runs
// in its transaction, before its own statements (see
// alliance.Store.WriteRating).
type alertStep struct {
	dyadID  string
	session int
	role    alliance.Role
	rules   func(alliance.AlertContext) *alliance.AlertEffects
}

// alertReads are the reads of an alertStep, in order: its context, its
// role's later ratings and the unresolved alerts it can bear on, each
// with what adds its rows to the context.
func (s *Store) alertReads(a *alertStep) [3]read {
	d, n, r := a.dyadID, a.session, string(a.role)
	return [3]read{
		{s.sql.alertContext, []any{d, d, n, d, n, r, alliance.PreviousWindow}, func(ac *alliance.AlertContext, rows rowScanner) error {
			return scanAlertContext(ac, d, rows, false)
		}},
		{s.sql.alertLater, []any{d, n, r}, func(ac *alliance.AlertContext, rows rowScanner) error {
			return scanAlertContext(ac, d, rows, true)
		}},
		{s.sql.activeAlerts, []any{d, d, n, r, alliance.PreviousWindow, n, d, r, d, n, r, alliance.PreviousWindow, n, d, n, r},
			scanActiveAlerts},
	}
}

// read is one statement of the write path that returns rows, its
// arguments, and what takes in its rows.
type read struct {
	st   *statement
	args []any
	scan func(*alliance.AlertContext, rowScanner) error
}

// rowScanner is what alert evaluation reads its rows through: database/sql's
// rows on SQLite, pgx's on PostgreSQL.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanAlertContext adds to ac the rows of alertContextSQL (first) and
// alertLaterSQL; ErrNotFound if the dyad is not there.
func scanAlertContext(ac *alliance.AlertContext, dyadID string, rows rowScanner, later bool) error {
	found := later
	for rows.Next() {
		var (
			id, role                sql.NullString
			sess                    sql.NullInt64
			mean, sum, band, z, cut sql.NullFloat64
		)
		dest := []any{&id, &sess, &role, &mean, &sum, &band, &z, &cut}
		if later {
			dest = dest[:5]
		}
		if err := rows.Scan(dest...); err != nil {
			return translate(err)
		}
		if !id.Valid { // the dyad's own row
			found = true
			ac.Thresholds = alliance.AlertThresholds{DivergenceBand: band.Float64, RuptureZ: z.Float64}
			if cut.Valid {
				c := cut.Float64
				ac.Thresholds.LowAllianceCutoff = &c
			}
			continue
		}
		ac.Ratings = append(ac.Ratings, contextRating(dyadID, id.String, sess.Int64, role.String, mean, sum))
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	if !found {
		return fmt.Errorf("dyad %s: %w", dyadID, alliance.ErrNotFound)
	}
	return nil
}

// contextRating is a rating as alert evaluation reads it: its total only.
func contextRating(dyadID, id string, session int64, role string, mean, sum sql.NullFloat64) alliance.Rating {
	r := alliance.Rating{ID: id, DyadID: dyadID, Session: int(session), Role: alliance.Role(role)}
	if mean.Valid {
		r.Scores.Total.Mean = &mean.Float64
	}
	if sum.Valid {
		r.Scores.Total.Sum = &sum.Float64
	}
	return r
}

// scanActiveAlerts adds to ac the rows of activeAlertsSQL, in id order
// (sorted here: a handful of rows, where an ORDER BY made SQLite merge
// the two branches through temporary b-trees).
func scanActiveAlerts(ac *alliance.AlertContext, rows rowScanner) error {
	for rows.Next() {
		var (
			a                      alliance.Alert
			role, episode, figures sql.NullString
			ratingIDs              string
		)
		if err := rows.Scan(&a.ID, &a.Kind, &role, &a.Session, &a.Key, &ratingIDs, &episode, &figures); err != nil {
			return translate(err)
		}
		a.Role, a.RatingIDs, a.EpisodeID = alliance.Role(role.String), strings.Split(ratingIDs, ","), episode.String
		if figures.Valid {
			f, err := decodeFigures(a.ID, figures.String)
			if err != nil {
				return err
			}
			a.Figures = f
		}
		ac.Active = append(ac.Active, a)
	}
	slices.SortFunc(ac.Active, func(a, b alliance.Alert) int { return strings.Compare(a.ID, b.ID) })
	ac.Active = slices.CompactFunc(ac.Active, func(a, b alliance.Alert) bool { return a.ID == b.ID })
	return translate(rows.Err())
}

// evaluateOn runs a's reads on tx, the SQLite writer's transaction, and
// returns the ops of the alert changes a's rules compute from them.
func (s *Store) evaluateOn(ctx context.Context, tx *sql.Tx, a *alertStep) ([]op, error) {
	var ac alliance.AlertContext
	for _, rd := range s.alertReads(a) {
		var rows *sql.Rows
		var err error
		if p := rd.st.prepared(); p != nil {
			rows, err = tx.StmtContext(ctx, p).QueryContext(ctx, rd.args...)
		} else {
			rows, err = tx.QueryContext(ctx, rd.st.text, rd.args...)
		}
		if err != nil {
			return nil, translate(err)
		}
		err = rd.scan(&ac, rows)
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = translate(cerr)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.effectOps(a, ac)
}

// effectOps calls a's rules with ac and returns the ops of the alert
// changes they compute (see effects), a statement per change.
func (s *Store) effectOps(a *alertStep, ac alliance.AlertContext) ([]op, error) {
	var c alertChanges
	if err := s.addEffects(&c, a, ac); err != nil {
		return nil, err
	}
	return c.ops(s.sql, false), nil
}

// addEffects calls a's rules with ac (see effects) and adds the changes
// they compute to c.
func (s *Store) addEffects(c *alertChanges, a *alertStep, ac alliance.AlertContext) error {
	fx, err := s.effects(a, ac)
	if err != nil {
		return err
	}
	return c.add(fx)
}

// effects calls a's rules with ac. The rules run in the writer's
// goroutine, where a panic would take down every write in flight and the
// process: it fails this write alone (its message, which could hold a
// value, is not kept).
func (s *Store) effects(a *alertStep, ac alliance.AlertContext) (fx *alliance.AlertEffects, err error) {
	defer func() {
		if recover() != nil {
			fx, err = nil, errRulesPanicked
		}
	}()
	return a.rules(ac), nil
}

// errRulesPanicked is a rating write's error when its alert rules
// panicked.
var errRulesPanicked = errors.New("alert evaluation failed")

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
	return s.write(ctx, audit, op{st: s.sql.acknowledgeAlert, args: []any{at, by, id},
		none: fmt.Errorf("alert %s is acknowledged or resolved: %w", id, alliance.ErrConflict)})
}

// UpdateAlertThresholds stores a study's alert thresholds: the one change
// a study row ever takes. Caches of studies forget it (rowcache), and the
// rating path reads thresholds from the database with the dyad's alert
// revision (FindAlertContext), never from a cached study.
func (s *Store) UpdateAlertThresholds(ctx context.Context, studyID string, th alliance.AlertThresholds, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.updateAlertThresholds,
		args: []any{th.DivergenceBand, th.RuptureZ, nullFloat(th.LowAllianceCutoff), studyID},
		none: fmt.Errorf("study %s: %w", studyID, alliance.ErrNotFound)})
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}
