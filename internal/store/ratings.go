package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"gorm.io/gorm"
)

// ratingRow mirrors the ratings table. Answers and Scores hold JSON (see
// codec.go). Every version of a rating is a row; the current one has no
// SupersededAt.
type ratingRow struct {
	ID                     string `gorm:"primaryKey"`
	StudyID                string
	DyadID                 string
	Session                int
	SessionDate            sql.NullString
	Role                   string
	FormID                 string
	Answers                string
	Scores                 string
	MaxMissingFraction     float64
	TotalRequiresSubscales bool
	ScoringVersion         string
	Version                int
	CreatedAt              time.Time
	SupersededAt           sql.NullTime
	VoidedAt               sql.NullTime
	VoidReason             sql.NullString
	// TotalMean and TotalSum repeat the total of Scores, for alert
	// evaluation's reads (migration 00011); NULL where it is not scored.
	TotalMean, TotalSum sql.NullFloat64
}

func (ratingRow) TableName() string { return "ratings" }

// idempotencyRow mirrors idempotency_keys: a committed keyed write.
type idempotencyRow struct {
	Key         string `gorm:"primaryKey"`
	Fingerprint string
	RatingID    string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

const (
	insertRatingSQL = `INSERT INTO ratings (id, study_id, dyad_id, session, session_date, role, form_id, answers, scores,
	max_missing_fraction, total_requires_subscales, scoring_version, version, created_at, superseded_at, voided_at, void_reason,
	total_mean, total_sum)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`
	insertIdempotencySQL = `INSERT INTO idempotency_keys (key, fingerprint, rating_id, created_at) VALUES (?, ?, ?, ?)`
	// supersedeSQL is the optimistic lock of an amendment: it matches only
	// while the version amended is still current.
	supersedeSQL = `UPDATE ratings SET superseded_at = ? WHERE id = ? AND superseded_at IS NULL`
	// voidRatingSQL takes a current version out of current data with no
	// successor, so its slot can be rated again.
	voidRatingSQL = `UPDATE ratings SET superseded_at = ?, voided_at = ?, void_reason = ? WHERE id = ? AND superseded_at IS NULL`
)

func toRatingRow(r alliance.Rating) (ratingRow, error) {
	answers, err := encodeAnswers(r.Answers)
	if err != nil {
		return ratingRow{}, err
	}
	scores, err := encodeScores(r.Scores)
	if err != nil {
		return ratingRow{}, err
	}
	row := ratingRow{
		ID:                     r.ID,
		StudyID:                r.StudyID,
		DyadID:                 r.DyadID,
		Session:                r.Session,
		Role:                   string(r.Role),
		FormID:                 r.FormID,
		Answers:                answers,
		Scores:                 scores,
		MaxMissingFraction:     r.Policy.MaxMissingFraction,
		TotalRequiresSubscales: r.Policy.TotalRequiresSubscales,
		ScoringVersion:         r.ScoringVersion,
		Version:                r.Version,
		CreatedAt:              r.CreatedAt,
		TotalMean:              nullFloat(r.Scores.Total.Mean),
		TotalSum:               nullFloat(r.Scores.Total.Sum),
	}
	if r.SessionDate != nil {
		row.SessionDate = nullString(r.SessionDate.String())
	}
	if r.SupersededAt != nil {
		row.SupersededAt = sql.NullTime{Time: *r.SupersededAt, Valid: true}
	}
	return row, nil
}

func (r ratingRow) args() []any {
	return []any{r.ID, r.StudyID, r.DyadID, r.Session, r.SessionDate, r.Role, r.FormID, r.Answers, r.Scores,
		r.MaxMissingFraction, r.TotalRequiresSubscales, r.ScoringVersion, r.Version, r.CreatedAt, r.SupersededAt, r.TotalMean, r.TotalSum}
}

func (r ratingRow) toDomain() (alliance.Rating, error) { return r.decode(new(scoreDecoder)) }

// decode is toDomain with a score decoder shared by the rows of one query
// (see scoreDecoder).
func (r ratingRow) decode(dec *scoreDecoder) (alliance.Rating, error) {
	out := alliance.Rating{
		ID:             r.ID,
		StudyID:        r.StudyID,
		DyadID:         r.DyadID,
		Session:        r.Session,
		Role:           alliance.Role(r.Role),
		FormID:         r.FormID,
		Policy:         alliance.Policy{MaxMissingFraction: r.MaxMissingFraction, TotalRequiresSubscales: r.TotalRequiresSubscales},
		ScoringVersion: r.ScoringVersion,
		Version:        r.Version,
		CreatedAt:      r.CreatedAt.UTC(),
	}
	var err error
	if out.Answers, err = decodeAnswers([]byte(r.Answers)); err != nil {
		return out, fmt.Errorf("decode answers of rating %s: %w", r.ID, err)
	}
	if out.Scores, err = dec.decode([]byte(r.Scores)); err != nil {
		return out, fmt.Errorf("decode scores of rating %s: %w", r.ID, err)
	}
	if r.SessionDate.Valid {
		d, err := alliance.ParseDate("session_date", r.SessionDate.String)
		if err != nil {
			return out, fmt.Errorf("decode session date of rating %s: %w", r.ID, err)
		}
		out.SessionDate = &d
	}
	out.SupersededAt, out.VoidedAt, out.VoidReason = timePtr(r.SupersededAt), timePtr(r.VoidedAt), r.VoidReason.String
	return out, nil
}

// timePtr is a nullable column's time in UTC, nil when NULL.
func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// CreateRating claims the idempotency key (if any), inserts the rating and
// appends its audit entries in one transaction.
func (s *Store) CreateRating(ctx context.Context, r alliance.Rating, idem *alliance.Idempotency, audit ...alliance.AuditEntry) error {
	return s.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingCreate, Rating: r, Idem: idem, Audit: audit})
}

