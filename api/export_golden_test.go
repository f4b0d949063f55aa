package api_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
)

var updateGolden = flag.Bool("update", false, "rewrite the export golden files in testdata/export from the SQLite run")

// goldenExports are the exports compared byte for byte with
// testdata/export/NAME.golden. The golden files were written by the
// export code before it was rewritten for speed (issue #18), so they hold
// the old output: any difference is a change in what analysts receive.
var goldenExports = []struct{ name, query string }{
	{"long-scores-items.csv", "include=scores,items"},
	{"long-scores.csv", ""},
	{"long-items.csv", "include=items"},
	{"wide-scores-items.csv", "shape=wide&include=scores,items"},
	{"long-scores-items.ndjson", "format=ndjson&include=scores,items"},
	{"wide-scores-items.ndjson", "format=ndjson&shape=wide&include=scores,items"},
	{"long-since.csv", "include=scores,items&updated_since=" + url.QueryEscape(goldenSince.Format(time.RFC3339Nano))},
	{"wide-since.csv", "shape=wide&include=scores,items&updated_since=" + url.QueryEscape(goldenSince.Format(time.RFC3339Nano))},
	{"wide-since.ndjson", "format=ndjson&shape=wide&updated_since=" + url.QueryEscape(goldenSince.Format(time.RFC3339Nano))},
}

// goldenSince falls between the first ratings and the later ones.
var goldenSince = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// TestExportGolden exports a study seeded straight into the tables with
// what the API would refuse today but a database may hold (codes with
// commas, quotes, a leading "=", spaces, tabs, newlines, control bytes,
// non-ASCII and HTML characters), and with what analysts meet: missing
// answers, prorated and unscorable scores, amended, superseded and voided
// ratings, withdrawn dyads, session dates or none, timestamps in another
// zone, numbers that JSON writes with an exponent, scores and answers in
// spaced JSON. Every export must equal its golden file byte for byte, on
// SQLite and on PostgreSQL.
func TestExportGolden(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, newEnv(t), *updateGolden)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, newEnvWith(t, envOptions{databaseURL: pgtest.Database(t)}), false)
	})
}

