// Package webhook delivers the outbox's events to the webhook endpoints
// of their studies, signed as the Standard Webhooks specification says
// (standardwebhooks.com), at least once.
//
// A Dispatcher runs in `alliance serve`. It fans new outbox events out
// into one delivery per subscribed endpoint, leases due deliveries (so no
// other dispatcher, on this instance or another on the same PostgreSQL,
// sends them at the same time) as its workers come free, POSTs them and
// records each attempt. An endpoint has at most PerEndpoint deliveries in
// flight from one dispatcher, so a receiver that hangs holds that many
// workers and no more: the other studies' deliveries go on. A failed delivery is retried with exponential backoff and
// jitter until its retry window (24 h by default) has passed; then the
// endpoint is disabled, visibly on its resource. A process killed during a
// delivery leaves a lease that expires, and the delivery is made again:
// receivers deduplicate by the webhook-id header, which is the event's id
// and the same on every attempt and replay.
//
// Every connection goes through the egress policy, checked on the IP
// being dialled; redirects are not followed; requests time out and at
// most MaxResponseBytes of a response are read. Payloads are never
// logged.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/egress"
)

// Store is what the dispatcher needs of the database.
type Store interface {
	FanOutEvents(ctx context.Context, now time.Time, limit int) (int, error)
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int, skip []string) ([]alliance.Delivery, error)
	ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error
	FinishDelivery(ctx context.Context, o alliance.DeliveryOutcome) error
	FindRatingByID(ctx context.Context, id string) (alliance.Rating, error)
}

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// Box opens the endpoints' sealed signing secrets (required).
	Box *auth.SecretBox
	// Policy is the egress policy every connection is checked against.
	Policy egress.Policy
	Log    *slog.Logger
	// Interval between rounds when there is nothing to do (1 s).
	Interval time.Duration
	// Lease is how long a claimed delivery is held (60 s); it must exceed
	// Timeout.
	Lease time.Duration
	// Timeout bounds one request, connection to last byte read (10 s).
	Timeout time.Duration
	// BaseDelay is the first retry delay (5 s); each next one is 3 times
	// longer, up to MaxDelay (1 h), each with ±20% jitter.
	BaseDelay, MaxDelay time.Duration
	// RetryWindow is how long a delivery is retried (24 h).
	RetryWindow time.Duration
	// Concurrency is how many deliveries are in flight at once (8), of
	// which PerEndpoint (2) to one endpoint; Batch how many Round claims
	// (20).
	Concurrency, PerEndpoint, Batch int
	// MaxResponseBytes of a response body are read (64 KiB).
	MaxResponseBytes int64
	// Owner names this dispatcher's leases (default: host, pid, random).
	Owner string
	Now   func() time.Time
}

// Defaults.
const (
	DefaultInterval    = time.Second
	DefaultLease       = 60 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultBaseDelay   = 5 * time.Second
	DefaultMaxDelay    = time.Hour
	DefaultRetryWindow = 24 * time.Hour
)

// Dispatcher delivers outbox events to webhook endpoints.
type Dispatcher struct {
	st     Store
	o      Options
	client *http.Client
	wake   chan struct{}
}

// New makes a dispatcher over st.
func New(st Store, o Options) *Dispatcher {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Interval, DefaultInterval)
	def(&o.Lease, DefaultLease)
	def(&o.Timeout, DefaultTimeout)
	def(&o.BaseDelay, DefaultBaseDelay)
	def(&o.MaxDelay, DefaultMaxDelay)
	def(&o.RetryWindow, DefaultRetryWindow)
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.PerEndpoint <= 0 {
		o.PerEndpoint = 2
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 64 << 10
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) } // as the service stamps times, and PostgreSQL keeps them
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return &Dispatcher{st: st, o: o, client: NewClient(o.Policy, o.Timeout), wake: make(chan struct{}, 1)}
}

