package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
)

// instance is one API process: its own store (connection pool) and its own
// HTTP server, sharing nothing with the others but the database.
type instance struct {
	st  *store.Store
	svc *alliance.Service
	srv *httptest.Server
}

var ginTestMode sync.Once

func startInstance(t *testing.T, url string, opts ...store.Option) *instance {
	t.Helper()
	st, err := store.Open(context.Background(), url, discard, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return serve(t, st)
}

// serve puts the API in front of st, as cmd/alliance does on PostgreSQL.
func serve(t *testing.T, st *store.Store) *instance {
	t.Helper()
	ginTestMode.Do(func() { gin.SetMode(gin.TestMode) })
	// The caches of cmd/alliance on PostgreSQL.
	svc := alliance.NewService(rowcache.New(st, rowcache.Options{}), instrument.Builtin())
	h := api.NewHandler(api.Deps{
		Service:      svc,
		Log:          discard,
		MaxBodyBytes: 1 << 20,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &instance{st: st, svc: svc, srv: srv}
}

type reply struct {
	status   int
	id       string
	replayed bool
	problem  string
	code     string
	detail   string
}

// jsonRequest is a request with body as JSON and the bearer token.
func jsonRequest(t *testing.T, method, url, bearer string, body any) *http.Request {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	return req
}

// send makes one request with the bearer token (an API key or a survey
// link's token) and, if key is not empty, an Idempotency-Key.
func send(t *testing.T, method, url, bearer, key string, body any) reply {
	t.Helper()
	req := jsonRequest(t, method, url, bearer, body)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return reply{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}
	_ = json.Unmarshal(raw, &v)
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s = %d: %s", method, url, resp.StatusCode, raw)
	}
	return reply{status: resp.StatusCode, id: v.ID, replayed: resp.Header.Get("Idempotent-Replayed") == "true", problem: v.Type, code: v.Code, detail: v.Detail}
}

func answers(base int) []int {
	out := make([]int, 12)
	for i := range out {
		out[i] = 1 + (base+i)%5
	}
	return out
}

// TestTwoInstancesOnePostgres runs two API instances on one PostgreSQL
// database and sends them, all at once, fresh ratings, idempotent retries
// of one request split over both, and competing submissions of the same
// dyad, session and role. Every
// acknowledged rating must be stored exactly once, every retry must answer
// with the first result, every competing submission but one must be
// refused, and nothing may be lost.
func TestTwoInstancesOnePostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ctx := context.Background()
	inst := []*instance{startInstance(t, url), startInstance(t, url)}

	// Both instances migrate at start-up, at the same time.
	var wg sync.WaitGroup
	for _, in := range inst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.st.Migrate(ctx, nil); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	exactlyOnce(t, inst, func() *instance { return startInstance(t, url) })
}

// TestTwoInstancesThroughPgBouncer runs the same load through PgBouncer in
// transaction mode (scripts/postgres-test.sh starts one): the way
// docs/deploying.md describes, migrations straight to PostgreSQL (they
// hold a session lock), the instances through PgBouncer with pgx's exec
// mode (no named prepared statements) and no statement_timeout of their
// own (PgBouncer refuses it as a startup parameter; it belongs on the
// role).
func TestTwoInstancesThroughPgBouncer(t *testing.T) {
	t.Parallel()
	bouncer := os.Getenv("ALLIANCE_TEST_PGBOUNCER_URL")
	if bouncer == "" {
		t.Skip("ALLIANCE_TEST_PGBOUNCER_URL is not set: run `scripts/postgres-test.sh go test ./...`, which starts PgBouncer when it can")
	}
	direct := pgtest.Database(t)
	ctx := context.Background()
	st, err := store.Open(ctx, direct, discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	d, _ := neturl.Parse(direct)
	u, _ := neturl.Parse(bouncer)
	u.Path = d.Path
	q := u.Query()
	q.Set("default_query_exec_mode", "exec")
	u.RawQuery = q.Encode()
	opts := []store.Option{store.WithStatementTimeout(0)}
	start := func() *instance { return startInstance(t, u.String(), opts...) }
	exactlyOnce(t, []*instance{start(), start()}, start)
}

// exactlyOnce sends two instances of one migrated database, all at once,
// fresh ratings, idempotent retries of one request split over both, and
// competing submissions of the same dyad, session and role, and checks
// that every acknowledged rating is stored exactly once, and known to a
// third instance started afterwards (by startLate).
func exactlyOnce(t *testing.T, inst []*instance, startLate func() *instance) {
	ctx := context.Background()
	var wg sync.WaitGroup
	base := func(i int) string { return inst[i%2].srv.URL }
	admin, err := inst[0].svc.EnsureAdminKey(ctx)
	if err != nil || admin == "" {
		t.Fatalf("EnsureAdminKey = %q, %v", admin, err)
	}

	study := send(t, "POST", base(0)+"/v1/studies", admin, "", map[string]any{
		"name":  "two instances",
		"forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"},
	})
	if study.status != http.StatusCreated {
		t.Fatalf("create study = %+v", study)
	}
	const plainDyads, sessions, copies = 6, 3, 6
	dyads := make([]string, plainDyads+2)
	for i := range dyads {
		d := send(t, "POST", base(i)+"/v1/studies/"+study.id+"/dyads", admin, "", map[string]string{
			"client_code": fmt.Sprintf("C%d", i), "counsellor_code": fmt.Sprintf("K%d", i%3),
		})
		if d.status != http.StatusCreated {
			t.Fatalf("create dyad %d = %+v", i, d)
		}
		dyads[i] = d.id
	}
	retryDyad, dupDyad := dyads[plainDyads], dyads[plainDyads+1]

	type attempt struct {
		kind   string // "plain", "retry" or "dup"
		dyad   string
		group  int // session: attempts of one group target the same rating
		inst   int
		key    string
		body   map[string]any
		result reply
	}
	var attempts []*attempt
	n := 0
	for d := range plainDyads {
		for s := 1; s <= sessions; s++ {
			for _, role := range []string{"client", "counsellor"} {
				n++
				attempts = append(attempts, &attempt{kind: "plain", dyad: dyads[d], group: s, inst: n, key: fmt.Sprintf("plain-%d", n),
					body: map[string]any{"session": s, "role": role, "answers": answers(n)}})
			}
		}
	}
	for s := 1; s <= sessions; s++ {
		body := map[string]any{"session": s, "role": "client", "answers": answers(s)}
		for c := range copies {
			attempts = append(attempts, &attempt{kind: "retry", dyad: retryDyad, group: s, inst: c, key: fmt.Sprintf("retry-%d", s), body: body})
			attempts = append(attempts, &attempt{kind: "dup", dyad: dupDyad, group: s, inst: c, key: fmt.Sprintf("dup-%d-%d", s, c),
				body: map[string]any{"session": s, "role": "counsellor", "answers": answers(c)}})
		}
	}

	start := make(chan struct{})
	for _, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a.result = send(t, "POST", base(a.inst)+"/v1/dyads/"+a.dyad+"/ratings", admin, a.key, a.body)
		}()
	}
	close(start)
	wg.Wait()

	acked := map[string]string{} // rating id -> dyad
	retryIDs := map[int]map[string]bool{}
	firsts := map[int]int{}
	dupWins := map[int]int{}
	for _, a := range attempts {
		r := a.result
		switch a.kind {
		case "plain":
			if r.status != http.StatusCreated || r.replayed {
				t.Errorf("plain rating %s = %+v, want 201, not replayed", a.key, r)
			}
		case "retry":
			if r.status != http.StatusCreated {
				t.Errorf("retry of %s = %+v, want 201", a.key, r)
			}
			if retryIDs[a.group] == nil {
				retryIDs[a.group] = map[string]bool{}
			}
			retryIDs[a.group][r.id] = true
			if !r.replayed {
				firsts[a.group]++
			}
		case "dup":
			switch r.status {
			case http.StatusCreated:
				dupWins[a.group]++
			case http.StatusConflict:
				if r.problem != "urn:alliance:problem:conflict" {
					t.Errorf("losing duplicate %s: problem type %q", a.key, r.problem)
				}
				continue
			default:
				t.Errorf("duplicate %s = %+v, want 201 or 409", a.key, r)
			}
		}
		if r.status == http.StatusCreated {
			if r.id == "" {
				t.Errorf("%s: 201 without an id", a.key)
			}
			acked[r.id] = a.dyad
		}
	}
	for s := 1; s <= sessions; s++ {
		if len(retryIDs[s]) != 1 {
			t.Errorf("retries of session %d answered with ids %v, want one id", s, retryIDs[s])
		}
		if firsts[s] != 1 {
			t.Errorf("retries of session %d: %d answers not marked replayed, want exactly 1", s, firsts[s])
		}
		if dupWins[s] != 1 {
			t.Errorf("competing submissions of session %d: %d got 201, want exactly 1", s, dupWins[s])
		}
	}
	wantTotal := plainDyads*sessions*2 + 2*sessions
	if len(acked) != wantTotal {
		t.Errorf("%d distinct acknowledged ratings, want %d", len(acked), wantTotal)
	}

	// Every acknowledged rating is there exactly once, seen from either
	// instance, and there is nothing else.
	for i, d := range dyads {
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		req, _ := http.NewRequest("GET", base(i)+"/v1/dyads/"+d+"/ratings", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, it := range list.Items {
			seen[it.ID]++
			if acked[it.ID] != d {
				t.Errorf("dyad %s holds rating %s that no request was told about", d, it.ID)
			}
		}
		for id, dyad := range acked {
			if dyad == d && seen[id] != 1 {
				t.Errorf("acknowledged rating %s of dyad %s stored %d times, want 1", id, d, seen[id])
			}
		}
	}
	var rows, keys int
	if err := inst[0].st.DB().QueryRowContext(ctx, "SELECT count(*) FROM ratings").Scan(&rows); err != nil || rows != wantTotal {
		t.Errorf("ratings table holds %d rows (%v), want %d", rows, err, wantTotal)
	}
	if err := inst[1].st.DB().QueryRowContext(ctx, "SELECT count(*) FROM idempotency_keys").Scan(&keys); err != nil || keys != wantTotal {
		t.Errorf("idempotency_keys holds %d keys (%v), want %d: one per stored rating", keys, err, wantTotal)
	}

	// A third instance, started afterwards, knows every key: nothing that
	// matters lived in the memory of the first two.
	late := startLate()
	for s := 1; s <= sessions; s++ {
		body := map[string]any{"session": s, "role": "client", "answers": answers(s)}
		r := send(t, "POST", late.srv.URL+"/v1/dyads/"+retryDyad+"/ratings", admin, fmt.Sprintf("retry-%d", s), body)
		if r.status != http.StatusCreated || !r.replayed || !retryIDs[s][r.id] {
			t.Errorf("retry of session %d on a new instance = %+v, want a 201 replay of %v", s, r, retryIDs[s])
		}
	}
}

