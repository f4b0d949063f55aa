package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/egress"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/webhook"
)

// verify checks a delivery as a receiver would, with its own
// implementation of the Standard Webhooks algorithm (not the service's):
// HMAC-SHA256 keyed with the base64-decoded part of the whsec_ secret, over
// id.timestamp.body, base64, compared with each "v1," signature; the
// timestamp must be within five minutes.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return errors.New("webhook-id or webhook-timestamp missing")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q outside the tolerance", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, value, _ := strings.Cut(sig, ",")
		if version == "v1" && hmac.Equal([]byte(value), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature in %q", h.Get("webhook-signature"))
}

// received is one delivery a receiver accepted or refused.
type received struct {
	id, typ string
	status  int
	data    map[string]any
	header  http.Header
}

// receiver is a webhook endpoint on loopback that verifies every delivery
// with secret (set once the endpoint is registered) and answers with the
// status answer returns.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret []string // any of them must verify
	got    []received
	answer func(n int, id string) int
	// inflight counts concurrent deliveries per webhook-id.
	inflight map[string]int
	overlaps int
}

func newReceiver(t *testing.T, answer func(n int, id string) int) *receiver {
	r := &receiver{t: t, answer: answer, inflight: map[string]int{}}
	if r.answer == nil {
		r.answer = func(int, string) int { return http.StatusNoContent }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.inflight[id]++
	if r.inflight[id] > 1 {
		r.overlaps++
	}
	secrets := append([]string(nil), r.secret...)
	n := 0
	for _, g := range r.got {
		if g.id == id {
			n++
		}
	}
	r.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // long enough for a second sender to overlap
	for _, s := range secrets {
		if err := verify(s, req.Header, body); err != nil {
			r.t.Errorf("delivery %s: %v", id, err)
		}
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("delivery %s: body is not the envelope: %v", id, err)
	}
	var data map[string]any
	_ = json.Unmarshal(p.Data, &data)
	status := r.answer(n, id)
	r.mu.Lock()
	r.inflight[id]--
	r.got = append(r.got, received{id: id, typ: p.Type, status: status, data: data, header: req.Header.Clone()})
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) setSecret(s ...string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

var quiet = slog.New(slog.DiscardHandler)

// world is a service with webhooks over a migrated store.
type world struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	svc   *alliance.Service
	box   *auth.SecretBox
	study alliance.Study
	dyad  alliance.Dyad
}

func newBox(t *testing.T) *auth.SecretBox {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	box, err := auth.NewSecretBox(base64.StdEncoding.EncodeToString(k))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func open(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return st
}

func newWorld(t *testing.T, url string, box *auth.SecretBox) *world {
	t.Helper()
	if url == "" {
		url = filepath.Join(t.TempDir(), "w.db")
	}
	w := &world{t: t, ctx: context.Background(), st: open(t, url), box: box}
	w.svc = alliance.NewService(w.st, instrument.Builtin())
	w.svc.ConfigureWebhooks(alliance.WebhookOptions{SecretBox: box, AllowLoopback: true})
	var err error
	if w.study, err = w.svc.CreateStudy(w.ctx, alliance.StudyInput{Name: "hooks", ClientForm: "wai_sr_client", CounsellorForm: "wai_sr_therapist"}); err != nil {
		t.Fatal(err)
	}
	if w.dyad, err = w.svc.CreateDyad(w.ctx, w.study.ID, alliance.DyadInput{ClientCode: "C-HOOK", CounsellorCode: "K-HOOK"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) hook(url string, includeAnswers bool, events ...string) (alliance.WebhookEndpoint, string) {
	w.t.Helper()
	if events == nil {
		events = alliance.EventTypes
	}
	ep, secret, err := w.svc.CreateWebhook(w.ctx, w.study.ID, alliance.WebhookInput{URL: url, Events: events, IncludeAnswers: includeAnswers})
	if err != nil {
		w.t.Fatal(err)
	}
	return ep, secret
}

// listen registers a verifying receiver for events (nil: all) and returns
// it.
func (w *world) listen(includeAnswers bool, events ...string) *receiver {
	w.t.Helper()
	rc := newReceiver(w.t, nil)
	_, secret := w.hook(rc.srv.URL, includeAnswers, events...)
	rc.setSecret(secret)
	return rc
}

func (w *world) rate(session int, role alliance.Role, v float64) alliance.Rating {
	w.t.Helper()
	answers := make([]*float64, 12)
	for i := range answers {
		answers[i] = &v
	}
	r, _, err := w.svc.SubmitRating(w.ctx, w.dyad.ID, alliance.RatingInput{Session: &session, Role: string(role), Answers: answers}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// dispatcher makes a dispatcher with fast retries that may reach the
// loopback receivers (unless the test says otherwise with deny).
func (w *world) dispatcher(o webhook.Options, deny ...bool) *webhook.Dispatcher {
	o.Box = w.box
	o.Policy = egress.Policy{AllowLoopback: len(deny) == 0}
	if o.BaseDelay == 0 {
		o.BaseDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	}
	return webhook.New(w.st, o)
}

// until runs rounds of d until done says so or 10 s pass.
func until(t *testing.T, d *webhook.Dispatcher, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("the deliveries did not arrive within 10 s")
		}
		if _, err := d.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeliverySignedAndPseudonymous: the events of a rating write and the
// alert it raises arrive signed as the spec says, with codes and scores
// and no answers.
func TestDeliverySignedAndPseudonymous(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := w.listen(false)
	w.rate(1, alliance.RoleClient, 5)
	w.rate(1, alliance.RoleCounsellor, 3) // divergence 2.0: client higher
	d := w.dispatcher(webhook.Options{})
	until(t, d, func() bool { return len(rc.all()) >= 3 })
	types := map[string]int{}
	for _, g := range rc.all() {
		types[g.typ]++
		if _, ok := g.data["answers"]; ok {
			t.Errorf("%s carries answers without the endpoint's opt-in", g.typ)
		}
		if g.data["client_code"] != "C-HOOK" {
			t.Errorf("%s: client_code = %v, want the dyad's code", g.typ, g.data["client_code"])
		}
		if !strings.HasPrefix(g.id, "msg_") {
			t.Errorf("webhook-id %q", g.id)
		}
	}
	if types["rating.created"] != 2 || types["alert.raised"] != 1 {
		t.Fatalf("received %v, want 2 rating.created and 1 alert.raised", types)
	}
	for _, g := range rc.all() {
		if g.typ == "alert.raised" && (g.data["kind"] != "divergence" || g.data["direction"] != "client_higher") {
			t.Errorf("alert.raised data = %v", g.data)
		}
	}
}

// TestAlertLifecycleEvents: an alert is announced when raised, when
// acknowledged (the alert resource as GET shows it, with who) and when a
// write resolves it, so that a dashboard fed by webhooks alone never
// shows a resolved alert as open.
func TestAlertLifecycleEvents(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := w.listen(false, alliance.EventAlertRaised, alliance.EventAlertAcknowledged, alliance.EventAlertResolved)
	w.rate(1, alliance.RoleClient, 5)
	w.rate(1, alliance.RoleCounsellor, 3) // divergence 2.0
	alerts, err := w.svc.FindAlerts(w.ctx, alliance.AlertFilter{DyadID: w.dyad.ID})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %+v, %v; want the divergence", alerts, err)
	}
	div := alerts[0]
	if _, err := w.svc.AcknowledgeAlert(w.ctx, div.ID); err != nil {
		t.Fatal(err)
	}
	five, s1 := 5.0, 1
	answers := make([]*float64, 12)
	for i := range answers {
		answers[i] = &five
	}
	amended, _, err := w.svc.AmendRating(w.ctx, w.dyad.ID, alliance.RatingInput{Session: &s1, Role: "counsellor", Answers: answers}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := w.dispatcher(webhook.Options{})
	until(t, d, func() bool { return len(rc.all()) >= 3 })
	byType := map[string]map[string]any{}
	for _, g := range rc.all() {
		byType[g.typ] = g.data
	}
	if ack := byType[alliance.EventAlertAcknowledged]; ack == nil || ack["id"] != div.ID || ack["acknowledged_at"] == nil || ack["acknowledged_by"] == nil {
		t.Errorf("alert.acknowledged data = %v, want the alert with acknowledged_at and acknowledged_by", ack)
	}
	res := byType[alliance.EventAlertResolved]
	if res == nil || res["id"] != div.ID || res["kind"] != "divergence" || res["state"] != "resolved" ||
		res["resolved_reason"] != alliance.ResolvedAmended || res["resolved_by"] != amended.ID || res["client_code"] != "C-HOOK" {
		t.Errorf("alert.resolved data = %v, want the divergence resolved by amendment %s", res, amended.ID)
	}
}

// TestRetryUntilDelivered: a receiver that fails 3 times gets the event a
// fourth time, with the same webhook-id every time, and then no more; the
// delivery log shows all four attempts.
func TestRetryUntilDelivered(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := newReceiver(t, func(n int, _ string) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	ep, secret := w.hook(rc.srv.URL, false, alliance.EventRatingCreated)
	rc.setSecret(secret)
	w.rate(1, alliance.RoleClient, 4)
	d := w.dispatcher(webhook.Options{})
	until(t, d, func() bool { return len(rc.all()) >= 4 })
	for range 5 { // nothing more is due
		if _, err := d.Round(w.ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	got := rc.all()
	if len(got) != 4 {
		t.Fatalf("the event arrived %d times, want 4 (3 refused, 1 accepted)", len(got))
	}
	for _, g := range got {
		if g.id != got[0].id {
			t.Errorf("webhook-id changed across retries: %s, %s", got[0].id, g.id)
		}
	}
	log, err := w.svc.WebhookAttempts(w.ctx, ep.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 4 || log[0].Status != 200 || log[3].Status != 503 || log[0].Attempt != 4 {
		t.Errorf("delivery log = %+v, want 4 attempts, newest (200) first", log)
	}
	for _, a := range log { // stamped as every other time of the service
		if a.At.Nanosecond()%1000 != 0 {
			t.Errorf("attempt %d at %s: finer than a microsecond", a.Attempt, a.At.Format(time.RFC3339Nano))
		}
	}
	if ep, _ = w.svc.FindWebhook(w.ctx, ep.ID); ep.ConsecutiveFailures != 0 || ep.DisabledAt != nil {
		t.Errorf("endpoint after success = %+v, want enabled with no failures", ep)
	}
}

// TestHangingReceiverDelaysOnlyItself: while one endpoint's receiver
// holds every request it gets, the dispatcher keeps at most PerEndpoint of
// them in flight and goes on delivering to the other endpoint. A round of
// claimed deliveries, waited for whole, once held every endpoint behind
// one that hung (a minute for 24 events, found from outside).
func TestHangingReceiverDelaysOnlyItself(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	release := make(chan struct{})
	var mu sync.Mutex
	var holding, peak, held int
	stuck := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		holding, held = holding+1, held+1
		peak = max(peak, holding)
		mu.Unlock()
		<-release
		mu.Lock()
		holding--
		mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	free := sync.OnceFunc(func() { close(release) })
	t.Cleanup(stuck.Close)
	t.Cleanup(free) // before Close, which waits for the handlers
	w.hook(stuck.URL, false, alliance.EventRatingCreated)
	rc := w.listen(false, alliance.EventRatingCreated)
	const n = 12
	for s := 1; s <= n; s++ {
		w.rate(s, alliance.RoleClient, 4)
	}
	d := w.dispatcher(webhook.Options{Interval: 5 * time.Millisecond, Concurrency: 4, PerEndpoint: 2, Timeout: time.Minute, Lease: 2 * time.Minute})
	ctx, cancel := context.WithCancel(w.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.all()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	gotPeak, gotHeld := peak, held
	mu.Unlock()
	if got := len(rc.all()); got != n {
		t.Errorf("the healthy endpoint received %d of %d events while the other hung", got, n)
	}
	if gotHeld == 0 || gotPeak > 2 {
		t.Errorf("the hanging endpoint held %d requests, at most %d at once; want some, never more than PerEndpoint (2)", gotHeld, gotPeak)
	}
	free()
	cancel()
	wg.Wait()
}

// TestGiveUpDisablesEndpoint: after the retry window the delivery fails
// for good and the endpoint is disabled, visibly; enabling it again
// delivers what waited.
func TestGiveUpDisablesEndpoint(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	var healthy sync.Mutex
	down := true
	rc := newReceiver(t, func(int, string) int {
		healthy.Lock()
		defer healthy.Unlock()
		if down {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	ep, secret := w.hook(rc.srv.URL, false, alliance.EventRatingCreated)
	rc.setSecret(secret)
	w.rate(1, alliance.RoleClient, 4)
	d := w.dispatcher(webhook.Options{RetryWindow: 50 * time.Millisecond})
	until(t, d, func() bool {
		ep, _ = w.svc.FindWebhook(w.ctx, ep.ID)
		return ep.DisabledAt != nil
	})
	if !strings.Contains(ep.DisabledReason, "kept failing") || ep.ConsecutiveFailures < 1 {
		t.Errorf("disabled endpoint = %+v, want the reason and the failure count", ep)
	}
	healthy.Lock()
	down = false
	healthy.Unlock()
	on := true
	if _, err := w.svc.UpdateWebhook(w.ctx, ep.ID, alliance.WebhookUpdate{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	until(t, d, func() bool {
		for _, g := range rc.all() {
			if g.status == http.StatusOK {
				return true
			}
		}
		return false
	})
}

// TestGoneDisablesAtOnce: a receiver that answers 410 Gone says it no
// longer takes deliveries: the endpoint is disabled at the first such
// answer (with the default day of retries, not after it), the event is
// kept, and enabling the endpoint delivers it.
func TestGoneDisablesAtOnce(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	var mu sync.Mutex
	gone := true
	rc := newReceiver(t, func(int, string) int {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return http.StatusGone
		}
		return http.StatusNoContent
	})
	ep, secret := w.hook(rc.srv.URL, false, alliance.EventRatingCreated)
	rc.setSecret(secret)
	w.rate(1, alliance.RoleClient, 4)
	d := w.dispatcher(webhook.Options{})
	until(t, d, func() bool {
		ep, _ = w.svc.FindWebhook(w.ctx, ep.ID)
		return ep.DisabledAt != nil
	})
	if n := len(rc.all()); n != 1 || !strings.Contains(ep.DisabledReason, "410 Gone") {
		t.Errorf("after %d attempts the endpoint is %+v; want it disabled after the first, saying 410 Gone", n, ep)
	}
	mu.Lock()
	gone = false
	mu.Unlock()
	on := true
	if _, err := w.svc.UpdateWebhook(w.ctx, ep.ID, alliance.WebhookUpdate{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	until(t, d, func() bool {
		got := rc.all()
		return len(got) == 2 && got[1].status == http.StatusNoContent && got[1].id == got[0].id
	})
}

// TestRotationSignsWithBoth: during a rotation's overlap every delivery
// carries a signature under each secret, so a receiver holding either
// verifies it.
func TestRotationSignsWithBoth(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := newReceiver(t, nil)
	ep, old := w.hook(rc.srv.URL, false, alliance.EventRatingCreated)
	_, fresh, err := w.svc.RotateWebhookSecret(w.ctx, ep.ID, "1h")
	if err != nil {
		t.Fatal(err)
	}
	w.rate(1, alliance.RoleClient, 4)
	d := w.dispatcher(webhook.Options{})
	for _, s := range []string{old, fresh} {
		rc.setSecret(s) // each alone must verify
		n := len(rc.all())
		w.rate(n+2, alliance.RoleClient, 4)
		until(t, d, func() bool { return len(rc.all()) >= n+1 })
	}
	if sigs := strings.Fields(rc.all()[0].header.Get("webhook-signature")); len(sigs) != 2 {
		t.Errorf("signatures during the overlap = %v, want two", sigs)
	}
}

// TestIncludeAnswersOptIn: an endpoint that opted in gets the rating's
// answers; the stored event never holds them.
func TestIncludeAnswersOptIn(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := w.listen(true, alliance.EventRatingCreated)
	w.rate(1, alliance.RoleClient, 4)
	until(t, w.dispatcher(webhook.Options{}), func() bool { return len(rc.all()) >= 1 })
	if a, ok := rc.all()[0].data["answers"].([]any); !ok || len(a) != 12 {
		t.Errorf("answers = %v, want the 12 answers", rc.all()[0].data["answers"])
	}
	var stored string
	if err := w.st.DB().QueryRow(`SELECT payload FROM outbox_events WHERE type = 'rating.created'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, "answers") {
		t.Errorf("the outbox stores answers: %s", stored)
	}
}

// TestDialTimeEgressCheck: an endpoint whose host resolves to a refused
// address when it is dialled (as after DNS rebinding) is never reached:
// the check runs on the IP being connected to. Redirects are not
// followed either.
func TestDialTimeEgressCheck(t *testing.T) {
	w := newWorld(t, "", newBox(t))
	rc := newReceiver(t, nil)
	_, secret := w.hook(strings.Replace(rc.srv.URL, "127.0.0.1", "localhost", 1), false, alliance.EventRatingCreated)
	rc.setSecret(secret)
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, target.srv.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	_, _ = w.hook(redirect.URL, false, alliance.EventRatingCreated)
	w.rate(1, alliance.RoleClient, 4)
	// This dispatcher does not allow loopback: both were registered by a
	// service that did (development), and are refused at dial time.
	d := w.dispatcher(webhook.Options{}, true)
	if _, err := d.Round(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.all()); n != 0 {
		t.Errorf("the refused endpoint was reached %d times", n)
	}
	hooks, _ := w.svc.FindWebhooks(w.ctx, w.study.ID)
	for _, h := range hooks {
		log, _ := w.svc.WebhookAttempts(w.ctx, h.ID, 5)
		if len(log) != 1 || !strings.Contains(log[0].Error, "egress policy") {
			t.Errorf("%s: attempts %+v, want one refused by the egress policy", h.URL, log)
		}
	}
	// With loopback allowed, the redirect is answered but not followed.
	d = w.dispatcher(webhook.Options{})
	for range 3 {
		time.Sleep(30 * time.Millisecond)
		if _, err := d.Round(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(target.all()); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}
}

// TestTwoDispatchersPostgres runs two instances' dispatchers on one
// PostgreSQL database at once: every event is delivered exactly once, and
// never by both at the same time.
func TestTwoDispatchersPostgres(t *testing.T) {
	url := pgtest.Database(t)
	box := newBox(t)
	w := newWorld(t, url, box)
	other := open(t, url)
	rc := w.listen(false, alliance.EventRatingCreated)
	const n = 40
	for s := 1; s <= n; s++ {
		w.rate(s, alliance.RoleClient, 4)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, st := range []webhook.Store{w.st, other} {
		d := webhook.New(st, webhook.Options{Box: box, Policy: egress.Policy{AllowLoopback: true}, Interval: 5 * time.Millisecond,
			Batch: 3, Concurrency: 2, Owner: fmt.Sprintf("instance-%d", i)})
		wg.Go(func() { d.Run(ctx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.all()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	cancel()
	wg.Wait()
	seen := map[string]int{}
	for _, g := range rc.all() {
		seen[g.id]++
	}
	if len(seen) != n || len(rc.all()) != n {
		t.Errorf("received %d deliveries of %d events, want each of %d once", len(rc.all()), len(seen), n)
	}
	if rc.overlaps > 0 {
		t.Errorf("%d deliveries overlapped with another of the same event", rc.overlaps)
	}
}

// TestBackoff grows by 3 from BaseDelay, within ±20%, up to MaxDelay.
func TestBackoff(t *testing.T) {
	d := webhook.New(nil, webhook.Options{BaseDelay: time.Second, MaxDelay: time.Minute})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 3 * time.Second, 3: 9 * time.Second, 10: time.Minute} {
		for range 20 {
			got := d.Backoff(n)
			if got < want*8/10 || got > want*12/10 {
				t.Errorf("Backoff(%d) = %v, want %v ± 20%%", n, got, want)
			}
		}
	}
	// The default schedule retries for the whole window: 24 h.
	def := webhook.New(nil, webhook.Options{})
	var total time.Duration
	n := 0
	for total < webhook.DefaultRetryWindow {
		n++
		total += def.Backoff(n)
	}
	if n < 10 || n > 60 {
		t.Errorf("the default schedule makes %d attempts in 24 h", n)
	}
}