// NewClient is the HTTP client of deliveries: every connection checked by
// the egress policy at dial time, no proxy, no redirects followed, and
// timeouts on every phase.
func NewClient(p egress.Policy, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the policy
		DialContext:           p.Dialer(5 * time.Second).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Wake asks for a round now (a write just stored events).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the deliveries in flight
// (at most Timeout) and returns. It claims due deliveries whenever a
// worker is free, never waiting for a whole batch, and skips the
// endpoints that have PerEndpoint deliveries in flight: one receiver
// that hangs delays its own deliveries, not the other endpoints'.
func (d *Dispatcher) Run(ctx context.Context) {
	d.o.Log.Info("webhook dispatcher started", "owner", d.o.Owner)
	defer d.o.Log.Info("webhook dispatcher stopped")
	// In-flight deliveries finish even when ctx ends (shutdown): their
	// own timeout bounds them, and their outcome is recorded.
	dctx := context.WithoutCancel(ctx)
	done := make(chan string, d.o.Concurrency)
	inflight := map[string]int{} // endpoint id → deliveries in flight
	running := 0
	finished := func(endpoint string) {
		running--
		if inflight[endpoint]--; inflight[endpoint] <= 0 {
			delete(inflight, endpoint)
		}
	}
	defer func() {
		for running > 0 {
			finished(<-done)
		}
	}()
	fanOut := true
	for {
		free := d.o.Concurrency - running
		more := false
		if free > 0 {
			ds, claimed, err := d.claim(ctx, fanOut, free, inflight)
			if ctx.Err() != nil {
				d.release(dctx, ds) // not to wait for their leases after a restart
				return
			}
			if err != nil {
				d.o.Log.Warn("webhook round failed; retrying", "err", err)
			}
			for _, dl := range ds {
				running++
				inflight[dl.Endpoint.ID]++
				go func() {
					d.deliver(dctx, dl)
					done <- dl.Endpoint.ID
				}()
			}
			more = err == nil && claimed == free && running < d.o.Concurrency
		}
		fanOut = false
		if more {
			continue // more may be due
		}
		t := time.NewTimer(d.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case endpoint := <-done:
			t.Stop()
			finished(endpoint)
		case <-d.wake:
			t.Stop()
			fanOut = true
		case <-t.C:
			fanOut = true
		}
	}
}

// claim fans new events out (when fanOut) and claims up to limit due
// deliveries of the endpoints with fewer than PerEndpoint in flight. Of
// the claimed ones, those that would take an endpoint past PerEndpoint
// are given back at once; claimed counts them too.
func (d *Dispatcher) claim(ctx context.Context, fanOut bool, limit int, inflight map[string]int) (start []alliance.Delivery, claimed int, err error) {
	now := d.o.Now()
	if fanOut {
		if err := d.fanOut(ctx, now); err != nil {
			return nil, 0, err
		}
	}
	var full []string
	for id, n := range inflight {
		if n >= d.o.PerEndpoint {
			full = append(full, id)
		}
	}
	ds, err := d.st.ClaimDeliveries(ctx, d.o.Owner, now, now.Add(d.o.Lease), limit, full)
	if err != nil {
		return nil, 0, fmt.Errorf("claim deliveries: %w", err)
	}
	taken := maps.Clone(inflight)
	var back []int64
	for _, dl := range ds {
		if taken[dl.Endpoint.ID] >= d.o.PerEndpoint {
			back = append(back, dl.ID)
			continue
		}
		taken[dl.Endpoint.ID]++
		start = append(start, dl)
	}
	if err := d.st.ReleaseDeliveries(ctx, d.o.Owner, back); err != nil {
		// Their leases expire instead, and they are made then.
		return start, len(ds), fmt.Errorf("release deliveries: %w", err)
	}
	return start, len(ds), nil
}

// release gives claimed deliveries back unattempted; if that fails their
// leases expire instead.
func (d *Dispatcher) release(ctx context.Context, ds []alliance.Delivery) {
	ids := make([]int64, len(ds))
	for i, dl := range ds {
		ids[i] = dl.ID
	}
	if err := d.st.ReleaseDeliveries(ctx, d.o.Owner, ids); err != nil {
		d.o.Log.Warn("giving back webhook deliveries failed; they are made when their leases expire", "err", err)
	}
}

// fanOut turns every new outbox event into its deliveries.
func (d *Dispatcher) fanOut(ctx context.Context, now time.Time) error {
	for {
		n, err := d.st.FanOutEvents(ctx, now, 200)
		if err != nil {
			return fmt.Errorf("fan out events: %w", err)
		}
		if n < 200 {
			return nil
		}
	}
}

// Round makes one pass and waits for it: fans new events out, claims up
// to Batch due deliveries (PerEndpoint does not apply) and makes them,
// Concurrency at a time; it returns how many it attempted. Tests use it
// to step a dispatcher; Run does not.
func (d *Dispatcher) Round(ctx context.Context) (int, error) {
	now := d.o.Now()
	if err := d.fanOut(ctx, now); err != nil {
		return 0, err
	}
	ds, err := d.st.ClaimDeliveries(ctx, d.o.Owner, now, now.Add(d.o.Lease), d.o.Batch, nil)
	if err != nil {
		return 0, fmt.Errorf("claim deliveries: %w", err)
	}
	dctx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.o.Concurrency)
	for _, dl := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d.deliver(dctx, dl)
		})
	}
	wg.Wait()
	return len(ds), nil
}

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, dl alliance.Delivery) {
	start := d.o.Now()
	status, err := d.send(ctx, dl, start)
	o := alliance.DeliveryOutcome{Delivery: dl, Owner: d.o.Owner, At: d.o.Now(), Status: status, Latency: d.o.Now().Sub(start)}
	switch {
	case err == nil:
		o.Delivered = true
	default:
		o.Error = err.Error()
		if len(o.Error) > 300 {
			o.Error = o.Error[:300]
		}
		if status == http.StatusGone {
			// The receiver says it is gone for good: retrying for a day
			// would only knock on its door. Disabled at once; its events
			// wait, and are sent when it is enabled again.
			o.GiveUp = true
			o.DisableReason = "the receiver answered 410 Gone: it no longer takes deliveries; enable the endpoint again (PATCH with enabled: true) when it does"
		} else if !o.At.Before(dl.RetryFrom.Add(d.o.RetryWindow)) {
			o.GiveUp = true
			o.DisableReason = fmt.Sprintf("deliveries kept failing for %s; fix the receiver, then enable the endpoint again (PATCH with enabled: true)", d.o.RetryWindow)
		} else {
			o.NextAttemptAt = o.At.Add(d.Backoff(dl.Attempts + 1))
		}
	}
	// The log names the endpoint, event and outcome, never the payload.
	lvl := slog.LevelDebug
	if !o.Delivered {
		lvl = slog.LevelInfo
	}
	d.o.Log.Log(ctx, lvl, "webhook delivery", "endpoint", dl.Endpoint.ID, "event", dl.Event.ID, "type", dl.Event.Type,
		"attempt", dl.Attempts+1, "status", status, "delivered", o.Delivered, "gave_up", o.GiveUp)
	if err := d.st.FinishDelivery(ctx, o); err != nil {
		d.o.Log.Warn("recording a webhook delivery failed; it will be made again", "endpoint", dl.Endpoint.ID, "event", dl.Event.ID, "err", err)
	}
}

