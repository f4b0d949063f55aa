package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alliance-project/alliance/internal/auth"
)

// Invitation is a one-time survey link for one rater of one dyad session.
type Invitation struct {
	ID        string
	StudyID   string
	DyadID    string
	Session   int
	Role      Role
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RatingID  string
	RevokedAt *time.Time
}

// Invitation states, as GET /v1/dyads/{id}/invitations reports them.
const (
	InvitationPending = "pending"
	InvitationUsed    = "used"
	InvitationExpired = "expired"
	InvitationRevoked = "revoked"
)

// State says whether the link can still be answered at now, and if not,
// why: used, revoked (by an admin, or by a withdrawal) or expired.
func (inv Invitation) State(now time.Time) string {
	switch {
	case inv.UsedAt != nil:
		return InvitationUsed
	case inv.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// Survey link lifetimes: a week by default, at most 90 days.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MaxInvitationTTL     = 90 * 24 * time.Hour
	// MinInvitationTTL keeps out a link that expires before it reaches
	// the rater's phone ("1ns").
	MinInvitationTTL = time.Minute
)

// InvitationInput asks for a survey link for one rater of one session.
// ExpiresIn is a Go duration ("72h"); empty means the default.
type InvitationInput struct {
	Session   *int
	Role      string
	ExpiresIn string
}

// CreateInvitation makes a one-time survey token for exactly one rater of
// one dyad session and returns it with its secret token (shown once). A
// slot that already has a rating is refused at once (ErrAlreadyRated),
// not after the rater filled in the form; so is a withdrawn dyad.
func (s *Service) CreateInvitation(ctx context.Context, dyadID string, in InvitationInput) (Invitation, string, error) {
	var fe fieldErrors
	session := requireSession(&fe, in.Session)
	role, err := ParseRole("role", in.Role)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	ttl := DefaultInvitationTTL
	if in.ExpiresIn != "" {
		ttl, err = time.ParseDuration(in.ExpiresIn)
		switch {
		case err != nil:
			fe.add("expires_in", "invalid_value", "a duration such as 72h or 30m")
		case ttl < MinInvitationTTL || ttl > MaxInvitationTTL:
			fe.add("expires_in", "out_of_range", "from 1m to 2160h (90 days)")
		}
	}
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return Invitation{}, "", err
	}
	st, err := s.FindStudyByID(ctx, d.StudyID)
	if err != nil {
		return Invitation{}, "", err
	}
	if _, ok := st.Forms[role]; role != "" && !ok {
		fe.add("role", "role_not_allowed", fmt.Sprintf("the %s role does not rate in this study", role))
	}
	if err := fe.err(); err != nil {
		return Invitation{}, "", err
	}
	if d.Withdrawal != nil {
		return Invitation{}, "", fmt.Errorf("dyad %s: consent was withdrawn: %w", d.ID, ErrWithdrawn)
	}
	if _, err := s.FindRating(ctx, d.ID, session, role); err == nil {
		return Invitation{}, "", fmt.Errorf("session %d already has a %s rating; a survey link for it could never be used: %w", session, role, ErrAlreadyRated)
	} else if !errors.Is(err, ErrNotFound) {
		return Invitation{}, "", err
	}
	tok := auth.New(auth.KindSurvey)
	now := s.now()
	inv := Invitation{ID: tok.ID, StudyID: st.ID, DyadID: d.ID, Session: session, Role: role,
		Hash: auth.Hash(tok.Secret), CreatedAt: now, CreatedBy: ActorFrom(ctx).Label(), ExpiresAt: now.Add(ttl)}
	view := map[string]any{"dyad_id": inv.DyadID, "session": inv.Session, "role": inv.Role, "expires_at": inv.ExpiresAt}
	if err := s.store.CreateInvitation(ctx, inv, s.audit(ctx, "invitation.create", "invitation", inv.ID, st.ID, inv.DyadID, nil, view)); err != nil {
		return Invitation{}, "", fmt.Errorf("create invitation: %w", err)
	}
	return inv, tok.String(), nil
}

// pending reports whether a link can still be answered at now.
func (inv Invitation) pending(now time.Time) bool { return inv.State(now) == InvitationPending }

// surveyLink is the invitation of a survey-token actor.
func surveyLink(ctx context.Context) (*Invitation, error) {
	inv := ActorFrom(ctx).Invitation
	if inv == nil {
		return nil, ErrForbidden
	}
	return inv, nil
}

// LinkGone is ErrGone with why the link can no longer be answered (used,
// expired or revoked) and its study's survey language: a rater whose link
// was revoked must not read that their answers were probably stored, and
// must read it in the language the form was in.
type LinkGone struct {
	State    string
	Language string
	// SlotRated: the link was not used, but its session and role have a
	// rating given otherwise (a tablet, the API): nothing was stored
	// through it, and nothing more is asked of its rater.
	SlotRated bool
}

func (e *LinkGone) Error() string { return "survey link " + e.State }
func (e *LinkGone) Unwrap() error { return ErrGone }

