package alliance

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alliance-project/alliance/internal/instrument"
)

// Sentinel errors let the transport layer choose a status without knowing
// which store or rule produced the failure. Wrap them with context using %w.
var (
	// ErrNotFound means the addressed study, dyad, session or rating does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write collides with existing data, e.g. a second
	// rating for the same dyad, session and role, or a duplicate dyad code.
	ErrConflict = errors.New("conflict")
	// ErrIdempotencyMismatch means an Idempotency-Key was reused with a
	// different request, which must never silently return the first result.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyKeyTaken is returned by a Store when the idempotency key
	// was committed by a concurrent request; the service then replays it.
	ErrIdempotencyKeyTaken = errors.New("idempotency key already recorded")
	// ErrUnavailable means the database cannot serve the request right now
	// (locked, read-only, timed out); retrying later may succeed.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrWithdrawn means the dyad's consent was withdrawn: no rating, and
	// no survey link, is accepted for it any more.
	ErrWithdrawn = fmt.Errorf("dyad_withdrawn: %w", ErrConflict)
	// ErrAlreadyRated means the session and role a rating (or a survey
	// link) is for already have a current rating: amend it instead.
	ErrAlreadyRated = fmt.Errorf("already_rated: %w", ErrConflict)
	// ErrAmendedConcurrently means another amendment of the same rating
	// committed first: fetch the rating and decide again.
	ErrAmendedConcurrently = fmt.Errorf("amended_concurrently: %w", ErrConflict)
)

// FieldError names one invalid field of a request, so a frontend can point
// the user at it. Field uses the request's JSON names, e.g. "answers[3]".
// It is the instrument's own, which reports bad answers with it.
type FieldError = instrument.FieldError

// ValidationError collects every invalid field of one request, so clients
// can fix all of them in one round trip.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		msgs = append(msgs, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

// invalid builds a ValidationError for a single field.
func invalid(field, code, msg string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Code: code, Message: msg}}}
}

// fieldErrors accumulates validation failures while a request is checked.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, code, msg string) {
	*fe = append(*fe, FieldError{Field: field, Code: code, Message: msg})
}

// label checks a name a person gives a study or a key, trimmed, and
// returns it: required (what says what for, when empty), at most max
// characters, and no control or bidirectional-override characters
// (a NUL, or text that displays other than it reads, in a list of names).
func (fe *fieldErrors) label(field, s string, max int, what string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		fe.add(field, "required", what)
	case utf8.RuneCountInString(s) > max:
		fe.add(field, "too_long", fmt.Sprintf("at most %d characters", max))
	case strings.ContainsFunc(s, hiddenRune):
		fe.add(field, "invalid_characters", "no control or bidirectional-override characters")
	}
	return s
}

// hiddenRune reports a control character or a bidirectional override
// or isolate.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// err returns nil when nothing was added, so callers can `return fe.err()`.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{Fields: fe}
}
