package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Webhook signing follows the Standard Webhooks specification
// (standardwebhooks.com): a secret "whsec_" + base64(key bytes), and for a
// message with id, timestamp (Unix seconds) and body the signature
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).

// WebhookSecretPrefix starts every webhook signing secret.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret makes a fresh signing secret of 256 random bits.
func NewWebhookSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SignWebhook returns the Standard Webhooks signature ("v1,<base64>") of
// one message under secret.
func SignWebhook(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, WebhookSecretPrefix))
	if err != nil || !strings.HasPrefix(secret, WebhookSecretPrefix) {
		return "", errors.New("auth: not a whsec_ webhook secret")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SecretBox seals secrets the service must use again (webhook signing
// secrets: HMAC needs the secret itself, so a hash will not do) with
// AES-256-GCM under a key given at start-up (ALLIANCE_SECRET_KEY). A
// sealed secret is "v1:" + base64(nonce ‖ ciphertext ‖ tag).
type SecretBox struct {
	aead cipher.AEAD
}

// SecretKeyBytes is the length of the SecretBox key.
const SecretKeyBytes = 32

// NewSecretBox takes a 32-byte key, base64-encoded (standard or URL
// alphabet, padded or not).
func NewSecretBox(keyB64 string) (*SecretBox, error) {
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(strings.TrimSpace(keyB64)); err == nil {
			break
		}
	}
	if err != nil || len(key) != SecretKeyBytes {
		return nil, fmt.Errorf("need %d random bytes, base64-encoded (e.g. `openssl rand -base64 32`)", SecretKeyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

const sealedPrefix = "v1:"

// Seal encrypts secret with a fresh random nonce.
func (b *SecretBox) Seal(secret string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(secret), nil)
	return sealedPrefix + base64.StdEncoding.EncodeToString(out)
}

// Open decrypts a sealed secret; a wrong key or a tampered value fails.
func (b *SecretBox) Open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	n := b.aead.NonceSize()
	if err != nil || !strings.HasPrefix(sealed, sealedPrefix) || len(raw) < n {
		return "", errors.New("auth: not a sealed secret")
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("auth: sealed secret does not open with this key (ALLIANCE_SECRET_KEY changed?)")
	}
	return string(plain), nil
}
