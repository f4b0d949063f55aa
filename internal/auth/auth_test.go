package auth_test

import (
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/auth"
)

func TestNewParseVerify(t *testing.T) {
	for _, k := range []auth.Kind{auth.KindKey, auth.KindSurvey, auth.KindDashboard} {
		tok := auth.New(k)
		s := tok.String()
		if !strings.HasPrefix(s, string(k)+"_") {
			t.Errorf("New(%s).String() = %q, want the kind as prefix", k, s)
		}
		got, err := auth.Parse(s)
		if err != nil || got != tok {
			t.Fatalf("Parse(%q) = %+v, %v; want %+v", s, got, err, tok)
		}
		h := auth.Hash(tok.Secret)
		if strings.Contains(h, tok.Secret) || len(h) != 64 {
			t.Errorf("Hash = %q: want a 64-hex SHA-256 that does not contain the secret", h)
		}
		if !auth.Verify(tok.Secret, h) {
			t.Error("Verify(secret, Hash(secret)) = false")
		}
		if auth.Verify(auth.New(k).Secret, h) {
			t.Error("Verify accepted another secret")
		}
	}
}

func TestSecretsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := auth.New(auth.KindKey)
		if seen[tok.Secret] || seen[tok.ID] {
			t.Fatal("New repeated a secret or id")
		}
		seen[tok.Secret], seen[tok.ID] = true, true
	}
}

func TestParseRejects(t *testing.T) {
	good := auth.New(auth.KindKey)
	for _, s := range []string{
		"", "alk_", "alk_x.y", "xyz_" + good.ID + "." + good.Secret, // unknown kind
		"alk_" + good.ID + good.Secret,             // no dot
		"alk_" + good.ID + "." + good.Secret[:20],  // short secret
		"alk_" + good.ID + "." + good.Secret + "A", // long secret
		"alk_" + good.ID[:10] + "." + good.Secret,  // short id
		"alk_" + good.ID + "." + strings.Repeat("*", len(good.Secret)),
	} {
		if _, err := auth.Parse(s); err == nil {
			t.Errorf("Parse(%q) = nil error, want ErrMalformed", s)
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, s := range []string{"admin", "collect", "analyze"} {
		if got, err := auth.ParseScope(s); err != nil || string(got) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "write", "analyse"} {
		if _, err := auth.ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) = nil error, want an error", s)
		}
	}
}