// gone is the LinkGone of inv as it is now in the store (a concurrent
// submission or revocation may have changed it since the token was read).
func (s *Service) gone(ctx context.Context, inv Invitation) error {
	if cur, err := s.store.FindInvitationByID(ctx, inv.ID); err == nil {
		inv = cur
	}
	g := &LinkGone{State: inv.State(s.now())}
	g.SlotRated = g.State == InvitationPending // a slot rated meanwhile by other means
	if st, err := s.FindStudyByID(ctx, inv.StudyID); err == nil {
		g.Language = st.Language
	}
	return g
}

// SurveyForm is what a survey-token holder may see: which session and
// role the link is for, and the form to answer. Nothing of the other
// rater, and not even the dyad's codes. A link that can no longer be
// answered is a LinkGone, and so is one whose own session and role were
// rated since by other means (a tablet, an API call): the rater learns
// it before answering, not after, and learns nothing of the other side.
func (s *Service) SurveyForm(ctx context.Context) (Invitation, Study, error) {
	inv, err := surveyLink(ctx)
	if err != nil {
		return Invitation{}, Study{}, err
	}
	if !inv.pending(s.now()) {
		return Invitation{}, Study{}, s.gone(ctx, *inv)
	}
	rs, err := s.store.FindSessionRatings(ctx, inv.DyadID, inv.Session)
	if err != nil {
		return Invitation{}, Study{}, err
	}
	if slices.ContainsFunc(rs, func(r Rating) bool { return r.Role == inv.Role }) {
		return Invitation{}, Study{}, s.gone(ctx, *inv)
	}
	st, err := s.FindStudyByID(ctx, inv.StudyID)
	return *inv, st, err
}

// SurveyInput is a survey-token holder's answers; the session and role
// come from the token.
type SurveyInput struct {
	SessionDate string
	Answers     []*float64
}

// SubmitSurvey stores the rating a survey token was made for and uses the
// token up, in one transaction: of two concurrent submissions exactly one
// succeeds, the other gets ErrGone. A submission retried with the same
// Idempotency-Key after it was stored gets the stored rating again
// (replayed), so a rater on a flaky network can tell "stored" from
// "expired".
func (s *Service) SubmitSurvey(ctx context.Context, in SurveyInput, idem *Idempotency) (r Rating, replayed bool, err error) {
	inv, err := surveyLink(ctx)
	if err != nil {
		return Rating{}, false, err
	}
	idem = idem.scopedTo(ActorFrom(ctx))
	if !inv.pending(s.now()) {
		return s.replayOr(ctx, idem, s.gone(ctx, *inv))
	}
	rin := RatingInput{Session: &inv.Session, SessionDate: in.SessionDate, Role: string(inv.Role), Answers: in.Answers}
	c, err := s.checkRating(ctx, inv.DyadID, rin)
	if err != nil {
		return Rating{}, false, err
	}
	r = s.newRating(c, rin, 1)
	err = s.storeFirst(ctx, &r, func(r Rating) error {
		return s.writeRating(ctx, RatingWrite{Op: RatingInvited, Rating: r, InvitationID: inv.ID, At: s.now(), Idem: idem,
			Audit: []AuditEntry{s.ratingCreatedAudit(ctx, r, c.dyad)}}, c.dyad, c.study)
	})
	switch {
	case errors.Is(err, ErrIdempotencyKeyTaken):
		return s.replayTaken(ctx, idem)
	case errors.Is(err, ErrGone):
		return Rating{}, false, s.gone(ctx, *inv)
	case errors.Is(err, ErrWithdrawn):
		return Rating{}, false, fmt.Errorf("consent for this dyad was withdrawn; no new ratings: %w", err)
	case errors.Is(err, ErrConflict):
		// The slot was rated another way (a tablet, the API) since the
		// link was sent: the link has nothing more to ask, as its GET says.
		return s.replayOr(ctx, idem, s.gone(ctx, *inv))
	case err != nil:
		return Rating{}, false, fmt.Errorf("store survey rating: %w", err)
	}
	return r, false, nil
}

// FindInvitations lists a dyad's survey links (never their tokens) with
// their states.
func (s *Service) FindInvitations(ctx context.Context, dyadID string) ([]Invitation, error) {
	if _, err := s.FindDyadByID(ctx, dyadID); err != nil {
		return nil, err
	}
	return s.store.FindInvitations(ctx, dyadID)
}

// RevokeInvitation revokes a mis-sent link that was not used yet; revoking
// a revoked link changes nothing. A used link is a conflict: its rating
// stands (void it instead).
func (s *Service) RevokeInvitation(ctx context.Context, id string) (Invitation, error) {
	inv, err := s.store.FindInvitationByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(inv.StudyID) {
		err = ErrNotFound
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("survey link %s: %w", id, err)
	}
	switch inv.State(s.now()) {
	case InvitationRevoked:
		return inv, nil
	case InvitationUsed:
		return Invitation{}, fmt.Errorf("survey link %s was used; void its rating instead: %w", id, ErrConflict)
	}
	at := s.now()
	if err := s.store.RevokeInvitation(ctx, id, at, s.audit(ctx, "invitation.revoke", "invitation", id, inv.StudyID, inv.DyadID, nil, nil)); err != nil {
		return Invitation{}, fmt.Errorf("revoke survey link %s: %w", id, err)
	}
	inv.RevokedAt = &at
	return inv, nil
}
