package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
)

// MaxSession bounds session numbers; far above any real course of care,
// it keeps typing accidents like 20251123 out of the data.
const MaxSession = 10000

// sessionRange says which session numbers there are, for a refusal.
var sessionRange = fmt.Sprintf("session numbers run from 1 to %d", MaxSession)

func sessionInRange(n int) bool { return n >= 1 && n <= MaxSession }

// checkSession refuses a session number outside 1..MaxSession before it
// reaches a query: no rating has one, so a lookup by it can only be a
// mistake of the caller's (a 0 read as "any session" once voided another
// session's rating).
func checkSession(n int) error {
	var fe fieldErrors
	requireSession(&fe, &n)
	return fe.err()
}

// requireSession adds to fe what is wrong with a request's session
// number (none, or out of range) and returns it, 0 when it is wrong.
func requireSession(fe *fieldErrors, n *int) int {
	switch {
	case n == nil:
		fe.add("session", "required", "the session number is required")
	case !sessionInRange(*n):
		fe.add("session", "out_of_range", sessionRange)
	default:
		return *n
	}
	return 0
}

// RatingInput is one rater's submission for one session. Answers are
// positional in the form's item order; nil is an unanswered item. A nil
// Session was not given (required), which is not the same mistake as a
// session number out of range.
type RatingInput struct {
	Session     *int
	SessionDate string
	Role        string
	Answers     []*float64
}

// checkedRating is a RatingInput that passed validation, with the form
// that scores it.
type checkedRating struct {
	dyad    Dyad
	study   Study
	form    *instrument.Form
	session int
	role    Role
	date    *Date
	// answers are the submitted answers on the form's grid (see Snap).
	answers []*float64
}

// SubmitRating validates and scores the first rating of a role for a
// session and stores it atomically. With an idempotency key, a retry of the
// same request returns the first result (replayed is true) and a different
// request under the same key is refused.
//
// The key is checked where it is claimed, in the rating's transaction: a
// retry finds it taken there and is answered from the stored result, so
// the common first attempt costs no extra query. Keys are scoped to the
// credential and the request (see Idempotency), and a retry is answered
// only after the caller's access to the dyad was checked again.
func (s *Service) SubmitRating(ctx context.Context, dyadID string, in RatingInput, idem *Idempotency) (r Rating, replayed bool, err error) {
	c, err := s.checkRating(ctx, dyadID, in)
	if err != nil {
		return Rating{}, false, err
	}
	idem = idem.scopedTo(ActorFrom(ctx))
	r = s.newRating(c, in, 1)
	err = s.storeFirst(ctx, &r, func(r Rating) error {
		return s.writeRating(ctx, RatingWrite{Op: RatingCreate, Rating: r, Idem: idem, Audit: []AuditEntry{s.ratingCreatedAudit(ctx, r, c.dyad)}}, c.dyad, c.study)
	})
	switch {
	case errors.Is(err, ErrIdempotencyKeyTaken):
		return s.replayTaken(ctx, idem)
	case errors.Is(err, ErrWithdrawn):
		return Rating{}, false, fmt.Errorf("consent for this dyad was withdrawn; no new ratings: %w", err)
	case errors.Is(err, ErrConflict):
		// A retry whose first attempt the first release recorded (see
		// replay) finds the slot taken by its own rating.
		return s.replayOr(ctx, idem, fmt.Errorf("session %d already has a %s rating; amend it with PUT: %w", c.session, c.role, ErrAlreadyRated))
	case err != nil:
		return Rating{}, false, fmt.Errorf("store rating: %w", err)
	}
	return r, false, nil
}

