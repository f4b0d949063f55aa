package alliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alliance-project/alliance/internal/auth"
)

// Access errors, mapped to 401, 403 and 410 by the transport.
var (
	// ErrUnauthenticated means no valid credential was presented: none, a
	// malformed one, an unknown one, a wrong secret or a revoked key.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden means the credential is valid but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrGone means a survey token was already used or has expired.
	ErrGone = errors.New("survey link used or expired")
)

// Scope is what an API key may do (admin, collect, analyze).
type Scope = auth.Scope

// ActorKind tells how an actor authenticated.
type ActorKind string

// Actor kinds. System is the operator at the command line (and start-up).
const (
	ActorSystem ActorKind = "system"
	ActorKey    ActorKind = "key"
	ActorSurvey ActorKind = "survey"
)

// Actor is who performs a request. It travels in the context so that
// every use case can scope what it shows (a key bound to a study sees only
// that study) and every write can name its author in the audit log.
type Actor struct {
	Kind   ActorKind
	ID     string
	Scopes []auth.Scope
	// StudyID binds a key to one study; "" means every study.
	StudyID string
	// Invitation is set for survey-token actors.
	Invitation *Invitation
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; without one it is the system (the
// CLI and start-up code act with full rights).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// Label is how the audit log names the actor.
func (a Actor) Label() string {
	if a.Kind == ActorSystem {
		return string(ActorSystem)
	}
	return string(a.Kind) + ":" + a.ID
}

// Has reports whether the actor holds scope (the system holds all).
func (a Actor) Has(s auth.Scope) bool {
	return a.Kind == ActorSystem || slices.Contains(a.Scopes, s)
}

// sees reports whether the actor may see anything of study id. A key
// bound to another study is told "not found", so ids of other studies
// cannot be probed.
func (a Actor) sees(studyID string) bool {
	switch a.Kind {
	case ActorSystem:
		return true
	case ActorSurvey:
		return a.Invitation != nil && a.Invitation.StudyID == studyID
	}
	return a.StudyID == "" || a.StudyID == studyID
}

// Key is an API key as stored: never the secret, only its hash.
type Key struct {
	ID        string
	Name      string
	Scopes    []auth.Scope
	StudyID   string
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	RevokedAt *time.Time
}

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
}

// AuditEntry records one write: who, what, when, and for changes the
// state before and after, as JSON. The log is append-only.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	Action     string
	Resource   string
	ResourceID string
	StudyID    string
	Before     string
	After      string
}

// AuditFilter narrows the audit log; Page.After is the last entry id seen.
type AuditFilter struct {
	StudyID    string
	Actor      string
	Action     string
	ResourceID string
	Since      *time.Time
	Limit      int
	AfterID    int64
}

// audit builds the entry of a write by the actor of ctx. before and after
// are domain values rendered as JSON; secrets never reach them.
func (s *Service) audit(ctx context.Context, action, resource, id, studyID string, before, after any) AuditEntry {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%q", err.Error())
		}
		return string(b)
	}
	return AuditEntry{At: s.now(), Actor: ActorFrom(ctx).Label(), Action: action, Resource: resource,
		ResourceID: id, StudyID: studyID, Before: enc(before), After: enc(after)}
}

// Authenticate resolves a presented bearer token to an actor. Any failure
// is ErrUnauthenticated except a used or expired survey link (ErrGone), so
// a survey page can say "this link was already used".
func (s *Service) Authenticate(ctx context.Context, raw string) (Actor, error) {
	tok, err := auth.Parse(raw)
	if err != nil {
		return Actor{}, ErrUnauthenticated
	}
	switch tok.Kind {
	case auth.KindKey:
		k, err := s.store.FindKeyByID(ctx, tok.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && !auth.Verify(tok.Secret, k.Hash)) {
			return Actor{}, ErrUnauthenticated
		}
		if err != nil {
			return Actor{}, err
		}
		if k.RevokedAt != nil {
			return Actor{}, fmt.Errorf("key revoked: %w", ErrUnauthenticated)
		}
		return Actor{Kind: ActorKey, ID: k.ID, Scopes: k.Scopes, StudyID: k.StudyID}, nil
	default:
		inv, err := s.store.FindInvitationByID(ctx, tok.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && !auth.Verify(tok.Secret, inv.Hash)) {
			return Actor{}, ErrUnauthenticated
		}
		if err != nil {
			return Actor{}, err
		}
		if inv.UsedAt != nil || !s.now().Before(inv.ExpiresAt) {
			return Actor{}, ErrGone
		}
		return Actor{Kind: ActorSurvey, ID: inv.ID, StudyID: inv.StudyID, Invitation: &inv}, nil
	}
}

