package main

// Durability of the real binary under kill -9. The test builds the
// binary, serves a temporary SQLite file, drives concurrent keyed rating
// submissions, kills the process mid-load (three times), restarts it on
// the same file and checks that:
//
//   - every rating that got a 201 is present exactly once, with its id;
//   - retrying every in-flight request with its Idempotency-Key yields 201
//     (a replay when the first attempt had committed) and no duplicate;
//   - PRAGMA integrity_check and foreign_key_check pass, both on a copy
//     of the files exactly as the kill left them and on the final file.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/internal/pgtest"
)

// binBuild compiles this package once per test process into a stable
// per-checkout cache path, so later runs only relink when the code changed
// (go build reuses an up-to-date output file) and nothing piles up in /tmp.
func binBuild(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		wd, _ := os.Getwd()
		sum := sha256.Sum256([]byte(wd))
		dir = filepath.Join(dir, "alliance-test-bin", hex.EncodeToString(sum[:6]))
		if binOnce.err = os.MkdirAll(dir, 0o750); binOnce.err != nil {
			return
		}
		binOnce.path = filepath.Join(dir, "alliance")
		cmd := exec.Command("go", "build", "-o", binOnce.path, ".")
		cmd.Dir = wd // tests run in the package directory
		if out, err := cmd.CombinedOutput(); err != nil {
			binOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binOnce.err != nil {
		t.Fatal(binOnce.err)
	}
	return binOnce.path
}

var binOnce struct {
	sync.Once
	path string
	err  error
}

// binServer is one running `alliance serve` process.
type binServer struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string
	base    string
	client  *http.Client
	done    chan struct{} // closed once the process has exited
	waitErr error

	mu         sync.Mutex
	lines      []string // the last log lines, for failure messages
	full       strings.Builder
	shutdownAt time.Time
}

// binStart runs the binary on the SQLite file db with the given extra
// ALLIANCE_* settings and waits until it listens. The port is chosen by
// the kernel (127.0.0.1:0) and read back from the "listening" log line, so
// parallel tests cannot race for a port.
func binStart(t *testing.T, bin, db string, env ...string) *binServer {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALLIANCE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ALLIANCE_DATABASE_URL="+db, "ALLIANCE_HTTP_ADDR=127.0.0.1:0",
		"ALLIANCE_LOG_FORMAT=json", "ALLIANCE_LOG_LEVEL=info",
		// These tests drive load on purpose; abuse limits are TestRateLimit's.
		"ALLIANCE_RATE_LIMIT=0", "ALLIANCE_RATE_LIMIT_IP=0")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first start on an empty database prints an admin key on stdout;
	// later starts on the same file reuse it.
	tokens := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if tok := strings.TrimSpace(sc.Text()); strings.HasPrefix(tok, "alk_") {
				select {
				case tokens <- tok:
				default:
				}
			}
		}
	}()
	s := &binServer{t: t, cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			_ = json.Unmarshal([]byte(line), &rec)
			s.mu.Lock()
			s.full.WriteString(line)
			s.full.WriteByte('\n')
			if rec.Msg != "request" { // access-log lines would crowd out the rest
				s.lines = append(s.lines, line)
				if len(s.lines) > 100 {
					s.lines = s.lines[1:]
				}
			}
			if rec.Msg == "shutting down" && s.shutdownAt.IsZero() {
				s.shutdownAt = time.Now()
			}
			s.mu.Unlock()
			if rec.Msg == "listening" && rec.Addr != "" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.addr = <-addrc:
	case <-s.done:
		t.Fatalf("server exited before listening: %v\n%s", s.waitErr, s.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not listen within 20s\n%s", s.log())
	}
	s.base = "http://" + s.addr
	binTokensMu.Lock()
	tok, known := binTokens[db]
	binTokensMu.Unlock()
	if !known {
		select {
		case tok = <-tokens:
		case <-time.After(10 * time.Second):
			t.Fatalf("no admin key printed on the first start\n%s", s.log())
		}
		binTokensMu.Lock()
		binTokens[db] = tok
		binTokensMu.Unlock()
	}
	s.client = &http.Client{Timeout: 15 * time.Second,
		Transport: binAuth{token: tok, next: &http.Transport{MaxIdleConnsPerHost: 64}}}
	return s
}

// binTokens remembers the admin key printed on each database's first
// start, for the restarts that follow.
var (
	binTokensMu sync.Mutex
	binTokens   = map[string]string{}
)