// AmendRating supersedes prev and inserts r in one transaction. The
// conditional update is the optimistic lock: if prev is no longer current,
// nothing is written and ErrConflict is returned.
func (s *Store) AmendRating(ctx context.Context, prev, r alliance.Rating, idem *alliance.Idempotency, audit ...alliance.AuditEntry) error {
	return s.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingAmend, Rating: r, Prev: prev, Idem: idem, Audit: audit})
}

// WriteRating is every rating write (see alliance.Store), as one list of
// statements in one transaction: but for a void, what ratingOps makes of
// it around the write's own step (an amendment's supersede, a survey
// link's use, a void: each the optimistic lock of its row); its audit
// entries; and, when w.Alerts is set, its alertStep, which the writer
// runs in the transaction first and whose alert changes (alertChanges: the
// resolutions, the alerts raised and their events) come last.
func (s *Store) WriteRating(ctx context.Context, w alliance.RatingWrite) error {
	r := w.Rating
	var step op
	switch w.Op {
	case alliance.RatingCreate:
	case alliance.RatingAmend:
		step = op{st: s.sql.supersede, args: []any{r.CreatedAt, w.Prev.ID},
			none: fmt.Errorf("rating %s is no longer current: %w", w.Prev.ID, alliance.ErrConflict)}
	case alliance.RatingInvited:
		step = op{st: s.sql.useInvitation, args: []any{w.At, r.ID, w.InvitationID, w.At}, none: alliance.ErrGone}
	case alliance.RatingVoid:
		step = op{st: s.sql.voidRating, args: []any{w.At, w.At, w.VoidReason, r.ID},
			none: fmt.Errorf("rating %s is no longer current: %w", r.ID, alliance.ErrConflict)}
	default:
		return fmt.Errorf("rating write %d: no such operation", w.Op)
	}
	var ops []op
	if step.st != nil {
		ops = append(ops, step)
	}
	if w.Op != alliance.RatingVoid {
		var err error
		if ops, err = s.ratingOps(r, w.Idem, ops); err != nil {
			return err
		}
	}
	wr := write{ops: withAudit(s.sql, ops, w.Audit)}
	if w.Alerts != nil {
		wr.alerts = &alertStep{dyadID: r.DyadID, session: r.Session, role: r.Role, rules: w.Alerts}
	}
	return s.commit(ctx, wr)
}

