package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"

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

// Actor kinds. System is the operator at the command line (and start-up);
// Dashboard is a person signed in to the dashboard with an API key.
const (
	ActorSystem    ActorKind = "system"
	ActorKey       ActorKind = "key"
	ActorSurvey    ActorKind = "survey"
	ActorDashboard ActorKind = "dashboard"
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

// readsRatings reports whether the actor may read ratings back.
func (a Actor) readsRatings() bool {
	return a.Has(auth.ScopeAdmin) || a.Has(auth.ScopeAnalyze)
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

// Authenticate resolves a presented bearer token to an actor. Any failure
// is ErrUnauthenticated; so is a dashboard session token, which is a
// cookie's credential only (see AuthenticateUISession). A survey link authenticates whatever its state:
// the survey use cases answer a used, expired or revoked link with
// ErrGone, so a survey page can say so kindly, and a retried submission
// can still get the receipt of the rating it stored.
func (s *Service) Authenticate(ctx context.Context, raw string) (Actor, error) {
	tok, err := auth.Parse(raw)
	if err != nil {
		return Actor{}, ErrUnauthenticated
	}
	switch tok.Kind {
	case auth.KindKey:
		k, err := verified(ctx, tok, s.store.FindKeyByID, func(k Key) string { return k.Hash })
		if err != nil {
			return Actor{}, err
		}
		if k.RevokedAt != nil {
			return Actor{}, fmt.Errorf("key revoked: %w", ErrUnauthenticated)
		}
		return Actor{Kind: ActorKey, ID: k.ID, Scopes: k.Scopes, StudyID: k.StudyID}, nil
	case auth.KindSurvey:
		inv, err := verified(ctx, tok, s.store.FindInvitationByID, func(inv Invitation) string { return inv.Hash })
		if err != nil {
			return Actor{}, err
		}
		return Actor{Kind: ActorSurvey, ID: inv.ID, StudyID: inv.StudyID, Invitation: &inv}, nil
	}
	return Actor{}, ErrUnauthenticated
}

// verified finds the stored credential of tok with find and checks the
// token's secret against its hash: an unknown id or a wrong secret is
// ErrUnauthenticated, other errors are returned as they are.
func verified[T any](ctx context.Context, tok auth.Token, find func(context.Context, string) (T, error), hash func(T) string) (T, error) {
	v, err := find(ctx, tok.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && !auth.Verify(tok.Secret, hash(v))) {
		var zero T
		return zero, ErrUnauthenticated
	}
	return v, err
}
