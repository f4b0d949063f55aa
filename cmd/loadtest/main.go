// Command loadtest measures the alliance API on loopback and, in the same
// run and with the same load settings, the ceiling of its stack: a bare
// gin handler that inserts the same rating row with GORM into SQLite (WAL,
// one writer, the pragmas of internal/store).
//
//	loadtest -url http://127.0.0.1:18181 -mode=compare -c 32 -duration 10s
//
// Modes:
//
//	ratings    seed a study and dyads, then POST ratings with Idempotency-Keys
//	agreement  seed a study of -dyads × -sessions complete sessions, then GET
//	           the study agreement (-agreement-path)
//	export     seed the same study, then GET its export (-export-path),
//	           measuring MB/s and the server's memory from its /metrics
//	ceiling    the bare gin+GORM insert, started in-process on 127.0.0.1:0, into
//	           SQLite or (-ceiling-db postgres://…) PostgreSQL with a pool of 32
//	compare    ratings against -url, then ceiling; prints ours/ceiling
//
// By default each worker sends its next request as soon as the last one is
// answered (a closed loop: the most the service serves at -c connections).
// With -rate R the requests are due at R a second whatever the answers (an
// open loop, as independent tablets send), at most -c in flight; latency is
// counted from when a request was due, so a server that falls behind shows
// it in the percentiles instead of slowing the load down (no coordinated
// omission). That is the latency a deployment sees below its capacity.
//
// It refuses any target that is not a loopback address: it is a benchmark,
// not a load generator for other people's servers. Every run is bounded by
// -n requests or -duration (at most 10 minutes).
//
// The result is one JSON line on stdout; a human summary goes to stderr.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alliance-project/alliance/internal/store"
)

