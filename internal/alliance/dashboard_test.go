package alliance_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestDashboardSessions: an admin or analyze key opens a session whose
// token is a credential of its own kind, acting with the key's scopes and
// study; signing out, expiry and revoking the key each end it, and the
// audit log has the sign-in and the sign-out.
func TestDashboardSessions(t *testing.T) {
	f := newFixture(t)
	_, analyze, err := f.svc.CreateKey(f.ctx, alliance.KeyInput{Name: "analyst", Scopes: []string{"analyze"}, StudyID: f.study.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, collect, err := f.svc.CreateKey(f.ctx, alliance.KeyInput{Name: "tablet", Scopes: []string{"collect"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name, key string
		want      error
	}{
		{"empty", "", alliance.ErrUnauthenticated},
		{"not a key", "hello", alliance.ErrUnauthenticated},
		{"unknown key", "alk_01jd8x2k4m5n6p7q8r9s0t1v2w.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", alliance.ErrUnauthenticated},
		{"collect key", collect, alliance.ErrForbidden},
	} {
		if _, _, err := f.svc.SignIn(f.ctx, bad.key); !errors.Is(err, bad.want) {
			t.Errorf("SignIn(%s) = %v, want %v", bad.name, err, bad.want)
		}
	}

	us, tok, err := f.svc.SignIn(f.ctx, " "+analyze+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := us.ExpiresAt.Sub(us.CreatedAt); got != alliance.UISessionTTL {
		t.Errorf("session lasts %v, want %v", got, alliance.UISessionTTL)
	}
	a, err := f.svc.AuthenticateUISession(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != alliance.ActorDashboard || a.ID != us.ID || a.StudyID != f.study.ID || !a.Has("analyze") || a.Has("admin") {
		t.Errorf("session actor = %+v, want a dashboard actor with the key's scopes and study", a)
	}
	// The token is not an API key, nor a key a session token.
	if _, err := f.svc.Authenticate(f.ctx, tok); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("Authenticate(session token) = %v, want ErrUnauthenticated", err)
	}
	if _, err := f.svc.AuthenticateUISession(f.ctx, analyze); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("AuthenticateUISession(API key) = %v, want ErrUnauthenticated", err)
	}
	if _, err := f.svc.AuthenticateUISession(f.ctx, tok[:len(tok)-2]+"AA"); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("AuthenticateUISession(wrong secret) = %v, want ErrUnauthenticated", err)
	}

	if err := f.svc.SignOut(f.ctx); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("SignOut without a session = %v, want ErrUnauthenticated", err)
	}
	if err := f.svc.SignOut(alliance.WithActor(f.ctx, a)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateUISession(f.ctx, tok); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("AuthenticateUISession after sign-out = %v, want ErrUnauthenticated", err)
	}
	entries, err := f.svc.FindAudit(f.ctx, alliance.AuditFilter{StudyID: f.study.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Resource == "ui_session" {
			actions = append(actions, e.Action+" by "+e.Actor)
		}
	}
	keyID := us.KeyID
	if want := []string{"ui_session.create by key:" + keyID, "ui_session.end by dashboard:" + us.ID}; !slices.Equal(actions, want) {
		t.Errorf("audit = %v, want %v", actions, want)
	}

	// Expiry.
	_, tok2, err := f.svc.SignIn(f.ctx, analyze)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DB().ExecContext(f.ctx, `UPDATE ui_sessions SET expires_at = ?`, time.Now().UTC().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateUISession(f.ctx, tok2); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("AuthenticateUISession(expired) = %v, want ErrUnauthenticated", err)
	}

	// Revoking the key ends its sessions.
	_, tok3, err := f.svc.SignIn(f.ctx, analyze)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeKey(f.ctx, keyID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateUISession(f.ctx, tok3); !errors.Is(err, alliance.ErrUnauthenticated) {
		t.Errorf("AuthenticateUISession(revoked key) = %v, want ErrUnauthenticated", err)
	}
}
