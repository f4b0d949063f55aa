package alliance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/auth"
)

// UISessionTTL is how long a dashboard session lasts after sign-in: a
// working day, after which the person pastes their key again.
const UISessionTTL = 8 * time.Hour

// UISession is a dashboard sign-in as stored: never its token, only the
// hash of the token's secret. It stands for the API key it was opened
// with, whose scopes and study binding it acts with while the key is not
// revoked.
type UISession struct {
	ID        string
	KeyID     string
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	EndedAt   *time.Time
}

// SignIn opens a dashboard session for the holder of an API key with the
// admin or analyze scope. It returns the session and its token, which
// exists nowhere else: the transport hands it to the browser in a cookie
// and the key itself is not kept. A malformed, unknown or revoked key, or
// any credential that is not an API key, is ErrUnauthenticated; a key
// that may not read studies (collect only) is ErrForbidden.
func (s *Service) SignIn(ctx context.Context, rawKey string) (UISession, string, error) {
	rawKey = strings.TrimSpace(rawKey)
	if tok, err := auth.Parse(rawKey); err != nil || tok.Kind != auth.KindKey {
		return UISession{}, "", ErrUnauthenticated
	}
	key, err := s.Authenticate(ctx, rawKey)
	if err != nil {
		return UISession{}, "", err
	}
	if !key.Has(auth.ScopeAdmin) && !key.Has(auth.ScopeAnalyze) {
		return UISession{}, "", fmt.Errorf("the dashboard needs an admin or analyze key: %w", ErrForbidden)
	}
	tok := auth.New(auth.KindDashboard)
	now := s.now()
	us := UISession{ID: tok.ID, KeyID: key.ID, Hash: auth.Hash(tok.Secret), CreatedAt: now, ExpiresAt: now.Add(UISessionTTL)}
	// The key opens the session, so the audit entry names the key.
	entry := s.audit(WithActor(ctx, key), "ui_session.create", "ui_session", us.ID, key.StudyID, "", nil,
		map[string]any{"key_id": key.ID, "expires_at": us.ExpiresAt})
	if err := s.store.CreateUISession(ctx, us, entry); err != nil {
		return UISession{}, "", fmt.Errorf("create dashboard session: %w", err)
	}
	return us, tok.String(), nil
}

// AuthenticateUISession resolves a dashboard session token (from the
// cookie) to an actor of kind ActorDashboard with its key's current scopes
// and study binding. Any failure is ErrUnauthenticated: a malformed or
// unknown token, a wrong secret, an ended or expired session, or a key
// revoked since sign-in.
func (s *Service) AuthenticateUISession(ctx context.Context, raw string) (Actor, error) {
	tok, err := auth.Parse(raw)
	if err != nil || tok.Kind != auth.KindDashboard {
		return Actor{}, ErrUnauthenticated
	}
	us, err := verified(ctx, tok, s.store.FindUISessionByID, func(us UISession) string { return us.Hash })
	if err != nil {
		return Actor{}, err
	}
	if us.EndedAt != nil || !s.now().Before(us.ExpiresAt) {
		return Actor{}, fmt.Errorf("dashboard session ended or expired: %w", ErrUnauthenticated)
	}
	k, err := s.store.FindKeyByID(ctx, us.KeyID)
	if errors.Is(err, ErrNotFound) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	if k.RevokedAt != nil {
		return Actor{}, fmt.Errorf("key of the dashboard session revoked: %w", ErrUnauthenticated)
	}
	return Actor{Kind: ActorDashboard, ID: us.ID, Scopes: k.Scopes, StudyID: k.StudyID}, nil
}

// SignOut ends the dashboard session of the actor of ctx. Any other actor
// is ErrUnauthenticated: there is no session to end.
func (s *Service) SignOut(ctx context.Context) error {
	a := ActorFrom(ctx)
	if a.Kind != ActorDashboard {
		return ErrUnauthenticated
	}
	entry := s.audit(ctx, "ui_session.end", "ui_session", a.ID, a.StudyID, "", nil, nil)
	if err := s.store.EndUISession(ctx, a.ID, s.now(), entry); err != nil {
		return fmt.Errorf("end dashboard session: %w", err)
	}
	return nil
}