// TestTwoInstancesSurveyLinks submits each one-time survey link many times
// at once, split over two instances on one PostgreSQL database: exactly one
// submission per link is stored, every other gets 410, and each link's
// session holds exactly one rating.
func TestTwoInstancesSurveyLinks(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ctx := context.Background()
	inst := []*instance{startInstance(t, url), startInstance(t, url)}
	if err := inst[0].st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	admin, err := inst[0].svc.EnsureAdminKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	study := send(t, "POST", inst[0].srv.URL+"/v1/studies", admin, "", map[string]any{
		"name": "links", "forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"},
	})
	dyad := send(t, "POST", inst[1].srv.URL+"/v1/studies/"+study.id+"/dyads", admin, "", map[string]string{"client_code": "C1", "counsellor_code": "K1"})
	if study.status != http.StatusCreated || dyad.status != http.StatusCreated {
		t.Fatalf("setup: study %+v, dyad %+v", study, dyad)
	}
	const links, copies = 4, 6
	tokens := make([]string, links)
	for i := range tokens {
		_, tok, err := inst[i%2].svc.CreateInvitation(ctx, dyad.id, alliance.InvitationInput{Session: new(i + 1), Role: "client"})
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok
	}
	codes := make([][]int, links)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range tokens {
		codes[i] = make([]int, copies)
		for c := range copies {
			wg.Go(func() {
				<-start
				codes[i][c] = send(t, "POST", inst[c%2].srv.URL+"/v1/survey", tok, "", map[string]any{"answers": answers(c)}).status
			})
		}
	}
	close(start)
	wg.Wait()
	for i := range tokens {
		won := 0
		for _, code := range codes[i] {
			switch code {
			case http.StatusCreated:
				won++
			case http.StatusGone:
			default:
				t.Errorf("link %d: a submission answered %d, want 201 or 410", i, code)
			}
		}
		if won != 1 {
			t.Errorf("link %d: %d of %d concurrent submissions stored (codes %v), want exactly 1", i, won, copies, codes[i])
		}
	}
	var rows int
	if err := inst[1].st.DB().QueryRowContext(ctx, "SELECT count(*) FROM ratings").Scan(&rows); err != nil || rows != links {
		t.Errorf("ratings table holds %d rows (%v), want %d: one per link", rows, err, links)
	}
}