// Backoff is the delay before attempt n+1 after n failed ones:
// BaseDelay·3^(n−1), at most MaxDelay, times a random factor in [0.8, 1.2].
func (d *Dispatcher) Backoff(n int) time.Duration {
	base := float64(d.o.BaseDelay) * math.Pow(3, float64(max(n, 1)-1))
	base = math.Min(base, float64(d.o.MaxDelay))
	return time.Duration(base * (0.8 + 0.4*mrand.Float64()))
}

// ErrStatus is a delivery answered with a status other than 2xx.
var ErrStatus = errors.New("receiver answered with a non-2xx status")

// send POSTs the event once; nil error means a 2xx answer.
func (d *Dispatcher) send(ctx context.Context, dl alliance.Delivery, now time.Time) (int, error) {
	body, err := d.payload(ctx, dl)
	if err != nil {
		return 0, err
	}
	ts := now.Unix()
	var sigs []string
	for i, sealed := range dl.Endpoint.Signing(now) {
		secret, err := d.o.Box.Open(sealed)
		if err != nil && i > 0 {
			continue // a previous secret sealed under an earlier key: the current one signs
		}
		if err != nil {
			return 0, err
		}
		sig, err := auth.SignWebhook(secret, dl.Event.ID, ts, body)
		if err != nil {
			return 0, err
		}
		sigs = append(sigs, sig)
	}
	rctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, dl.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the endpoint URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "alliance-webhooks/1")
	req.Header.Set("webhook-id", dl.Event.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, errors.New(cause(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, d.o.MaxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%w: %d", ErrStatus, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// cause is a transport error without the URL net/http wraps it in.
func cause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, egress.ErrRefused) {
		return "refused by the egress policy: " + err.Error()
	}
	return err.Error()
}

// Payload is the body of a delivery: the Standard Webhooks envelope
// {"type", "timestamp", "data"}.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// payload renders the event's envelope; for an endpoint that opted in,
// a rating event's data gets the answers of the rating version it names.
func (d *Dispatcher) payload(ctx context.Context, dl alliance.Delivery) ([]byte, error) {
	data := json.RawMessage(dl.Event.Data)
	if dl.Endpoint.IncludeAnswers && strings.HasPrefix(dl.Event.Type, "rating.") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("event data: %w", err)
		}
		var id string
		if err := json.Unmarshal(m["rating_id"], &id); err != nil {
			return nil, fmt.Errorf("event data: rating_id: %w", err)
		}
		r, err := d.st.FindRatingByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("answers of the event's rating: %w", err)
		}
		if m["answers"], err = json.Marshal(r.Answers); err != nil {
			return nil, err
		}
		if data, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	return json.Marshal(Payload{Type: dl.Event.Type, Timestamp: dl.Event.CreatedAt, Data: data})
}