// AmendRating replaces the current rating of a role for a session with a
// new version, keeping the earlier one in the history. Sending the current
// answers again changes nothing, so a retried PUT is harmless, for a
// caller who may read ratings: to one who may not (a collect key), "no
// change" would confirm a guess of the stored answers, perhaps the other
// rater's; it gets a new version, and retries with an Idempotency-Key.
func (s *Service) AmendRating(ctx context.Context, dyadID string, in RatingInput, idem *Idempotency) (r Rating, replayed bool, err error) {
	c, err := s.checkRating(ctx, dyadID, in)
	if err != nil {
		return Rating{}, false, err
	}
	idem = idem.scopedTo(ActorFrom(ctx))
	if r, ok, err := s.replay(ctx, idem); ok || err != nil {
		return r, ok, err
	}
	prev, err := s.FindRating(ctx, dyadID, c.session, c.role)
	if err != nil {
		return Rating{}, false, fmt.Errorf("no %s rating of session %d to amend; submit it with POST first: %w", c.role, c.session, err)
	}
	if sameAnswers(prev.Answers, c.answers) && sameDate(prev.SessionDate, c.date) && ActorFrom(ctx).readsRatings() {
		return prev, false, nil
	}
	r = s.newRating(c, in, prev.Version+1)
	data := ratingEventData(r, c.dyad)
	data["previous_rating_id"] = prev.ID
	audit := withEvent(s.audit(ctx, "rating.amend", "rating", r.ID, r.StudyID, r.DyadID, ratingAudit(prev), ratingAudit(r)),
		s.newEvent(EventRatingAmended, r.StudyID, r.DyadID, data))
	err = s.writeRating(ctx, RatingWrite{Op: RatingAmend, Rating: r, Prev: prev, Idem: idem, Audit: []AuditEntry{audit}}, c.dyad, c.study)
	switch {
	case errors.Is(err, ErrIdempotencyKeyTaken):
		return s.replayTaken(ctx, idem)
	case errors.Is(err, ErrWithdrawn):
		return Rating{}, false, fmt.Errorf("consent for this dyad was withdrawn; no new ratings: %w", err)
	case errors.Is(err, ErrConflict):
		return Rating{}, false, fmt.Errorf("the rating was amended concurrently; fetch it and retry: %w", ErrAmendedConcurrently)
	case err != nil:
		return Rating{}, false, fmt.Errorf("amend rating: %w", err)
	}
	return r, false, nil
}

// ratingCreatedAudit is the audit entry of a first rating, with its
// rating.created event.
func (s *Service) ratingCreatedAudit(ctx context.Context, r Rating, d Dyad) AuditEntry {
	return withEvent(s.audit(ctx, "rating.create", "rating", r.ID, r.StudyID, r.DyadID, nil, ratingAudit(r)),
		s.newEvent(EventRatingCreated, r.StudyID, r.DyadID, ratingEventData(r, d)))
}

// storeFirst stores r, the first current version of its slot, with
// create. A slot whose last version was voided is free again: its next
// rating takes the version after the voided one (versions stay unique in
// the history), so on a conflict the history is read and, if voided,
// create runs once more.
func (s *Service) storeFirst(ctx context.Context, r *Rating, create func(Rating) error) error {
	err := create(*r)
	if !errors.Is(err, ErrConflict) || errors.Is(err, ErrWithdrawn) {
		return err
	}
	hist, herr := s.store.FindRatingHistory(ctx, r.DyadID, r.Session, r.Role)
	if herr != nil || len(hist) == 0 || hist[len(hist)-1].VoidedAt == nil {
		return err // a current rating holds the slot
	}
	r.Version = hist[len(hist)-1].Version + 1
	return create(*r)
}

// VoidReasons are the reason codes of a voided rating.
var VoidReasons = []string{"wrong_dyad", "wrong_session", "wrong_role", "duplicate", "test_entry", "other"}

// VoidRating takes a rating filed under the wrong dyad, session or role
// out of current data, statistics and exports; it stays in the history
// (marked voided, with its reason) and in the audit log, and the slot can
// be rated again.
func (s *Service) VoidRating(ctx context.Context, dyadID string, session int, role Role, reasonCode string) (Rating, error) {
	var fe fieldErrors
	oneOf(&fe, "reason_code", reasonCode, VoidReasons)
	if err := fe.err(); err != nil {
		return Rating{}, err
	}
	cur, err := s.FindRating(ctx, dyadID, session, role)
	if err != nil {
		return Rating{}, err
	}
	// FindRating checked the caller's access to the dyad.
	d, st, err := s.store.FindRatingTarget(ctx, dyadID)
	if err != nil {
		return Rating{}, fmt.Errorf("dyad %s: %w", dyadID, err)
	}
	at := s.now()
	data := ratingEventData(cur, d)
	data["reason_code"] = reasonCode
	audit := withEvent(s.audit(ctx, "rating.void", "rating", cur.ID, cur.StudyID, cur.DyadID, ratingAudit(cur), map[string]any{"reason_code": reasonCode}),
		s.newEvent(EventRatingVoided, cur.StudyID, cur.DyadID, data))
	if err := s.writeRating(ctx, RatingWrite{Op: RatingVoid, Rating: cur, At: at, VoidReason: reasonCode, Audit: []AuditEntry{audit}}, d, st); err != nil {
		return Rating{}, fmt.Errorf("void rating %s: %w", cur.ID, err)
	}
	cur.SupersededAt, cur.VoidedAt, cur.VoidReason = &at, &at, reasonCode
	return cur, nil
}