// binAuth sends the admin key with every request of the test client.
type binAuth struct {
	token string
	next  *http.Transport
}

func (a binAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+a.token)
	}
	return a.next.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport, so a killed server's connections are not reused.
func (a binAuth) CloseIdleConnections() { a.next.CloseIdleConnections() }

// fullLog is every line the server logged.
func (s *binServer) fullLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full.String()
}

// binCheckLogs fails t if any server logged a participant code, an answer
// vector or a score document: the log canary of the crash tests, whose
// servers log at debug level.
func binCheckLogs(t *testing.T, servers []*binServer, codes []string, reqs []binRating) {
	t.Helper()
	canaries := slices.Clone(codes)
	for _, r := range reqs {
		var body struct{ Answers []int }
		_ = json.Unmarshal(r.Body, &body)
		b, _ := json.Marshal(body.Answers)
		canaries = append(canaries, strings.Trim(string(b), "[]"))
	}
	for _, s := range servers {
		logged := s.fullLog()
		for _, c := range append(canaries, `"subscales"`) {
			if strings.Contains(logged, c) {
				t.Errorf("the server logged participant data %q", c)
			}
		}
	}
}

func (s *binServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// kill is kill -9: no shutdown, no deferred code, no checkpoint.
func (s *binServer) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
	s.client.CloseIdleConnections()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *binServer) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not exit 20s after SIGTERM\n%s", s.log())
	}
	if s.waitErr != nil {
		t.Errorf("server exit after SIGTERM: %v, want exit status 0\n%s", s.waitErr, s.log())
	}
	s.client.CloseIdleConnections()
}

// call sends one JSON request and decodes a JSON answer into out (if not nil).
func (s *binServer) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, s.log())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode: %v; body %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Fatalf("%s %s = %d; body %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// binSeed creates a WAI-SR study (when studyID is "") and n dyads in it.
func binSeed(t *testing.T, s *binServer, studyID string, n int, tag string) (string, []string) {
	t.Helper()
	if studyID == "" {
		var st struct{ ID string }
		s.call(t, http.MethodPost, "/v1/studies", map[string]any{
			"name": "durability " + tag, "forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"},
		}, &st)
		studyID = st.ID
	}
	dyads := make([]string, n)
	for i := range dyads {
		var d struct{ ID string }
		s.call(t, http.MethodPost, "/v1/studies/"+studyID+"/dyads",
			map[string]string{"client_code": binClientCode(tag, i), "counsellor_code": "K-01"}, &d)
		dyads[i] = d.ID
	}
	return studyID, dyads
}

// binClientCode is the client code of dyad i of a seeding round.
func binClientCode(tag string, i int) string { return fmt.Sprintf("C-%s-%02d", tag, i) }

// binRating is one keyed rating submission and what became of it.
type binRating struct {
	Dyad    string
	Session int
	Role    string
	Key     string
	Body    []byte
	// Filled in by the load: the id of a 201, or the transport error.
	ID     string
	Status int
	Err    error
}

func newBinRating(dyad string, i int, tag string) binRating {
	r := binRating{Dyad: dyad, Session: i/2 + 1, Role: []string{"client", "counsellor"}[i%2]}
	r.Key = fmt.Sprintf("%s-%s-%d-%s", tag, dyad, r.Session, r.Role)
	answers := []int{5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5}
	answers[r.Session%12] = 1 + r.Session%5 // vary the bodies a little
	r.Body, _ = json.Marshal(map[string]any{"session": r.Session, "role": r.Role, "answers": answers})
	return r
}

// post sends r once and records the outcome in r.
func (s *binServer) post(ctx context.Context, r *binRating) (replayed bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/dyads/"+r.Dyad+"/ratings", bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.Key)
	resp, err := s.client.Do(req)
	if err != nil {
		r.Err, r.Status, r.ID = err, 0, ""
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status line arrived but the body did not: not acknowledged.
		r.Err, r.Status, r.ID = err, 0, ""
		return false
	}
	r.Err, r.Status = nil, resp.StatusCode
	if resp.StatusCode == http.StatusCreated {
		var v struct{ ID string }
		if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
			r.Err = fmt.Errorf("201 without an id: %s", b)
			r.Status = 0
			return false
		}
		r.ID = v.ID
	} else {
		r.Err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Header.Get("Idempotent-Replayed") == "true"
}

