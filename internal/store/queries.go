package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
)

// CreateStudy inserts a study.
func (s *Store) CreateStudy(ctx context.Context, st alliance.Study, audit ...alliance.AuditEntry) error {
	row := toStudyRow(st)
	return s.inTx(ctx, audit, func(tx *gorm.DB) error { return translate(tx.Create(&row).Error) })
}

// FindStudyByID returns one study or ErrNotFound.
// Studies are immutable and served from the row cache once read.
func (s *Store) FindStudyByID(ctx context.Context, id string) (alliance.Study, error) {
	if st, ok := s.cache.studies.get(id); ok {
		return st, nil
	}
	var row studyRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Study{}, translate(err)
	}
	st := row.toDomain()
	s.cache.studies.add(st.ID, st)
	return st, nil
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

// CreateDyad inserts a dyad; a taken client code yields ErrConflict.
func (s *Store) CreateDyad(ctx context.Context, d alliance.Dyad, audit ...alliance.AuditEntry) error {
	row := toDyadRow(d)
	return s.inTx(ctx, audit, func(tx *gorm.DB) error { return translate(tx.Create(&row).Error) })
}

// FindDyadByID returns one dyad or ErrNotFound.
// Dyads are immutable and served from the row cache once read.
func (s *Store) FindDyadByID(ctx context.Context, id string) (alliance.Dyad, error) {
	if d, ok := s.cache.dyads.get(id); ok {
		return d, nil
	}
	var row dyadRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Dyad{}, translate(err)
	}
	d := row.toDomain()
	s.cache.dyads.add(id, d)
	return d, nil
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

// page applies keyset pagination: ids are time-ordered, so "id > after"
// gives a stable order that inserts cannot shift.
func page(q *gorm.DB, p alliance.Page) *gorm.DB {
	if p.After != "" {
		q = q.Where("id > ?", p.After)
	}
	return q.Order("id").Limit(p.Limit)
}

// CreateRating claims the idempotency key (if any), inserts the rating and
// appends its audit entries in one transaction.
func (s *Store) CreateRating(ctx context.Context, r alliance.Rating, idem *alliance.Idempotency, audit ...alliance.AuditEntry) error {
	ins, err := s.ratingInserts(r, idem)
	if err != nil {
		return err
	}
	return s.inTx(ctx, audit, func(tx *gorm.DB) error {
		if err := ins.claimKey(tx); err != nil {
			return err
		}
		return ins.rating.exec(tx)
	})
}

// AmendRating supersedes prev and inserts r in one transaction. The
// conditional update is the optimistic lock: if prev is no longer current,
// nothing is written and ErrConflict is returned.
func (s *Store) AmendRating(ctx context.Context, prev, r alliance.Rating, idem *alliance.Idempotency, audit ...alliance.AuditEntry) error {
	ins, err := s.ratingInserts(r, idem)
	if err != nil {
		return err
	}
	return s.inTx(ctx, audit, func(tx *gorm.DB) error {
		if err := ins.claimKey(tx); err != nil {
			return err
		}
		res := tx.Model(&ratingRow{}).
			Where("id = ? AND superseded_at IS NULL", prev.ID).
			Update("superseded_at", r.CreatedAt)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("rating %s is no longer current: %w", prev.ID, alliance.ErrConflict)
		}
		return ins.rating.exec(tx)
	})
}

// ratingWrite is a rating's INSERT and, with an idempotency key, the key's
// INSERT before it, built before the write is queued.
type ratingWrite struct {
	key    *insert
	rating insert
}

func (s *Store) ratingInserts(r alliance.Rating, idem *alliance.Idempotency) (ratingWrite, error) {
	row, err := toRatingRow(r)
	if err != nil {
		return ratingWrite{}, err
	}
	var w ratingWrite
	if w.rating, err = s.buildInsert(&row); err != nil {
		return ratingWrite{}, err
	}
	if idem != nil {
		k := idempotencyRow{Key: idem.Key, Fingerprint: idem.Fingerprint, RatingID: r.ID, CreatedAt: time.Now().UTC()}
		key, err := s.buildInsert(&k)
		if err != nil {
			return ratingWrite{}, err
		}
		w.key = &key
	}
	return w, nil
}

// claimKey records the idempotency key, if any, first in the rating's
// transaction: a key already present means another request committed it,
// which a retry must learn before anything else (a retried amendment
// finds its rating already superseded).
func (w ratingWrite) claimKey(tx *gorm.DB) error {
	if w.key == nil {
		return nil
	}
	err := w.key.exec(tx)
	if errors.Is(err, alliance.ErrConflict) {
		return alliance.ErrIdempotencyKeyTaken
	}
	return err
}

// FindRatingByID returns one version of a rating.
func (s *Store) FindRatingByID(ctx context.Context, id string) (alliance.Rating, error) {
	var row ratingRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Rating{}, translate(err)
	}
	return row.toDomain()
}

// FindRatings returns a dyad's current ratings, of one session or (session
// 0) of all, ordered by session and role.
func (s *Store) FindRatings(ctx context.Context, dyadID string, session int) ([]alliance.Rating, error) {
	q := s.db.WithContext(ctx).Where("dyad_id = ? AND superseded_at IS NULL", dyadID)
	if session > 0 {
		q = q.Where("session = ?", session)
	}
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