// replayTaken answers a write whose idempotency key a concurrent request
// with the same key committed first: with that request's rating.
func (s *Service) replayTaken(ctx context.Context, idem *Idempotency) (Rating, bool, error) {
	r, ok, err := s.replay(ctx, idem)
	if err == nil && !ok {
		err = fmt.Errorf("a committed idempotency key vanished: %w", ErrConflict)
	}
	return r, ok, err
}

// replayOr replays idem's stored rating, or answers err when there is none.
func (s *Service) replayOr(ctx context.Context, idem *Idempotency, err error) (Rating, bool, error) {
	r, ok, rerr := s.replay(ctx, idem)
	if ok || rerr != nil {
		return r, ok, rerr
	}
	return Rating{}, false, err
}

// replay returns the rating a committed idempotency key points to. It
// reports ok=false when the key is new (or absent), and
// ErrIdempotencyMismatch when the key was used for another request.
//
// The first release recorded keys as clients sent them, unscoped, with
// the same fingerprint of method, path and body. A retry that spans the
// upgrade (a frontend's offline queue, say) finds its key so, and is the
// same request only if the fingerprint is the same; otherwise it is a
// new key, as it would have been for another credential. Without this an
// amendment retried after the upgrade made a new version, reverting any
// made since.
func (s *Service) replay(ctx context.Context, idem *Idempotency) (Rating, bool, error) {
	if idem == nil {
		return Rating{}, false, nil
	}
	rec, err := s.store.FindIdempotency(ctx, idem.Key)
	if errors.Is(err, ErrNotFound) && idem.unscoped != "" {
		if old, oerr := s.store.FindIdempotency(ctx, idem.unscoped); oerr == nil && old.Fingerprint == idem.Fingerprint {
			rec, err = old, nil
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return Rating{}, false, nil
	case err != nil:
		return Rating{}, false, fmt.Errorf("find idempotency key: %w", err)
	case rec.Fingerprint != idem.Fingerprint:
		return Rating{}, false, ErrIdempotencyMismatch
	}
	r, err := s.store.FindRatingByID(ctx, rec.RatingID)
	if err != nil {
		return Rating{}, false, fmt.Errorf("find replayed rating %s: %w", rec.RatingID, err)
	}
	// The first answer again, as it was: the version as it was written,
	// not as amendments or a void have marked it since. A retry learns
	// nothing of what happened to its rating after (a collect key may not
	// read ratings), and the same request gets the same body.
	r.SupersededAt, r.VoidedAt, r.VoidReason = nil, nil, ""
	return r, true, nil
}

// earliestSessionDate is the earliest date a session may be recorded on.
var earliestSessionDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// checkRating validates a submission against its dyad's study and form,
// collecting every bad field before answering.
func (s *Service) checkRating(ctx context.Context, dyadID string, in RatingInput) (checkedRating, error) {
	var fe fieldErrors
	var c checkedRating
	c.session = requireSession(&fe, in.Session)
	if in.SessionDate != "" {
		d, err := ParseDate("session_date", in.SessionDate)
		switch {
		case err != nil:
			fe = append(fe, fieldsOf(err)...)
		case d.Before(earliestSessionDate) || d.After(s.now().AddDate(0, 0, 1)):
			// A typo (0001-01-01, 2062 for 2026) would sort and filter as a
			// date in every export; tomorrow is allowed for a rater a
			// time zone ahead of UTC.
			fe.add("session_date", "out_of_range", "a session date from 1900-01-01 to tomorrow")
		default:
			c.date = &d
		}
	}
	role, err := ParseRole("role", in.Role)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	c.role = role

	c.dyad, c.study, err = s.store.FindRatingTarget(ctx, dyadID)
	if err == nil && !ActorFrom(ctx).sees(c.dyad.StudyID) {
		err = ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("dyad %s: %w", dyadID, err)
	}
	if role != "" {
		id, ok := c.study.Forms[role]
		if !ok {
			fe.add("role", "role_not_allowed", fmt.Sprintf("the %s role does not rate in this study", role))
		} else if c.form, err = s.FindForm(ctx, id); err != nil {
			return c, fmt.Errorf("study %s form: %w", c.study.ID, err)
		}
	}
	switch {
	case in.Answers == nil:
		fe.add("answers", "required", "answers are required, one per item in form order (null for an unanswered item)")
	case c.form != nil:
		for _, e := range c.form.Validate(in.Answers) {
			fe.add(e.Field, e.Code, e.Message)
		}
		c.answers = c.form.Snap(in.Answers)
		if !slices.ContainsFunc(in.Answers, func(v *float64) bool { return v != nil }) {
			fe.add("answers", "no_answers", "at least one item must be answered")
		}
	}
	return c, fe.err()
}

func (s *Service) newRating(c checkedRating, in RatingInput, version int) Rating {
	return Rating{
		ID:             newID("ra"),
		StudyID:        c.study.ID,
		DyadID:         c.dyad.ID,
		Session:        c.session,
		SessionDate:    c.date,
		Role:           c.role,
		FormID:         c.form.ID,
		Answers:        c.answers,
		Scores:         c.form.Score(c.answers, c.study.Policy),
		Policy:         c.form.Applied(c.study.Policy),
		ScoringVersion: c.form.ScoringVersion(),
		Version:        version,
		CreatedAt:      s.now(),
	}
}

// FindRating returns the current rating of one role for one session.
func (s *Service) FindRating(ctx context.Context, dyadID string, session int, role Role) (Rating, error) {
	if err := checkSession(session); err != nil {
		return Rating{}, err
	}
	if _, err := s.FindDyadByID(ctx, dyadID); err != nil {
		return Rating{}, err
	}
	rs, err := s.store.FindSessionRatings(ctx, dyadID, session)
	if err != nil {
		return Rating{}, err
	}
	for _, r := range rs {
		if r.Role == role {
			return r, nil
		}
	}
	return Rating{}, fmt.Errorf("%s rating of session %d: %w", role, session, ErrNotFound)
}

// FindDyadRatings returns a dyad's current ratings over all sessions,
// ordered by session and role: the data of its trajectory.
func (s *Service) FindDyadRatings(ctx context.Context, dyadID string) ([]Rating, error) {
	if _, err := s.FindDyadByID(ctx, dyadID); err != nil {
		return nil, err
	}
	return s.store.FindRatings(ctx, dyadID)
}

// RatingHistory returns every version of one role's rating for a session,
// oldest first.
func (s *Service) RatingHistory(ctx context.Context, dyadID string, session int, role Role) ([]Rating, error) {
	if err := checkSession(session); err != nil {
		return nil, err
	}
	if _, err := s.FindDyadByID(ctx, dyadID); err != nil {
		return nil, err
	}
	rs, err := s.store.FindRatingHistory(ctx, dyadID, session, role)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s rating of session %d: %w", role, session, ErrNotFound)
	}
	return rs, nil
}