// KeyInput is a request for a new API key.
type KeyInput struct {
	Name    string
	Scopes  []string
	StudyID string
}

// CreateKey makes an API key and returns it with its secret token, which
// exists nowhere else: it is shown once. A key bound to a study can only
// make keys bound to the same study.
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (Key, string, error) {
	var fe fieldErrors
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		fe.add("name", "required", "a name of 1-100 characters says what the key is for")
	}
	var scopes []auth.Scope
	for i, raw := range in.Scopes {
		sc, err := auth.ParseScope(raw)
		if err != nil {
			fe.add(fmt.Sprintf("scopes[%d]", i), "invalid_value", err.Error())
		} else if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(in.Scopes) == 0 {
		fe.add("scopes", "required", "at least one of admin, collect, analyze")
	}
	actor := ActorFrom(ctx)
	studyID := in.StudyID
	if actor.StudyID != "" {
		if studyID != "" && studyID != actor.StudyID {
			fe.add("study_id", "forbidden", "a key bound to a study can only create keys for that study")
		}
		studyID = actor.StudyID
	}
	if err := fe.err(); err != nil {
		return Key{}, "", err
	}
	if studyID != "" {
		if _, err := s.FindStudyByID(ctx, studyID); err != nil {
			return Key{}, "", err
		}
	}
	tok := auth.New(auth.KindKey)
	k := Key{ID: tok.ID, Name: name, Scopes: scopes, StudyID: studyID, Hash: auth.Hash(tok.Secret),
		CreatedAt: s.now(), CreatedBy: actor.Label()}
	view := map[string]any{"name": k.Name, "scopes": k.Scopes, "study_id": k.StudyID}
	if err := s.store.CreateKey(ctx, k, s.audit(ctx, "key.create", "key", k.ID, k.StudyID, nil, view)); err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	return k, tok.String(), nil
}

// EnsureAdminKey creates a first admin key when the database has none, so
// a new installation can be used at once. It returns the token only when
// it created one.
func (s *Service) EnsureAdminKey(ctx context.Context) (string, error) {
	n, err := s.store.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	_, tok, err := s.CreateKey(ctx, KeyInput{Name: "first admin key", Scopes: []string{string(auth.ScopeAdmin)}})
	return tok, err
}

// FindKeys lists keys (never their secrets); a study-bound admin sees the
// keys of its study only.
func (s *Service) FindKeys(ctx context.Context, p Page) ([]Key, error) {
	p, err := checkPage(p)
	if err != nil {
		return nil, err
	}
	return s.store.FindKeys(ctx, ActorFrom(ctx).StudyID, p)
}

// RevokeKey disables a key for good; the row stays for the audit trail.
func (s *Service) RevokeKey(ctx context.Context, id string) (Key, error) {
	k, err := s.store.FindKeyByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(k.StudyID) {
		err = ErrNotFound // a study-bound admin sees neither global keys nor other studies'
	}
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	at := s.now()
	if err := s.store.RevokeKey(ctx, id, at, s.audit(ctx, "key.revoke", "key", id, k.StudyID, nil, nil)); err != nil {
		return Key{}, fmt.Errorf("revoke key %s: %w", id, err)
	}
	k.RevokedAt = &at
	return k, nil
}

// Survey link lifetimes: a week by default, at most 90 days.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MaxInvitationTTL     = 90 * 24 * time.Hour
)

// InvitationInput asks for a survey link for one rater of one session.
// ExpiresIn is a Go duration ("72h"); empty means the default.
type InvitationInput struct {
	Session   int
	Role      string
	ExpiresIn string
}

