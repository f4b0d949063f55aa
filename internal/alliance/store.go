package alliance

import (
	"context"
	"time"
)

// Store is the persistence the domain needs. Implementations translate
// their own errors to ErrNotFound, ErrConflict, ErrIdempotencyKeyTaken and
// ErrUnavailable, and make every method that writes atomic: a failed call
// leaves nothing behind.
type Store interface {
	CreateStudy(ctx context.Context, s Study) error
	FindStudyByID(ctx context.Context, id string) (Study, error)
	FindStudies(ctx context.Context, p Page) ([]Study, error)

	CreateDyad(ctx context.Context, d Dyad) error
	FindDyadByID(ctx context.Context, id string) (Dyad, error)
	FindDyads(ctx context.Context, f DyadFilter) ([]Dyad, error)

	// CreateRating inserts the first version of a rating and, when idem is
	// not nil, records the key in the same transaction. A current rating for
	// the same dyad, session and role yields ErrConflict; a recorded key
	// yields ErrIdempotencyKeyTaken.
	CreateRating(ctx context.Context, r Rating, idem *Idempotency) error
	// AmendRating supersedes the current version prev and inserts r as the
	// next version, in one transaction. If prev is no longer current (a
	// concurrent amendment won), it yields ErrConflict.
	AmendRating(ctx context.Context, prev, r Rating, idem *Idempotency) error
	// FindRatingByID returns one version of a rating, current or not.
	FindRatingByID(ctx context.Context, id string) (Rating, error)
	// FindRatings returns the current ratings of a dyad, ordered by session
	// then role; session 0 means every session.
	FindRatings(ctx context.Context, dyadID string, session int) ([]Rating, error)
	// FindRatingHistory returns every version of one rating, oldest first.
	FindRatingHistory(ctx context.Context, dyadID string, session int, role Role) ([]Rating, error)

	FindIdempotency(ctx context.Context, key string) (IdempotencyRecord, error)

	// StreamStudyRatings calls fn for every current rating of a study, with
	// its dyad's codes, ordered by dyad, session and role, without holding
	// them all in memory. With since, only ratings stored after it are
	// streamed; wholeSessions then keeps both ratings of any session in
	// which either changed.
	StreamStudyRatings(ctx context.Context, studyID string, since *time.Time, wholeSessions bool, fn func(ExportRow) error) error

	// Ping reports whether the database answers and its schema is current.
	Ping(ctx context.Context) error
}