// FindSession returns both sides of one dyad session and, when both have
// rated it, their comparison. A session nobody rated yet is not an error:
// frontends poll it to see whether the pair is complete.
func (s *Service) FindSession(ctx context.Context, dyadID string, session int) (Session, error) {
	if err := checkSession(session); err != nil {
		return Session{}, err
	}
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return Session{}, err
	}
	rs, err := s.store.FindSessionRatings(ctx, dyadID, session)
	if err != nil {
		return Session{}, err
	}
	out := Session{Dyad: d, Number: session}
	for i := range rs {
		switch rs[i].Role {
		case RoleClient:
			out.Client = &rs[i]
		case RoleCounsellor:
			out.Counsellor = &rs[i]
		}
	}
	if out.Complete() {
		f, err := s.FindForm(ctx, out.Client.FormID)
		if err != nil {
			return Session{}, err
		}
		for _, sc := range f.Scales() {
			out.Differences = append(out.Differences, scaleDifference(sc, out.Client, out.Counsellor))
		}
	}
	return out, nil
}

func sameAnswers(a, b []*float64) bool {
	return slices.EqualFunc(a, b, func(x, y *float64) bool {
		return (x == nil && y == nil) || (x != nil && y != nil && *x == *y)
	})
}

func sameDate(a, b *Date) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(b.Time))
}

// fieldsOf unpacks a ValidationError so checks can be merged.
func fieldsOf(err error) []FieldError {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return []FieldError{{Field: "", Code: "invalid", Message: err.Error()}}
}