func checkGolden(t *testing.T, e *env, update bool) {
	seedGolden(t, e)
	for _, g := range goldenExports {
		rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/st_golden/export?"+g.query, "")
		path := filepath.Join("testdata", "export", g.name+".golden")
		if update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("export %s differs from %s:\n%s", g.query, path, firstDiff(got, want))
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

// Score documents as the store writes them (json.Marshal of its stored
// shape), and a few as another writer might have (spaces, no subscales).
const (
	scoresFull     = `{"total":{"mean":4.5,"sum":54,"answered":12,"items":12,"prorated":false},"subscales":{"goal":{"mean":4.25,"sum":17,"answered":4,"items":4,"prorated":false},"task":{"mean":4.5,"sum":18,"answered":4,"items":4,"prorated":false},"bond":{"mean":4.75,"sum":19,"answered":4,"items":4,"prorated":false}}}`
	scoresThird    = `{"total":{"mean":3.5833333333333335,"sum":43,"answered":12,"items":12,"prorated":false},"subscales":{"goal":{"mean":3.25,"sum":13,"answered":4,"items":4,"prorated":false},"task":{"mean":3.5,"sum":14,"answered":4,"items":4,"prorated":false},"bond":{"mean":4,"sum":16,"answered":4,"items":4,"prorated":false}}}`
	scoresProrated = `{"total":{"mean":4.636363636363637,"sum":55.63636363636364,"answered":11,"items":12,"prorated":true},"subscales":{"goal":{"mean":4.333333333333333,"sum":17.333333333333332,"answered":3,"items":4,"prorated":true},"task":{"mean":4.5,"sum":18,"answered":4,"items":4,"prorated":false},"bond":{"mean":5,"sum":20,"answered":4,"items":4,"prorated":false}}}`
	scoresMissing  = `{"total":{"mean":null,"sum":null,"answered":2,"items":12,"prorated":false,"reason":"too_many_missing"},"subscales":{"goal":{"mean":null,"sum":null,"answered":1,"items":4,"prorated":false,"reason":"too_many_missing"},"task":{"mean":null,"sum":null,"answered":0,"items":4,"prorated":false,"reason":"too_many_missing"},"bond":{"mean":null,"sum":null,"answered":1,"items":4,"prorated":false,"reason":"too_many_missing"}}}`
	scoresOdd      = `{"total":{"mean":1e-7,"sum":1e+21,"answered":12,"items":12,"prorated":false},"subscales":{"goal":{"mean":-0,"sum":0.30000000000000004,"answered":4,"items":4,"prorated":false},"task":{"mean":123456789.125,"sum":0.000001,"answered":4,"items":4,"prorated":false},"bond":{"mean":2.5e-8,"sum":100000000000000000000,"answered":4,"items":4,"prorated":true}}}`
	scoresSpaced   = `{ "total": {"mean": 4, "sum": 48, "answered": 12, "items": 12, "prorated": false},
  "subscales": {"goal": {"mean": 4, "sum": 16, "answered": 4, "items": 4, "prorated": false}, "task": {"mean": 4, "sum": 16, "answered": 4, "items": 4, "prorated": false}, "bond": {"mean": 4, "sum": 16, "answered": 4, "items": 4, "prorated": false}} }`
	scoresNoSubscales = `{"total":{"mean":2,"sum":24,"answered":12,"items":12,"prorated":false},"subscales":null}`
)

// goldenRating is one row of the ratings table.
type goldenRating struct {
	id, dyad            string
	session             int
	date                any // string or nil
	role, form, answers string
	scores              string
	maxMissing          float64
	requiresSubscales   bool
	version             int
	created             time.Time
	superseded, voided  any // time.Time or nil
}

func seedGolden(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	at := func(day, h, m, s, us int) time.Time {
		return time.Date(2026, 3, day, h, m, s, us*1000, time.UTC)
	}
	plus2 := time.FixedZone("UTC+2", 2*3600)
	for _, st := range []alliance.Study{
		{ID: "st_golden", Name: "golden"},
		{ID: "st_other", Name: "other"},
	} {
		st.Forms = map[alliance.Role]string{alliance.RoleClient: "wai_sr_client", alliance.RoleCounsellor: "wai_sr_therapist"}
		st.Policy, st.CreatedAt = instrument.DefaultPolicy(), at(1, 9, 0, 0, 0)
		if err := e.store.CreateStudy(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	// $1, $2, … are PostgreSQL's placeholders, and SQLite's too.
	db := e.store.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dyads := [][3]string{
		{"dy_a1", "C-001", "K-1"},
		{"dy_b2", `=HYPERLINK("x")`, `K,2 "q"`},
		{"dy_c3", "C\x1fsep;x", "K\nline\r\nbreak"},
		{"dy_d4", " lead space", "\ttab"},
		{"dy_e5", "Åsa <&> \u2028 ✓", "@K-5"},
		{"dy_f6", "+46 70", "-K6"},
		{"dy_o7", "C-other", "K-1"},
	}
	for _, dy := range dyads {
		study := "st_golden"
		if dy[0] == "dy_o7" {
			study = "st_other"
		}
		exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ($1, $2, $3, $4, $5)`,
			dy[0], study, dy[1], dy[2], at(1, 9, 30, 0, 0))
	}
	cf, tf := "wai_sr_client", "wai_sr_therapist"
	full, ref := "[5,4,5,4,5,5,4,4,5,4,4,5]", "[4,3,4,4,4,3,4,3,4,3,3,4]"
	ratings := []goldenRating{
		// dy_a1: a complete session with dates, a prorated client rating;
		// session 2 amended (version 1 superseded); session 3 counsellor only.
		{"ra_a1_1c", "dy_a1", 1, "2026-02-27", "client", cf, "[5,5,null,4,5,5,5,5,5,4,5,5]", scoresProrated, 0.25, false, 1, at(1, 10, 0, 0, 0), nil, nil},
		{"ra_a1_1k", "dy_a1", 1, "2026-02-28", "counsellor", tf, ref, scoresThird, 0.25, false, 1, at(1, 10, 0, 0, 500000), nil, nil},
		{"ra_a1_2c1", "dy_a1", 2, "2026-03-06", "client", cf, full, scoresFull, 0.25, false, 1, at(1, 11, 0, 0, 0), at(3, 8, 0, 0, 0), nil},
		{"ra_a1_2c2", "dy_a1", 2, "2026-03-06", "client", cf, "[4,4,4,4,4,4,4,4,4,4,4,4]", scoresSpaced, 0.25, false, 2, at(3, 8, 0, 0, 0), nil, nil},
		{"ra_a1_3k", "dy_a1", 3, nil, "counsellor", tf, ref, scoresThird, 0.3333333333333333, true, 1, at(4, 12, 1, 2, 123456), nil, nil},
		// dy_b2: one complete session, dyad withdrawn afterwards.
		{"ra_b2_1c", "dy_b2", 1, "2026-03-01", "client", cf, full, scoresFull, 0.25, false, 1, at(1, 12, 0, 0, 120), nil, nil},
		{"ra_b2_1k", "dy_b2", 1, "2026-03-01", "counsellor", tf, ref, scoresThird, 0.25, false, 1, time.Date(2026, 3, 2, 14, 0, 0, 999999000, plus2), nil, nil},
		// dy_c3: mostly unanswered (no scores), answers with decimals and
		// spaces; a voided counsellor rating and its replacement.
		{"ra_c3_1c", "dy_c3", 1, nil, "client", cf, "[null,null,null,5,null,null,null,null,null,null,null,1]", scoresMissing, 0, false, 1, at(1, 13, 0, 0, 0), nil, nil},
		{"ra_c3_1kv", "dy_c3", 1, nil, "counsellor", tf, ref, scoresThird, 0.25, false, 1, at(1, 13, 0, 1, 0), at(2, 9, 0, 0, 0), at(2, 9, 0, 0, 0)},
		{"ra_c3_1k", "dy_c3", 1, "2026-03-01", "counsellor", tf, "[3.5, 4, null, 2.25, 4, 3, 4, 3, 4, 3, 3, 4]", scoresNoSubscales, 0.25, false, 2, at(2, 9, 0, 0, 1), nil, nil},
		// dy_d4: numbers JSON writes with an exponent, negative zero.
		{"ra_d4_1c", "dy_d4", 1, "2026-03-03", "client", cf, "[1e-7,-0,5,4,5,5,4,4,5,4,4,1e+21]", scoresOdd, 0.2, false, 1, at(3, 23, 59, 59, 999999), nil, nil},
		{"ra_d4_2k", "dy_d4", 2, "2026-03-10", "counsellor", tf, "[]", scoresNoSubscales, 0.25, false, 1, at(10, 0, 0, 0, 0), nil, nil},
		// dy_e5: sessions 1 and 10, so 10 sorts after 1 and 2.
		{"ra_e5_1c", "dy_e5", 1, "2026-03-01", "client", cf, full, scoresFull, 0.25, false, 1, at(1, 15, 0, 0, 0), nil, nil},
		{"ra_e5_10c", "dy_e5", 10, "2026-05-01", "client", cf, full, scoresFull, 0.25, false, 1, at(5, 15, 0, 0, 0), nil, nil},
		{"ra_e5_10k", "dy_e5", 10, "2026-05-02", "counsellor", tf, ref, scoresThird, 0.25, false, 1, at(5, 16, 0, 0, 0), nil, nil},
		{"ra_e5_2k", "dy_e5", 2, nil, "counsellor", tf, "[4,3,4,4,4,3,4,3,4,3,3]", scoresThird, 0.25, false, 1, at(2, 16, 0, 0, 0), nil, nil},
		// dy_f6: withdrawn by both, at a whole second.
		{"ra_f6_1k", "dy_f6", 1, "2026-03-01", "counsellor", tf, ref, scoresThird, 0.25, false, 1, at(1, 17, 0, 0, 0), nil, nil},
		// Another study's rating, never exported here.
		{"ra_o7_1c", "dy_o7", 1, "2026-03-01", "client", cf, full, scoresFull, 0.25, false, 1, at(1, 18, 0, 0, 0), nil, nil},
	}
	for _, r := range ratings {
		exec(`INSERT INTO ratings (id, study_id, dyad_id, session, session_date, role, form_id, answers, scores,
			max_missing_fraction, total_requires_subscales, scoring_version, version, created_at, superseded_at, voided_at)
			VALUES ($1, (SELECT study_id FROM dyads WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, '1', $12, $13, $14, $15)`,
			r.id, r.dyad, r.dyad, r.session, r.date, r.role, r.form, r.answers, r.scores, r.maxMissing, r.requiresSubscales,
			r.version, r.created, r.superseded, r.voided)
	}
	exec(`UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'client', withdrawal_reason = 'asked' WHERE id = 'dy_b2'`, at(6, 10, 30, 0, 250000))
	exec(`UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'both' WHERE id = 'dy_f6'`, at(7, 8, 0, 0, 0))
}