// TestTwoInstancesStaleRatingTarget: instance B has a dyad cached as a
// rating target (rowcache.TargetTTL) when instance A withdraws one dyad
// and erases another. B's next ratings of them are refused all the same,
// by the database: 409 dyad_withdrawn and 404.
func TestTwoInstancesStaleRatingTarget(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ctx := context.Background()
	a, b := startInstance(t, url), startInstance(t, url)
	if err := a.st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	admin, err := a.svc.EnsureAdminKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	study := send(t, "POST", a.srv.URL+"/v1/studies", admin, "", map[string]any{
		"name": "stale", "forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"},
	})
	if study.status != http.StatusCreated {
		t.Fatalf("create study = %+v", study)
	}
	var withdrawn, erased string
	for i, id := range []*string{&withdrawn, &erased} {
		d := send(t, "POST", a.srv.URL+"/v1/studies/"+study.id+"/dyads", admin, "", map[string]string{
			"client_code": fmt.Sprintf("S%d", i), "counsellor_code": "K1"})
		if d.status != http.StatusCreated {
			t.Fatalf("create dyad = %+v", d)
		}
		*id = d.id
		// B reads the dyad as a rating target, and keeps it.
		if r := send(t, "POST", b.srv.URL+"/v1/dyads/"+d.id+"/ratings", admin, "", map[string]any{
			"session": 1, "role": "client", "answers": answers(i)}); r.status != http.StatusCreated {
			t.Fatalf("first rating = %+v", r)
		}
	}
	if r := send(t, "POST", a.srv.URL+"/v1/dyads/"+withdrawn+"/withdraw", admin, "", map[string]any{"scope": "both", "reason_code": "consent_withdrawn"}); r.status != http.StatusOK {
		t.Fatalf("withdraw on A = %+v", r)
	}
	if r := send(t, "DELETE", a.srv.URL+"/v1/dyads/"+erased+"?confirm="+erased, admin, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("erase on A = %+v", r)
	}
	for _, tc := range []struct {
		dyad    string
		status  int
		problem string
	}{
		{withdrawn, http.StatusConflict, "dyad_withdrawn"},
		{erased, http.StatusNotFound, ""},
	} {
		r := send(t, "POST", b.srv.URL+"/v1/dyads/"+tc.dyad+"/ratings", admin, "", map[string]any{
			"session": 2, "role": "client", "answers": answers(7)})
		if r.status != tc.status || r.code != tc.problem {
			t.Errorf("rating on B after A's change = %+v; want %d %s", r, tc.status, tc.problem)
		}
	}
}