// binLoad runs one worker per dyad, each submitting its dyad's sessions in
// order until stop is closed or a request fails. It returns every request
// sent: acknowledged ones have an ID; the others an Err.
func binLoad(s *binServer, dyads []string, tag string, stop <-chan struct{}) []binRating {
	var mu sync.Mutex
	var all []binRating
	var wg sync.WaitGroup
	for _, d := range dyads {
		wg.Go(func() {
			var mine []binRating
			defer func() { mu.Lock(); all = append(all, mine...); mu.Unlock() }()
			for i := 0; i < 2*2000; i++ { // bounded: at most 2000 sessions per dyad
				select {
				case <-stop:
					return
				default:
				}
				r := newBinRating(d, i, tag)
				s.post(context.Background(), &r)
				mine = append(mine, r)
				if r.Err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return all
}

// binRatings lists a dyad's current ratings as (session/role) -> ids.
func binRatings(t *testing.T, s *binServer, dyad string) map[string][]string {
	t.Helper()
	var l struct {
		Items []struct {
			ID      string
			Session int
			Role    string
		}
	}
	s.call(t, http.MethodGet, "/v1/dyads/"+dyad+"/ratings", nil, &l)
	out := map[string][]string{}
	for _, it := range l.Items {
		k := fmt.Sprintf("%d/%s", it.Session, it.Role)
		out[k] = append(out[k], it.ID)
	}
	return out
}

// binVerify checks the acknowledged ratings are each present exactly once
// with their id, and that nothing else is stored but in-flight requests.
func binVerify(t *testing.T, s *binServer, reqs []binRating) {
	t.Helper()
	byDyad := map[string][]binRating{}
	for _, r := range reqs {
		byDyad[r.Dyad] = append(byDyad[r.Dyad], r)
	}
	for d, rs := range byDyad {
		stored := binRatings(t, s, d)
		sent := map[string]bool{}
		for _, r := range rs {
			k := fmt.Sprintf("%d/%s", r.Session, r.Role)
			sent[k] = true
			ids := stored[k]
			if r.ID != "" && !slices.Equal(ids, []string{r.ID}) {
				t.Errorf("dyad %s %s: acknowledged rating %s stored as %v, want exactly once", d, k, r.ID, ids)
			}
			if len(ids) > 1 {
				t.Errorf("dyad %s %s: %d current ratings %v", d, k, len(ids), ids)
			}
		}
		for k, ids := range stored {
			if !sent[k] {
				t.Errorf("dyad %s %s: stored %v but never sent", d, k, ids)
			}
		}
	}
}

// binRetry resends every unacknowledged request with its key: each must
// now be a 201 and a replay exactly when the first attempt had committed.
func binRetry(t *testing.T, s *binServer, reqs []binRating) (retried, replays int) {
	t.Helper()
	for i := range reqs {
		r := &reqs[i]
		if r.ID != "" {
			continue
		}
		before := binRatings(t, s, r.Dyad)[fmt.Sprintf("%d/%s", r.Session, r.Role)]
		replayed := s.post(context.Background(), r)
		retried++
		if r.Status != http.StatusCreated {
			t.Errorf("retry of in-flight %s = %d (%v), want 201", r.Key, r.Status, r.Err)
			continue
		}
		switch {
		case len(before) == 1 && (!replayed || before[0] != r.ID):
			t.Errorf("retry of committed %s: replayed=%v id %s, want a replay of %s", r.Key, replayed, r.ID, before[0])
		case len(before) == 0 && replayed:
			t.Errorf("retry of uncommitted %s claims a replay", r.Key)
		}
		if replayed {
			replays++
		}
	}
	return retried, replays
}

// binCheckDB runs SQLite's own consistency checks and the schema's
// invariants directly on a database file.
func binCheckDB(t *testing.T, path string) (ratings int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("PRAGMA integrity_check on %s = %q, %v; want ok", filepath.Base(path), res, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		t.Errorf("PRAGMA foreign_key_check on %s reports a violation", filepath.Base(path))
	}
	rows.Close()
	return checkRows(t, db, filepath.Base(path))
}

// checkRows holds on either backend: no duplicate current rating, no
// idempotency key without its rating. It returns the number of ratings.
func checkRows(t *testing.T, db *sql.DB, name string) (ratings int) {
	t.Helper()
	var dups int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM ratings WHERE superseded_at IS NULL
		GROUP BY dyad_id, session, role HAVING count(*) > 1) AS d`).Scan(&dups); err != nil || dups != 0 {
		t.Errorf("%s: duplicate current ratings: %d (%v)", name, dups, err)
	}
	var orphans int
	if err := db.QueryRow(`SELECT count(*) FROM idempotency_keys k LEFT JOIN ratings r ON r.id = k.rating_id
		WHERE r.id IS NULL`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%s: idempotency keys without their rating: %d (%v)", name, orphans, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM ratings").Scan(&ratings); err != nil {
		t.Fatal(err)
	}
	return ratings
}

// binSnapshot copies the database, WAL and shared-memory files as they are
// (after a kill), so the checks see the crash state without touching the
// files the restarted server will recover from.
func binSnapshot(t *testing.T, db string) string {
	t.Helper()
	dir := t.TempDir()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(db + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(db)+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(db))
}

func TestCrashKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	// The files exactly as kill -9 left them must be consistent.
	crashKill9(t, db, func(t *testing.T) int { return binCheckDB(t, binSnapshot(t, db)) }, func(t *testing.T) int { return binCheckDB(t, db) })
}

// TestCrashKill9UnderLoadPostgres is the same on PostgreSQL: the server
// under the killed instance keeps running, so what it holds after the kill
// is what was committed.
func TestCrashKill9UnderLoadPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	url := pgtest.Database(t)
	check := func(t *testing.T) int { return pgCheckDB(t, url) }
	crashKill9(t, url, check, check)
}

// pgCheckDB runs the consistency checks that mean something on PostgreSQL
// (its own integrity is the server's business) and counts the ratings.
func pgCheckDB(t *testing.T, url string) (ratings int) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return checkRows(t, db, "postgres")
}

// crashKill9 kills the server on db three times under write load; after
// each kill crashCheck inspects the database, and finalCheck after the
// last clean stop. Both return the number of rating rows.
func crashKill9(t *testing.T, db string, crashCheck, finalCheck func(t *testing.T) int) {
	start := time.Now()
	bin := binBuild(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("kill timing seed %d", seed)
	const workers = 12
	// Debug level: the log canary below reads every line of every level.
	s := binStart(t, bin, db, "ALLIANCE_LOG_LEVEL=debug")
	servers := []*binServer{s}
	var codes []string
	studyID := ""
	var all []binRating
	for round := range 3 {
		tag := fmt.Sprintf("r%d", round)
		var dyads []string
		studyID, dyads = binSeed(t, s, studyID, workers, tag)
		for i := range dyads {
			codes = append(codes, binClientCode(tag, i))
		}

		stop := make(chan struct{})
		resc := make(chan []binRating, 1)
		go func() { resc <- binLoad(s, dyads, tag, stop) }()
		time.Sleep(time.Duration(300+rng.IntN(500)) * time.Millisecond)
		s.kill()
		close(stop)
		reqs := <-resc

		var acked, failed int
		for _, r := range reqs {
			switch {
			case r.ID != "":
				acked++
			case r.Status != 0:
				t.Errorf("%s answered %d before the kill: %v", r.Key, r.Status, r.Err)
			default:
				failed++
			}
		}
		if acked == 0 {
			t.Fatalf("round %d: no rating acknowledged before the kill\n%s", round, s.log())
		}
		crashRows := crashCheck(t)

		s = binStart(t, bin, db, "ALLIANCE_LOG_LEVEL=debug")
		servers = append(servers, s)
		all = append(all, reqs...)
		binVerify(t, s, all)
		retried, replays := binRetry(t, s, all)
		binVerify(t, s, all)
		t.Logf("round %d: %d acknowledged, %d in flight at the kill (%d had committed), %d rows in the crash image",
			round, acked, retried, replays, crashRows)
		for _, r := range all {
			if r.ID == "" {
				t.Fatalf("%s still unacknowledged after its retry", r.Key)
			}
		}
		// An acknowledged key replays after the crash too.
		probe := all[rng.IntN(len(all))]
		id := probe.ID
		if !s.post(context.Background(), &probe) || probe.ID != id {
			t.Errorf("replay of %s after restart: status %d id %s, want a replay of %s", probe.Key, probe.Status, probe.ID, id)
		}
	}
	s.stop(t)
	binCheckLogs(t, servers, append(codes, "K-01"), all)
	if n := finalCheck(t); n != len(all) {
		t.Errorf("final file holds %d ratings, want %d (one per submission)", n, len(all))
	}
	t.Logf("%d ratings over 3 kills in %v", len(all), time.Since(start).Round(time.Millisecond))
}
