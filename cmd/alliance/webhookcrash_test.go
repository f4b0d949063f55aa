package main

// Webhook delivery survives kill -9: an event acknowledged while its
// receiver is down stays in the outbox through a kill of the real binary
// and is delivered after the restart, signed, with the same webhook-id on
// every attempt.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/pgtest"
)

func TestWebhookDeliveredAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	webhookKill9(t, filepath.Join(t.TempDir(), "hooks.db"))
}

func TestWebhookDeliveredAfterKill9Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	webhookKill9(t, pgtest.Database(t))
}

// hookReceiver accepts deliveries on addr, checking each signature by the
// Standard Webhooks algorithm written out here, not the service's code.
type hookReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	bodies map[string][]string // webhook-id → bodies received
	types  map[string]string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !strings.Contains(" "+r.Header.Get("webhook-signature")+" ", " "+want+" ") {
		h.t.Errorf("delivery %s: signature %q does not verify", id, r.Header.Get("webhook-signature"))
	}
	var env struct{ Type string }
	_ = json.Unmarshal(body, &env)
	h.mu.Lock()
	h.bodies[id] = append(h.bodies[id], string(body))
	h.types[id] = env.Type
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) count() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, typ := range h.types {
		out[typ]++
	}
	return out
}

func webhookKill9(t *testing.T, db string) {
	bin := binBuild(t)
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	env := []string{"ALLIANCE_SECRET_KEY=" + base64.StdEncoding.EncodeToString(k), "ALLIANCE_WEBHOOK_ALLOW_LOOPBACK=true",
		"ALLIANCE_LOG_LEVEL=debug"}
	// A port for the receiver, closed for now: the receiver is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	s := binStart(t, bin, db, env...)
	var st, d struct{ ID string }
	s.call(t, http.MethodPost, "/v1/studies", map[string]any{"name": "hooks",
		"forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"}}, &st)
	var hook struct{ ID, Secret string }
	s.call(t, http.MethodPost, "/v1/studies/"+st.ID+"/webhooks", map[string]any{"url": "http://" + addr + "/hook",
		"events": []string{"rating.created", "alert.raised"}}, &hook)
	s.call(t, http.MethodPost, "/v1/studies/"+st.ID+"/dyads", map[string]string{"client_code": "C-KILL", "counsellor_code": "K-KILL"}, &d)
	for _, r := range []struct {
		role string
		v    int
	}{{"client", 5}, {"counsellor", 1}} {
		answers := make([]int, 12)
		for i := range answers {
			answers[i] = r.v
		}
		if code := s.call(t, http.MethodPost, "/v1/dyads/"+d.ID+"/ratings", map[string]any{"session": 1, "role": r.role, "answers": answers}, nil); code != http.StatusCreated {
			t.Fatalf("rating = %d", code)
		}
	}
	// Acknowledged: wait until the dispatcher has tried (the receiver is
	// down), then kill -9.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var log struct{ Items []struct{ Error string } }
		s.call(t, http.MethodGet, "/v1/webhooks/"+hook.ID+"/deliveries", nil, &log)
		if len(log.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery attempted within 20 s\n%s", s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()

	rc := &hookReceiver{t: t, secret: hook.Secret, bodies: map[string][]string{}, types: map[string]string{}}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the receiver's port was taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	s = binStart(t, bin, db, env...)
	deadline = time.Now().Add(90 * time.Second) // a lease held at the kill expires after 60 s
	for c := rc.count(); c["rating.created"] < 2 || c["alert.raised"] < 1; c = rc.count() {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the receiver got %v, want 2 rating.created and 1 alert.raised\n%s", c, s.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop(t)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, bodies := range rc.bodies {
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("webhook-id %s was sent with two different bodies", id)
			}
		}
	}
	if c := len(rc.types); c != 3 {
		t.Errorf("received %d distinct events, want 3", c)
	}
	logged := s.fullLog()
	for _, canary := range []string{"C-KILL", "K-KILL", `"subscales"`} {
		if strings.Contains(logged, canary) {
			t.Errorf("the server logged participant data %q", canary)
		}
	}
}
