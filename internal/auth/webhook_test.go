package auth_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/auth"
)

// TestSignWebhookVector checks the signature against the test vector of
// the Standard Webhooks reference libraries (and of Svix, where the
// scheme comes from).
func TestSignWebhookVector(t *testing.T) {
	got, err := auth.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		[]byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("SignWebhook = %q, %v; want %q", got, err, want)
	}
	if _, err := auth.SignWebhook("not-a-secret", "msg", 1, nil); err == nil {
		t.Error("a secret without whsec_ signed")
	}
}

func TestNewWebhookSecret(t *testing.T) {
	s := auth.NewWebhookSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) != 32 {
		t.Errorf("NewWebhookSecret = %q (%v): want whsec_ and 32 bytes of base64", s, err)
	}
	if s == auth.NewWebhookSecret() {
		t.Error("two secrets are equal")
	}
}

func TestSecretBox(t *testing.T) {
	key := func() string {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		return base64.StdEncoding.EncodeToString(k)
	}
	box, err := auth.NewSecretBox(key())
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("whsec_abc")
	if strings.Contains(sealed, "abc") || box.Seal("whsec_abc") == sealed {
		t.Errorf("sealed %q shows the secret or repeats its nonce", sealed)
	}
	if got, err := box.Open(sealed); err != nil || got != "whsec_abc" {
		t.Errorf("Open = %q, %v", got, err)
	}
	other, _ := auth.NewSecretBox(key())
	if _, err := other.Open(sealed); err == nil {
		t.Error("another key opened the secret")
	}
	tampered := sealed[:len(sealed)-4] + "AAA="
	if _, err := box.Open(tampered); err == nil {
		t.Error("a tampered secret opened")
	}
	for _, bad := range []string{"", "c2hvcnQ=", strings.Repeat("A", 40)} {
		if _, err := auth.NewSecretBox(bad); err == nil {
			t.Errorf("NewSecretBox(%q) accepted a key that is not 32 bytes", bad)
		}
	}
}