func main() {
	os.Exit(realMain(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// maxDuration bounds a timed run; maxRequests bounds a counted one;
// maxRate bounds an open loop's schedule.
const (
	maxDuration = 10 * time.Minute
	maxRequests = 10_000_000
	maxRate     = 1_000_000
	maxSession  = 10000 // the API's session bound
)

type options struct {
	url           string
	conns         int
	n             int
	duration      time.Duration
	rate          float64 // requests due per second (open loop); 0: closed loop
	mode          string
	dyads         int
	sessions      int
	steady        bool // -answers=steady: every rating the same answers
	agreementPath string
	exportPath    string
	dbDir         string
	ceilingDB     string
	spread        urlList // further instances that share the ratings load
	headers       headerList
}

// urlList collects repeated URL flags.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, ", ") }
func (l *urlList) Set(v string) error {
	*l = append(*l, strings.TrimRight(v, "/"))
	return nil
}

// headerList collects repeated -H "Name: value" flags (e.g. an API key).
type headerList []string

func (h *headerList) String() string { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error {
	name, _, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q: want \"Name: value\"", v)
	}
	*h = append(*h, v)
	return nil
}

func (h headerList) apply(r *http.Request) {
	for _, kv := range h {
		name, value, _ := strings.Cut(kv, ":")
		r.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of a running alliance server (loopback only)")
	fs.IntVar(&o.conns, "c", 32, "concurrent connections (one worker each)")
	fs.IntVar(&o.n, "n", 0, "total requests (0: run for -duration)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run when -n is 0")
	fs.Float64Var(&o.rate, "rate", 0, "requests due per second, whatever the answers (open loop, at most -c in flight; latency counted from when each was due); 0: each worker sends as soon as its last request is answered")
	fs.StringVar(&o.mode, "mode", "ratings", "ratings, agreement, export, ceiling or compare")
	fs.IntVar(&o.dyads, "dyads", 0, "dyads to seed (default: -c for ratings, 100 for agreement and export)")
	fs.IntVar(&o.sessions, "sessions", 10, "complete sessions per dyad to seed in agreement and export mode")
	answers := fs.String("answers", "cycle", "cycle: each rating one of three answer sets in turn, so most ratings raise an alert (a worst case); steady: every rating the same answers, so none does")
	fs.StringVar(&o.agreementPath, "agreement-path", "/v1/studies/{study}/agreement", "agreement request path; {study} is replaced")
	fs.StringVar(&o.exportPath, "export-path", "/v1/studies/{study}/export?include=scores,items", "export request path; {study} is replaced")
	fs.StringVar(&o.dbDir, "db-dir", "", "directory for the ceiling's SQLite file (default: a new temporary directory)")
	fs.StringVar(&o.ceilingDB, "ceiling-db", "", "postgres:// URL: the ceiling inserts into PostgreSQL (a schema of its own) instead of SQLite")
	fs.Var(&o.spread, "also-url", "another instance of the same service on the same database (repeatable): in ratings and compare mode the connections are spread over -url and these")
	fs.Var(&o.headers, "H", "extra request header \"Name: value\" (repeatable), e.g. an API key")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.conns < 1 || o.conns > 1024:
		return o, errors.New("-c must be 1..1024")
	case o.n < 0 || o.n > maxRequests:
		return o, fmt.Errorf("-n must be 0..%d", maxRequests)
	case o.n == 0 && (o.duration <= 0 || o.duration > maxDuration):
		return o, fmt.Errorf("-duration must be in (0, %v]", maxDuration)
	case !(o.rate >= 0 && o.rate <= maxRate):
		return o, fmt.Errorf("-rate must be 0..%d", maxRate)
	case o.rate > 0 && o.n > 0 && float64(o.n-1)/o.rate > maxDuration.Seconds():
		return o, fmt.Errorf("-n %d at -rate %g would run longer than %v", o.n, o.rate, maxDuration)
	case o.dyads < 0 || o.dyads > 100_000:
		return o, errors.New("-dyads must be 0..100000")
	case o.sessions < 1 || o.sessions > maxSession:
		return o, fmt.Errorf("-sessions must be 1..%d", maxSession)
	}
	switch o.mode {
	case "ratings", "agreement", "export", "ceiling", "compare":
	default:
		return o, fmt.Errorf("unknown -mode %q", o.mode)
	}
	switch *answers {
	case "cycle":
	case "steady":
		o.steady = true
	default:
		return o, fmt.Errorf("unknown -answers %q: cycle or steady", *answers)
	}
	for _, u := range o.spread {
		if err := checkLoopback(u); err != nil {
			return o, fmt.Errorf("-also-url: %w", err)
		}
	}
	if o.ceilingDB != "" {
		if err := checkCeilingDB(o.ceilingDB); err != nil {
			return o, err
		}
	}
	if o.mode != "ceiling" {
		if err := checkLoopback(o.url); err != nil {
			return o, err
		}
		o.url = strings.TrimRight(o.url, "/")
	}
	if o.dyads == 0 {
		o.dyads = o.conns
		if o.mode == "agreement" || o.mode == "export" {
			o.dyads = 100
		}
	}
	return o, nil
}

// checkLoopback refuses any URL whose host is not a loopback address (a
// name must resolve to loopback addresses only).
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: want http:// or https://", raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("-url %q has no host", raw)
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url %q: %s is not a loopback address; loadtest only targets this machine", raw, host)
		}
		return nil
	}
	if host != "localhost" {
		return fmt.Errorf("-url %q: only loopback addresses or localhost are allowed", raw)
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("-url %q: cannot resolve localhost: %v", raw, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url %q: localhost resolves to %s, not loopback", raw, ip)
		}
	}
	return nil
}

// checkCeilingDB accepts a postgres:// URL on this machine only: a
// socket directory or a loopback address.
func checkCeilingDB(raw string) error {
	if !store.IsPostgresURL(raw) {
		return errors.New("-ceiling-db: want a postgres:// URL")
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return errors.New("-ceiling-db: not a valid postgres:// URL")
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return nil
	}
	if err := checkLoopback("http://" + net.JoinHostPort(cfg.Host, "1")); err != nil {
		return fmt.Errorf("-ceiling-db: %s is not a loopback address; loadtest only targets this machine", cfg.Host)
	}
	return nil
}

// Result is one measured run.
type Result struct {
	Mode       string         `json:"mode"`
	Target     string         `json:"target"`
	Conns      int            `json:"conns"`
	Rate       float64        `json:"rate,omitempty"` // requests due per second (-rate)
	Requests   int            `json:"requests"`
	OK         int            `json:"ok"`
	Errors     map[string]int `json:"errors"`
	Seconds    float64        `json:"seconds"`
	RPS        float64        `json:"rps"` // successful requests per second
	P50ms      float64        `json:"p50_ms"`
	P90ms      float64        `json:"p90_ms"`
	P99ms      float64        `json:"p99_ms"`
	MaxMs      float64        `json:"max_ms"`
	Seeded     int            `json:"seeded,omitempty"`
	SeedSecond float64        `json:"seed_seconds,omitempty"`
	GOMAXPROCS int            `json:"gomaxprocs"`
	// CPUmsPerRequest is the load tool's own CPU time per successful
	// request; in ceiling mode it includes the bare server's.
	CPUmsPerRequest float64 `json:"cpu_ms_per_request,omitempty"`

	// Export mode: body bytes of the successful responses, their rate, and
	// the server's resident set and Go heap (from its /metrics) before the
	// load and at the highest sample during it.
	Bytes        int64   `json:"bytes,omitempty"`
	MBps         float64 `json:"mb_per_s,omitempty"`
	RSSBeforeMB  float64 `json:"server_rss_before_mb,omitempty"`
	RSSPeakMB    float64 `json:"server_rss_peak_mb,omitempty"`
	HeapBeforeMB float64 `json:"server_heap_before_mb,omitempty"`
	HeapPeakMB   float64 `json:"server_heap_peak_mb,omitempty"`
}