// CreateInvitation makes a one-time survey token for exactly one rater of
// one dyad session and returns it with its secret token (shown once).
func (s *Service) CreateInvitation(ctx context.Context, dyadID string, in InvitationInput) (Invitation, string, error) {
	var fe fieldErrors
	if in.Session < 1 || in.Session > MaxSession {
		fe.add("session", "out_of_range", fmt.Sprintf("session numbers run from 1 to %d", MaxSession))
	}
	role, err := ParseRole("role", in.Role)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	ttl := DefaultInvitationTTL
	if in.ExpiresIn != "" {
		ttl, err = time.ParseDuration(in.ExpiresIn)
		if err != nil || ttl <= 0 || ttl > MaxInvitationTTL {
			fe.add("expires_in", "out_of_range", "a duration such as 72h, at most 2160h (90 days)")
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
	tok := auth.New(auth.KindSurvey)
	now := s.now()
	inv := Invitation{ID: tok.ID, StudyID: st.ID, DyadID: d.ID, Session: in.Session, Role: role,
		Hash: auth.Hash(tok.Secret), CreatedAt: now, CreatedBy: ActorFrom(ctx).Label(), ExpiresAt: now.Add(ttl)}
	view := map[string]any{"dyad_id": inv.DyadID, "session": inv.Session, "role": inv.Role, "expires_at": inv.ExpiresAt}
	if err := s.store.CreateInvitation(ctx, inv, s.audit(ctx, "invitation.create", "invitation", inv.ID, st.ID, nil, view)); err != nil {
		return Invitation{}, "", fmt.Errorf("create invitation: %w", err)
	}
	return inv, tok.String(), nil
}

// SurveyForm is what a survey-token holder may see: which session and
// role the link is for, and the form to answer. Nothing of the other
// rater, and not even the dyad's codes.
func (s *Service) SurveyForm(ctx context.Context) (Invitation, Study, error) {
	inv := ActorFrom(ctx).Invitation
	if inv == nil {
		return Invitation{}, Study{}, ErrForbidden
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
// succeeds, the other gets ErrGone.
func (s *Service) SubmitSurvey(ctx context.Context, in SurveyInput) (Rating, error) {
	inv := ActorFrom(ctx).Invitation
	if inv == nil {
		return Rating{}, ErrForbidden
	}
	rin := RatingInput{Session: inv.Session, SessionDate: in.SessionDate, Role: string(inv.Role), Answers: in.Answers}
	c, err := s.checkRating(ctx, inv.DyadID, rin)
	if err != nil {
		return Rating{}, err
	}
	r := s.newRating(c, rin, 1)
	err = s.store.CreateInvitedRating(ctx, inv.ID, s.now(), r, s.audit(ctx, "rating.create", "rating", r.ID, r.StudyID, nil, ratingAudit(r)))
	switch {
	case errors.Is(err, ErrConflict):
		return Rating{}, fmt.Errorf("session %d already has a %s rating: %w", r.Session, r.Role, err)
	case err != nil:
		return Rating{}, fmt.Errorf("store survey rating: %w", err)
	}
	return r, nil
}

// FindAudit reads the audit log, oldest first; a study-bound admin reads
// its study's entries only.
func (s *Service) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	p, err := checkPage(Page{Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	f.Limit = p.Limit
	if bound := ActorFrom(ctx).StudyID; bound != "" {
		if f.StudyID != "" && f.StudyID != bound {
			return nil, nil
		}
		f.StudyID = bound
	}
	return s.store.FindAudit(ctx, f)
}

// ratingAudit is what the audit log keeps of a rating: enough to see what
// changed in an amendment (answers, date, version), no more. A map, not a
// tagged struct: the domain carries no serialisation tags.
func ratingAudit(r Rating) any {
	view := map[string]any{"dyad_id": r.DyadID, "session": r.Session, "role": r.Role, "answers": r.Answers, "version": r.Version}
	if r.SessionDate != nil {
		view["session_date"] = r.SessionDate.String()
	}
	return view
}