// ratingOps are every rating write's but a void: claim the idempotency
// key (if any), run before (an amendment's supersede, a survey link's
// use) and insert the rating. The audit entries and the alert changes
// follow them.
//
// The key comes first: a key already present means another request
// committed it, which a retry must learn before anything else (a retried
// amendment finds its rating already superseded). The alert changes come
// last, so that the writes of a PostgreSQL batch share as long a run of
// the same INSERTs as they can (pipeline.go): they differ from write to
// write.
func (s *Store) ratingOps(r alliance.Rating, idem *alliance.Idempotency, before []op) ([]op, error) {
	row, err := toRatingRow(r)
	if err != nil {
		return nil, err
	}
	ops := make([]op, 0, len(before)+5)
	if idem != nil {
		ops = append(ops, op{st: s.sql.insertIdempotency, args: []any{idem.Key, idem.Fingerprint, r.ID, time.Now().UTC()},
			taken: alliance.ErrIdempotencyKeyTaken})
	}
	ops = append(ops, before...)
	return append(ops, op{st: s.sql.insertRating, args: row.args()}), nil
}

// FindRatingByID returns one version of a rating.
func (s *Store) FindRatingByID(ctx context.Context, id string) (alliance.Rating, error) {
	var row ratingRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Rating{}, translate(err)
	}
	return row.toDomain()
}

// FindRatings returns a dyad's current ratings, ordered by session and role.
func (s *Store) FindRatings(ctx context.Context, dyadID string) ([]alliance.Rating, error) {
	return s.findRatings(s.db.WithContext(ctx).Where("dyad_id = ? AND superseded_at IS NULL", dyadID))
}

// FindSessionRatings returns the current ratings of one session of a
// dyad, ordered by role.
func (s *Store) FindSessionRatings(ctx context.Context, dyadID string, session int) ([]alliance.Rating, error) {
	return s.findRatings(s.db.WithContext(ctx).Where("dyad_id = ? AND session = ? AND superseded_at IS NULL", dyadID, session))
}

func (s *Store) findRatings(q *gorm.DB) ([]alliance.Rating, error) {
	var rows []ratingRow
	if err := q.Order("session, role").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return ratingsOf(rows)
}

// FindRatingHistory returns every version of one rating, oldest first.
func (s *Store) FindRatingHistory(ctx context.Context, dyadID string, session int, role alliance.Role) ([]alliance.Rating, error) {
	var rows []ratingRow
	err := s.db.WithContext(ctx).
		Where("dyad_id = ? AND session = ? AND role = ?", dyadID, session, string(role)).
		Order("version").Find(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	return ratingsOf(rows)
}

func ratingsOf(rows []ratingRow) ([]alliance.Rating, error) {
	out := make([]alliance.Rating, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.toDomain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FindIdempotency returns a committed idempotency key or ErrNotFound.
func (s *Store) FindIdempotency(ctx context.Context, key string) (alliance.IdempotencyRecord, error) {
	var row idempotencyRow
	if err := s.db.WithContext(ctx).Take(&row, "key = ?", key).Error; err != nil {
		return alliance.IdempotencyRecord{}, translate(err)
	}
	return alliance.IdempotencyRecord{Key: row.Key, Fingerprint: row.Fingerprint, RatingID: row.RatingID}, nil
}

// VoidRating takes the current version id out of current data; ErrConflict
// when it is no longer current.
func (s *Store) VoidRating(ctx context.Context, id string, at time.Time, reason string, audit ...alliance.AuditEntry) error {
	return s.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingVoid, Rating: alliance.Rating{ID: id}, At: at, VoidReason: reason, Audit: audit})
}