func (r Result) human() string {
	errs := "none"
	if len(r.Errors) > 0 {
		var parts []string
		for k, v := range r.Errors {
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
		slices.Sort(parts)
		errs = strings.Join(parts, " ")
	}
	offered := ""
	if r.Rate > 0 {
		offered = fmt.Sprintf(", %.0f/s due", r.Rate)
	}
	out := fmt.Sprintf("%-9s %s\n  %d requests, %d ok in %.2fs at %d connections%s: %.0f req/s\n  latency p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n  errors: %s\n",
		r.Mode, r.Target, r.Requests, r.OK, r.Seconds, r.Conns, offered, r.RPS, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, errs)
	if r.Mode == "export" {
		out += fmt.Sprintf("  %.1f MB in responses: %.1f MB/s; server RSS %.0f MB before, %.0f MB peak; Go heap %.0f MB before, %.0f MB peak\n",
			float64(r.Bytes)/1e6, r.MBps, r.RSSBeforeMB, r.RSSPeakMB, r.HeapBeforeMB, r.HeapPeakMB)
	}
	return out
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "loadtest:", err)
		}
		return 2
	}
	var out any
	switch o.mode {
	case "ratings":
		var r Result
		if r, err = runRatings(ctx, o, o.url); err == nil {
			fmt.Fprint(stderr, r.human())
			out = r
		}
	case "agreement", "export":
		var r Result
		if r, err = runStudyReads(ctx, o); err == nil {
			fmt.Fprint(stderr, r.human())
			out = r
		}
	case "ceiling":
		var r Result
		if r, err = runCeiling(ctx, o); err == nil {
			fmt.Fprint(stderr, r.human())
			out = r
		}
	case "compare":
		var ours, ceil Result
		if ours, err = runRatings(ctx, o, o.url); err != nil {
			break
		}
		fmt.Fprint(stderr, ours.human())
		if ceil, err = runCeiling(ctx, o); err != nil {
			break
		}
		fmt.Fprint(stderr, ceil.human())
		c := Comparison{Mode: "compare", Ours: ours, Ceiling: ceil}
		if ceil.RPS > 0 {
			c.RatioRPS = round(ours.RPS/ceil.RPS, 3)
		}
		if ceil.P99ms > 0 {
			c.RatioP99 = round(ours.P99ms/ceil.P99ms, 3)
		}
		fmt.Fprintf(stderr, "ours/ceiling: throughput %.2f×, p99 latency %.2f×\n", c.RatioRPS, c.RatioP99)
		out = c
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(stdout, string(b))
	return 0
}

// Comparison is the result of -mode=compare.
type Comparison struct {
	Mode     string  `json:"mode"`
	Ours     Result  `json:"ours"`
	Ceiling  Result  `json:"ceiling"`
	RatioRPS float64 `json:"ratio_rps"` // ours/ceiling throughput
	RatioP99 float64 `json:"ratio_p99"` // ours/ceiling p99 latency
}

var answerSets = [][]int{
	{5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5},
	{4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4},
	{3, 3, 2, 4, 3, 5, 3, 2, 4, 3, 3, 4},
}

// ratingBody is the body of request i over d dyads: the dyad is i mod d,
// and each dyad's slots run session 1 client, session 1 counsellor, 2…
// The answers cycle through answerSets, or are always the first when
// steady.
func ratingBody(i, d int, steady bool) (dyad, session int, role string, body []byte) {
	dyad, slot := i%d, i/d
	session, role = slot/2+1, []string{"client", "counsellor"}[slot%2]
	set := answerSets[i%len(answerSets)]
	if steady {
		set = answerSets[0]
	}
	body, _ = json.Marshal(map[string]any{"session": session, "role": role, "answers": set})
	return dyad, session, role, body
}

