// Package auth makes and checks the service's secrets: API keys,
// one-time survey tokens and dashboard session tokens. A secret is shown to its owner once and stored
// only as a SHA-256 hash; a 256-bit random secret needs no slow hash,
// because there is nothing to guess from.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
)

// Kind says what a credential grants: an API key, a survey token or a
// dashboard session.
type Kind string

// Credential kinds, also the public prefix of their tokens, so a leaked
// secret is recognisable (and secret scanners can be taught the prefix).
// A dashboard session token lives only in an HttpOnly cookie.
const (
	KindKey       Kind = "alk"
	KindSurvey    Kind = "als"
	KindDashboard Kind = "ald"
)

// Scope is a permission an API key carries.
type Scope string

// The scopes: admin sets studies up, collect submits ratings, analyze
// reads scores, agreement and exports, alerts reads and acknowledges
// alerts (a clinical dashboard) and nothing else: no answers, no scores
// beyond the figures of an alert.
const (
	ScopeAdmin   Scope = "admin"
	ScopeCollect Scope = "collect"
	ScopeAnalyze Scope = "analyze"
	ScopeAlerts  Scope = "alerts"
)

// ParseScope accepts exactly the four scope names.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(s); sc {
	case ScopeAdmin, ScopeCollect, ScopeAnalyze, ScopeAlerts:
		return sc, nil
	}
	return "", fmt.Errorf("unknown scope %q: use admin, collect, analyze or alerts", s)
}

// secretBytes is 256 bits of randomness per secret.
const secretBytes = 32

// ErrMalformed is returned for a token that is not one of ours.
var ErrMalformed = errors.New("malformed credential")

// Token is a parsed credential: kind, public id and secret. The id finds
// the stored hash; the secret is compared with it.
type Token struct {
	Kind   Kind
	ID     string
	Secret string
}

// String is the token as the owner writes it: kind_id.secret.
func (t Token) String() string { return string(t.Kind) + "_" + t.ID + "." + t.Secret }

// New makes a fresh credential of kind k with a time-ordered public id.
func New(k Kind) Token {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return Token{Kind: k, ID: strings.ToLower(ulid.Make().String()), Secret: base64.RawURLEncoding.EncodeToString(b)}
}

// Parse splits a presented token. It checks the shape only; Verify checks
// the secret against the stored hash.
func Parse(s string) (Token, error) {
	kind, rest, ok := strings.Cut(s, "_")
	if !ok || (Kind(kind) != KindKey && Kind(kind) != KindSurvey && Kind(kind) != KindDashboard) {
		return Token{}, ErrMalformed
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || len(id) != 26 || len(secret) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return Token{}, ErrMalformed
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return Token{}, ErrMalformed
	}
	return Token{Kind: Kind(kind), ID: id, Secret: secret}, nil
}

// Hash is what the database keeps of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Verify compares a presented secret with a stored hash in constant time.
func Verify(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(Hash(secret)), []byte(hash)) == 1
}
