package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// TestStreamStudyRatingsMatchesReference streams studies of odd rows on
// both backends and compares every row with what the export read before
// it was rewritten for speed (referenceStream, below) returns.
func TestStreamStudyRatingsMatchesReference(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			seedOddStudy(t, st)
			since := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				name          string
				since         *time.Time
				wholeSessions bool
			}{{"all", nil, false}, {"since", &since, false}, {"since, whole sessions", &since, true}} {
				want := referenceStream(t, st, "st_odd", q.since, q.wholeSessions)
				var got []alliance.ExportRow
				err := st.StreamStudyRatings(context.Background(), "st_odd", q.since, q.wholeSessions, func(r alliance.ExportRow) error {
					got = append(got, cloneExportRow(r))
					return nil
				})
				if err != nil {
					t.Fatalf("%s: StreamStudyRatings: %v", q.name, err)
				}
				if len(got) != len(want) || len(got) == 0 {
					t.Fatalf("%s: %d rows, want %d (and some)", q.name, len(got), len(want))
				}
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("%s: row %d =\n%+v\nwant\n%+v", q.name, i, describe(got[i]), describe(want[i]))
					}
				}
			}
		})
	}
}

// seedOddStudy writes ratings straight into the tables: codes that are
// empty or hold commas, quotes, newlines and (on SQLite, which keeps any
// bytes) the packing separator; timestamps SQLite holds in other layouts
// or as Unix time; unanswered items, spaced and unscorable JSON; amended
// and voided versions; withdrawals with and without a scope; a second
// study.
func seedOddStudy(t *testing.T, st *Store) {
	t.Helper()
	ctx := context.Background()
	sqlite := st.Dialect() == migrations.SQLite
	for _, id := range []string{"st_odd", "st_else"} {
		if err := st.CreateStudy(ctx, alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{alliance.RoleClient: "wai_sr_client"},
			CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.DB().ExecContext(ctx, rebind(st.Dialect(), q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sep := "\xff"
	if !sqlite {
		sep = "ÿ" // PostgreSQL holds only UTF-8
	}
	dyads := [][3]string{
		{"dy_1", "C-1", "K-1"},
		{"dy_2", "", ""},
		{"dy_3", "a,b \"q\"\nline", "K" + sep + "x" + sep},
		{"dy_4", sep, "Ünïcode ✓"},
		{"dy_5", "C-5", "K-5"},
	}
	for _, d := range dyads {
		exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES (?, 'st_odd', ?, ?, ?)`, d[0], d[1], d[2], time.Now())
	}
	exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_9', 'st_else', 'C-9', 'K-9', ?)`, time.Now())
	at := func(day, h int, ns int) time.Time { return time.Date(2026, 3, day, h, 0, 0, ns, time.UTC) }
	zone := time.FixedZone("", -(5*3600 + 30*60))
	scores := `{"total":{"mean":4.5,"sum":54,"answered":12,"items":12,"prorated":false},"subscales":{"bond":{"mean":4.75,"sum":19,"answered":4,"items":4,"prorated":false},"goal":{"mean":4.25,"sum":17,"answered":4,"items":4,"prorated":false},"task":{"mean":4.5,"sum":18,"answered":4,"items":4,"prorated":false}}}`
	missing := `{"total":{"mean":null,"sum":null,"answered":1,"items":12,"prorated":false,"reason":"too_many_missing"},"subscales":{}}`
	spaced := `{"subscales": {"goal": {"sum": 12, "mean": 3, "items": 4, "answered": 4, "prorated": true}}, "total": {"mean": 3.3333333333333335, "sum": 40, "answered": 12, "items": 12, "prorated": false}}`
	type row struct {
		id, dyad       string
		session        int
		date           any
		role, answers  string
		scores         string
		requires       bool
		version        int
		created        any
		superseded     any
		study          string
		maxMissing     float64
		scoringVersion string
		onlyOnSQLite   bool
	}
	rows := []row{
		{id: "ra_1a", dyad: "dy_1", session: 1, date: "2026-02-28", role: "client", answers: "[5,4,5,4,5,5,4,4,5,4,4,5]", scores: scores, version: 1, created: at(1, 10, 0)},
		{id: "ra_1b", dyad: "dy_1", session: 1, date: "2026-02-28", role: "counsellor", answers: "[4,null,3.5,4,1e-7,3,4,3,4,3,3,4]", scores: spaced, version: 1, created: at(1, 11, 123456000).In(zone)},
		{id: "ra_1c1", dyad: "dy_1", session: 2, role: "client", answers: "[1]", scores: missing, version: 1, created: at(2, 9, 0), superseded: at(3, 9, 0)},
		{id: "ra_1c2", dyad: "dy_1", session: 2, role: "client", answers: "[ 2, 2 ]", scores: scores, version: 2, created: at(3, 9, 999999000), requires: true},
		{id: "ra_2a", dyad: "dy_2", session: 3, date: "2026-03-03", role: "counsellor", answers: "[]", scores: missing, version: 1, created: at(3, 10, 0), maxMissing: 0.3333333333333333},
		{id: "ra_2v", dyad: "dy_2", session: 4, role: "client", answers: "[3]", scores: scores, version: 1, created: at(3, 11, 0), superseded: at(4, 0, 0)},
		{id: "ra_3a", dyad: "dy_3", session: 10, date: "2026-05-01", role: "client", answers: "[5,5,5,5,5,5,5,5,5,5,5,5]", scores: scores, version: 1, created: at(4, 0, 500000000)},
		{id: "ra_3b", dyad: "dy_3", session: 2, date: "2026-03-10", role: "client", answers: "[5]", scores: scores, version: 1, created: at(4, 1, 0), scoringVersion: "2"},
		{id: "ra_4a", dyad: "dy_4", session: 1, role: "client", answers: "[4]", scores: scores, version: 1, created: at(1, 12, 0)},
		// SQLite keeps whatever a DATETIME column was given: Unix
		// seconds, milliseconds, other layouts, nonsense.
		{id: "ra_4b", dyad: "dy_4", session: 1, role: "counsellor", answers: "[4]", scores: scores, version: 1, created: int64(1772359200), onlyOnSQLite: true},
		{id: "ra_4c", dyad: "dy_4", session: 2, role: "client", answers: "[4]", scores: scores, version: 1, created: int64(1772359200123), onlyOnSQLite: true},
		{id: "ra_4d", dyad: "dy_4", session: 2, role: "counsellor", answers: "[4]", scores: scores, version: 1, created: "2026-03-05T10:00:00.25Z", onlyOnSQLite: true},
		{id: "ra_4e", dyad: "dy_4", session: 3, role: "client", answers: "[4]", scores: scores, version: 1, created: "2026-03-05 10:00", onlyOnSQLite: true},
		{id: "ra_4f", dyad: "dy_4", session: 3, role: "counsellor", answers: "[4]", scores: scores, version: 1, created: "yesterday", onlyOnSQLite: true},
		{id: "ra_4g", dyad: "dy_4", session: 4, role: "client", answers: "[4]", scores: scores, version: 1, created: "2026-02-30 10:00:00+00:00", onlyOnSQLite: true},
		{id: "ra_5a", dyad: "dy_5", session: 1, role: "client", answers: "[2,2,2]", scores: scores, version: 1, created: at(5, 0, 0)},
		{id: "ra_9a", dyad: "dy_9", session: 1, role: "client", answers: "[1]", scores: scores, version: 1, created: at(5, 0, 0), study: "st_else"},
	}
	for _, r := range rows {
		if r.onlyOnSQLite && !sqlite {
			continue
		}
		study, sv, mm := cmpOr(r.study, "st_odd"), cmpOr(r.scoringVersion, "1"), r.maxMissing
		if mm == 0 {
			mm = 0.25
		}
		voided := r.superseded
		if r.id != "ra_2v" {
			voided = nil
		}
		exec(`INSERT INTO ratings (id, study_id, dyad_id, session, session_date, role, form_id, answers, scores, max_missing_fraction,
			total_requires_subscales, scoring_version, version, created_at, superseded_at, voided_at)
			VALUES (?, ?, ?, ?, ?, ?, 'wai_sr_client', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, study, r.dyad, r.session, r.date, r.role, r.answers, r.scores, mm, r.requires, sv, r.version, r.created, r.superseded, voided)
	}
	exec(`UPDATE dyads SET withdrawn_at = ?, withdrawn_scope = 'both' WHERE id = 'dy_3'`, at(6, 0, 1000))
	exec(`UPDATE dyads SET withdrawn_at = ? WHERE id = 'dy_5'`, at(6, 1, 0))
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// referenceStream is StreamStudyRatings as it was before the export was
// rewritten (GORM's query builder, one column per field, a new row per
// rating), kept as the reference the new read must match.
func referenceStream(t *testing.T, s *Store, studyID string, since *time.Time, wholeSessions bool) []alliance.ExportRow {
	t.Helper()
	q := s.db.Table("ratings AS r").
		Select(`r.id, r.study_id, r.dyad_id, r.session, r.session_date, r.role, r.form_id, r.answers, r.scores,
			r.max_missing_fraction, r.total_requires_subscales, r.scoring_version, r.version, r.created_at, r.superseded_at,
			d.client_code, d.counsellor_code, d.withdrawn_at, d.withdrawn_scope`).
		Joins("JOIN dyads AS d ON d.id = r.dyad_id").
		Where("r.study_id = ? AND r.superseded_at IS NULL", studyID)
	switch {
	case since != nil && wholeSessions:
		q = q.Where(`EXISTS (SELECT 1 FROM ratings AS u WHERE u.dyad_id = r.dyad_id AND u.session = r.session
			AND u.superseded_at IS NULL AND u.created_at > ?)`, *since)
	case since != nil:
		q = q.Where("r.created_at > ?", *since)
	}
	rows, err := q.Order("r.dyad_id, r.session, r.role").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var dec scoreDecoder
	var out []alliance.ExportRow
	for rows.Next() {
		var row ratingRow
		var client, counsellor string
		var withdrawnAt sql.NullTime
		var withdrawnScope sql.NullString
		err := rows.Scan(&row.ID, &row.StudyID, &row.DyadID, &row.Session, &row.SessionDate, &row.Role, &row.FormID,
			&row.Answers, &row.Scores, &row.MaxMissingFraction, &row.TotalRequiresSubscales, &row.ScoringVersion, &row.Version, &row.CreatedAt,
			&row.SupersededAt, &client, &counsellor, &withdrawnAt, &withdrawnScope)
		if err != nil {
			t.Fatal(err)
		}
		r, err := row.decode(&dec)
		if err != nil {
			t.Fatal(err)
		}
		e := alliance.ExportRow{Rating: r, ClientCode: client, CounsellorCode: counsellor}
		if withdrawnAt.Valid {
			e.Withdrawal = &alliance.Withdrawal{At: withdrawnAt.Time.UTC(), Scope: withdrawnScope.String}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cloneExportRow copies a streamed row out of the storage the stream
// reuses.
func cloneExportRow(r alliance.ExportRow) alliance.ExportRow {
	f := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	score := func(s alliance.Score) alliance.Score {
		s.Mean, s.Sum = f(s.Mean), f(s.Sum)
		return s
	}
	out := r
	out.Rating.Answers = make([]*float64, len(r.Rating.Answers))
	for i, a := range r.Rating.Answers {
		out.Rating.Answers[i] = f(a)
	}
	out.Rating.Scores.Total = score(r.Rating.Scores.Total)
	out.Rating.Scores.Subscales = maps.Clone(r.Rating.Scores.Subscales)
	for k, v := range out.Rating.Scores.Subscales {
		out.Rating.Scores.Subscales[k] = score(v)
	}
	if r.Rating.SessionDate != nil {
		d := *r.Rating.SessionDate
		out.Rating.SessionDate = &d
	}
	if r.Withdrawal != nil {
		w := *r.Withdrawal
		out.Withdrawal = &w
	}
	return out
}

// describe prints a row with its pointers followed, for failure messages.
func describe(r alliance.ExportRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v answers [", r.Rating)
	for _, a := range r.Rating.Answers {
		if a == nil {
			b.WriteString("nil ")
		} else {
			fmt.Fprintf(&b, "%v ", *a)
		}
	}
	fmt.Fprintf(&b, "] codes %q %q", r.ClientCode, r.CounsellorCode)
	if r.Withdrawal != nil {
		fmt.Fprintf(&b, " withdrawal %+v", *r.Withdrawal)
	}
	return b.String()
}

// TestStreamStudyRatingsStopsEarly: when fn fails, the stream returns its
// error at once and leaves no goroutine reading rows behind, however many
// rows the reader had read ahead.
func TestStreamStudyRatingsStopsEarly(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			ctx := context.Background()
			if err := st.CreateStudy(ctx, alliance.Study{ID: "st", Name: "s", Forms: map[alliance.Role]string{}, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := rebind(st.Dialect(), `INSERT INTO ratings (id, study_id, dyad_id, session, role, form_id, answers, scores,
				max_missing_fraction, scoring_version, version, created_at) VALUES (?, 'st', ?, ?, 'client', 'f', '[1]', '{}', 0.25, '1', 1, ?)`)
			for d := range 100 {
				if _, err := tx.ExecContext(ctx, rebind(st.Dialect(), `INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES (?, 'st', ?, 'k', ?)`),
					fmt.Sprintf("dy%03d", d), fmt.Sprintf("c%03d", d), time.Now()); err != nil {
					t.Fatal(err)
				}
				for s := 1; s <= 30; s++ {
					if _, err := tx.ExecContext(ctx, q, fmt.Sprintf("ra%03d-%02d", d, s), fmt.Sprintf("dy%03d", d), s, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			before := runtime.NumGoroutine()
			stop := errors.New("stop")
			for _, after := range []int{1, 1000, 2999} {
				seen := 0
				err := st.StreamStudyRatings(ctx, "st", nil, false, func(alliance.ExportRow) error {
					if seen++; seen == after {
						return stop
					}
					return nil
				})
				if !errors.Is(err, stop) || seen != after {
					t.Errorf("StreamStudyRatings stopped after %d of %d rows with %v; want %v after %d", seen, after, err, stop, after)
				}
			}
			n := 0
			if err := st.StreamStudyRatings(ctx, "st", nil, false, func(alliance.ExportRow) error { n++; return nil }); err != nil || n != 3000 {
				t.Errorf("StreamStudyRatings = %d rows, %v; want 3000", n, err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if g := runtime.NumGoroutine(); g > before {
				t.Errorf("%d goroutines after the streams, %d before: a reader was left behind", g, before)
			}
		})
	}
}

// TestExportBatchTakesLargeRows: a row larger than a batch's arena gets a
// batch of its own, and the rows already added keep their bytes.
func TestExportBatchTakesLargeRows(t *testing.T) {
	b := newExportBatch()
	small := exportFields{id: []byte("ra_1"), answers: []byte("[1]"), sessionDate: nullBytes{nil, false}}
	if !b.add(&small) {
		t.Fatal("an empty batch refused a small row")
	}
	big := exportFields{id: []byte("ra_2"), scores: make([]byte, batchArena+1)}
	if b.add(&big) {
		t.Fatal("a batch with rows took a row larger than its room")
	}
	if string(b.rows[0].id) != "ra_1" || string(b.rows[0].answers) != "[1]" || b.rows[0].sessionDate.b != nil {
		t.Fatalf("first row = %+v", b.rows[0])
	}
	b.reset()
	if !b.add(&big) || len(b.rows[0].scores) != batchArena+1 {
		t.Fatal("an empty batch refused a large row")
	}
}

// TestParseNumber: the decimal fast path gives exactly what
// strconv.ParseFloat gives, and defers to it for everything else.
func TestParseNumber(t *testing.T) {
	toks := []string{"0", "5", "12", "4.25", "3.5833333333333335", "0.30000000000000004", "1e-7", "1e+21", "-0", "-3.5",
		"00.5", ".5", "5.", "", "abc", "1.2.3", "123456789012345", "1234567890123456", "999999999999999.9",
		"0.000001", "123456789.125", "100000000000000000000", "+5", "5e", "0.1", "0.2", "0.7", "17.333333333333332"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		x := rng.Float64() * math.Pow(10, float64(rng.IntN(12)-4))
		toks = append(toks, strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(x, 'f', rng.IntN(8), 64),
			strconv.Itoa(rng.IntN(1_000_000)))
	}
	for _, tok := range toks {
		want, err := strconv.ParseFloat(tok, 64)
		got, ok := parseNumber([]byte(tok))
		if ok != (err == nil) || (ok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Errorf("parseNumber(%q) = %v, %v; ParseFloat gives %v, %v", tok, got, ok, want, err)
		}
	}
}

// TestParseSQLiteTime: a DATETIME column's packed text reads as the
// SQLite driver reads the column, for the layout the driver writes (in
// any zone, with any fraction) and for everything else.
func TestParseSQLiteTime(t *testing.T) {
	var texts []string
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		tm := time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)).In(time.FixedZone("", (rng.IntN(48)-24)*1800))
		if rng.IntN(3) == 0 {
			tm = tm.Truncate(time.Second)
		}
		texts = append(texts, tm.Format(sqlite3.SQLiteTimestampFormats[0]))
	}
	texts = append(texts, "2026-03-01 10:00:00+00:00", "2026-03-01 10:00:00.5-07:30", "2026-02-29 10:00:00+00:00",
		"2028-02-29 23:59:59.999999999+14:00", "2026-13-01 10:00:00+00:00", "2026-03-01 24:00:00+00:00",
		"2026-03-01 10:00:00.1234567891+00:00", "2026-03-01 10:00:00+25:00", "2026-03-01T10:00:00Z",
		"2026-03-01 10:00:00", "2026-03-01 10:00", "2026-03-01", "1772359200", "1772359200123", "-5", "yesterday", "")
	for _, s := range texts {
		if got, want := parseSQLiteTime([]byte(s)), driverTime(s); !got.Equal(want) || got.IsZero() != want.IsZero() {
			t.Errorf("parseSQLiteTime(%q) = %v, want %v", s, got, want)
		}
	}
}

// driverTime is how mattn/go-sqlite3 reads a DATETIME column holding s:
// an integer as Unix time, text by its layouts, else the zero time.
func driverTime(s string) time.Time {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e12 || n < -1e12 {
			return time.Unix(0, n*int64(time.Millisecond)).UTC()
		}
		return time.Unix(n, 0).UTC()
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}