func ratingRequests(base string, dyads []string, runID string, headers headerList, steady bool) requestFunc {
	return func(i int) (*http.Request, bool) {
		d, session, _, body := ratingBody(i, len(dyads), steady)
		if session > maxSession {
			return nil, false
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/dyads/"+dyads[d]+"/ratings", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", runID, i))
		headers.apply(req)
		return req, true
	}
}

func runID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lt-" + hex.EncodeToString(b[:])
}

// post sends one JSON request and decodes the 201 body into out.
func post(ctx context.Context, client *http.Client, headers headerList, u string, in, out any) error {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	headers.apply(req)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s = %d: %.300s", u, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// seed creates a WAI-SR study and n dyads in it.
func seed(ctx context.Context, client *http.Client, o options, base string, n int) (string, []string, error) {
	var st struct{ ID string }
	err := post(ctx, client, o.headers, base+"/v1/studies", map[string]any{
		"name":  "loadtest " + time.Now().UTC().Format(time.RFC3339),
		"forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"},
	}, &st)
	if err != nil {
		return "", nil, fmt.Errorf("seed study: %w", err)
	}
	// Letters only, and the dyad number behind a letter: a long run of
	// digits would look like a phone number and be refused as identifying.
	tag := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'g' + (r - '0')
		}
		return r
	}, runID()[3:])
	dyads := make([]string, n)
	errc := make(chan error, 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, 8) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				var d struct{ ID string }
				err := post(ctx, client, o.headers, base+"/v1/studies/"+st.ID+"/dyads",
					map[string]string{"client_code": fmt.Sprintf("LT-%s-D%d", tag, i), "counsellor_code": fmt.Sprintf("K-%03d", i%50)}, &d)
				if err != nil {
					select {
					case errc <- fmt.Errorf("seed dyad: %w", err):
					default:
					}
					return
				}
				dyads[i] = d.ID
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return "", nil, err
	default:
	}
	return st.ID, dyads, nil
}

func runRatings(ctx context.Context, o options, base string) (Result, error) {
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	_, dyads, err := seed(ctx, client, o, base, o.dyads)
	if err != nil {
		return Result{}, err
	}
	return load(ctx, o, "ratings", base, ratingRequests(base, dyads, runID(), o.headers, o.steady), http.StatusCreated), nil
}

// --- agreement ---

// runStudyReads seeds a study of -dyads × -sessions complete sessions,
// then loads its agreement (mode agreement) or its export (mode export).
func runStudyReads(ctx context.Context, o options) (Result, error) {
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	t0 := time.Now()
	studyID, dyads, err := seed(ctx, client, o, o.url, o.dyads)
	if err != nil {
		return Result{}, err
	}
	// Seed every dyad with o.sessions complete sessions (both roles),
	// with the same bounded engine and at least 32 connections: the seed
	// is not what is measured, and one export at a time (-c 1) should not
	// wait for 200,000 ratings sent one by one.
	total := len(dyads) * o.sessions * 2
	so := o
	so.n, so.duration, so.conns, so.rate = total, maxDuration, max(o.conns, 32), 0
	sr := load(ctx, so, "seed", o.url, ratingRequests(o.url, dyads, runID(), o.headers, o.steady), http.StatusCreated)
	if sr.OK != total {
		return Result{}, fmt.Errorf("seeding %d ratings: only %d stored; errors %v", total, sr.OK, sr.Errors)
	}
	seedTime := time.Since(t0)

	path := o.agreementPath
	if o.mode == "export" {
		path = o.exportPath
	}
	target := o.url + strings.ReplaceAll(path, "{study}", studyID)
	get := func(int) (*http.Request, bool) {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		o.headers.apply(req)
		return req, true
	}
	var mem *memSampler
	if o.mode == "export" {
		mem = sampleMemory(ctx, client, o.url+"/metrics")
	}
	r := load(ctx, o, o.mode, target, get, http.StatusOK)
	r.Seeded, r.SeedSecond = total, round(seedTime.Seconds(), 2)
	if mem != nil {
		mem.stop()
		r.MBps = round(float64(r.Bytes)/1e6/r.Seconds, 2)
		r.RSSBeforeMB, r.RSSPeakMB = round(mem.before.rss/1e6, 1), round(mem.peak.rss/1e6, 1)
		r.HeapBeforeMB, r.HeapPeakMB = round(mem.before.heap/1e6, 1), round(mem.peak.heap/1e6, 1)
	}
	return r, nil
}
