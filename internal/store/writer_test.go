package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/migrations"
)

// openWriterStore opens a migrated SQLite store for the writer's tests.
func openWriterStore(t *testing.T) *Store {
	t.Helper()
	return openMigrated(t, filepath.Join(t.TempDir(), "w.db"))
}

// gate replaces st's writer with one whose first write, once its
// statements have run, waits for release before its transaction commits.
func gate(t *testing.T, st *Store) (ran <-chan struct{}, release func()) {
	t.Helper()
	st.writer.Close()
	ranCh, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	st.writer = groupcommit.New(groupcommit.Tx(st.writerDB, func(ctx context.Context, tx *sql.Tx, w write) error {
		err := st.runWrite(ctx, tx, w)
		once.Do(func() {
			close(ranCh)
			<-stop
		})
		return err
	}), groupcommit.Options{OnCommit: st.checkpoints.committed})
	return ranCh, sync.OnceFunc(func() { close(stop) })
}

// hold keeps the writer busy with a write of its own until the returned
// release is called, so that writes queued meanwhile share the next batch:
// it replaces the writer with one loop of the backend's commit whose first
// batch waits for release before it commits.
func hold(t *testing.T, st *Store) (release func()) {
	t.Helper()
	commit := st.commitPipelined
	if st.writerDB != nil {
		commit = groupcommit.Tx(st.writerDB, st.runWrite)
	}
	st.writer.Close()
	held, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	st.writer = groupcommit.New(func(batch []groupcommit.Pending[write], errs []error) {
		once.Do(func() {
			close(held)
			<-stop
		})
		commit(batch, errs)
	}, groupcommit.Options{})
	done := make(chan error, 1)
	go func() {
		done <- st.CreateStudy(context.Background(), alliance.Study{ID: "st_hold", Name: "hold", Forms: map[alliance.Role]string{},
			Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()})
	}()
	<-held
	return func() {
		close(stop)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestBatchWithAFailingWrite puts a failing write between two good ones in
// one batch, on each backend: the failing write alone is refused (SQLite
// replays the batch with savepoints, PostgreSQL splits it at the failure),
// and only the good writes and their audit entries are stored.
func TestBatchWithAFailingWrite(t *testing.T) {
	t.Parallel()
	onBackends(t, batchWithAFailingWrite)
}

func batchWithAFailingWrite(t *testing.T, st *Store) {
	ctx := context.Background()
	study := func(id string) alliance.Study {
		return alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	}
	audit := func(id string) alliance.AuditEntry {
		return alliance.AuditEntry{At: time.Now().UTC(), Actor: "system", Action: "study.create", Resource: "study", ResourceID: id, StudyID: id}
	}
	if err := st.CreateStudy(ctx, study("st_taken")); err != nil {
		t.Fatal(err)
	}
	// Three writes of one shape (on PostgreSQL, merged into one INSERT per
	// statement), then three of different shapes whose middle one fails
	// an op's expectation (a revocation of no key).
	type write struct {
		name string
		do   func() error
		want error
	}
	create := func(id string) write {
		return write{id, func() error { return st.CreateStudy(ctx, study(id), audit(id)) }, nil}
	}
	taken := create("st_taken")
	taken.want = alliance.ErrConflict
	revoke := write{"revoke", func() error {
		return st.RevokeKey(ctx, "key_none", time.Now().UTC(), audit("key_none"))
	}, alliance.ErrNotFound}
	for _, batch := range [][]write{{create("st_a"), taken, create("st_b")}, {create("st_c"), revoke, create("st_d")}} {
		release := hold(t, st)
		errs := make([]chan error, len(batch))
		for i, w := range batch {
			errs[i] = make(chan error, 1)
			go func() { errs[i] <- w.do() }()
			for st.writer.Queued() < i+1 { // queued in this order
				time.Sleep(time.Millisecond)
			}
		}
		release()
		for i, w := range batch {
			if err := <-errs[i]; (w.want == nil && err != nil) || !errors.Is(err, w.want) {
				t.Errorf("%s in the batch = %v; want %v", w.name, err, w.want)
			}
		}
		if _, err := st.sqlDB.ExecContext(ctx, "DELETE FROM studies WHERE id = 'st_hold'"); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := st.FindAudit(ctx, alliance.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.ResourceID)
	}
	if want := []string{"st_a", "st_b", "st_c", "st_d"}; !slices.Equal(got, want) {
		t.Errorf("audit log after the batches = %v; want %v", got, want)
	}
}

// TestReadsStayOffTheWriter holds a write open in the writer and reads
// meanwhile: the read must neither see the uncommitted row nor wait for
// the writer, which it would if it shared the writer's connection.
func TestReadsStayOffTheWriter(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	study := alliance.Study{ID: "st_open", Name: "open", Forms: map[alliance.Role]string{},
		Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	inserted, release := gate(t, st)
	done := make(chan error, 1)
	go func() { done <- st.CreateStudy(ctx, study) }()
	<-inserted
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := st.FindStudyByID(readCtx, study.ID)
	cancel()
	release()
	if !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("FindStudyByID during an open write = %v; want ErrNotFound (no dirty read, no wait on the writer)", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := st.FindStudyByID(ctx, study.ID); err != nil {
		t.Errorf("FindStudyByID after the commit = %v", err)
	}
}

// TestReadOnlyDatabase makes SQLite refuse writes as it does when its file
// became read-only (SQLITE_READONLY), by switching the writer connection
// to query_only: the kernel will not remount a file system read-only while
// the database is open for writing, so this is the nearest a test gets.
// Writes fail as ErrUnavailable (503), reads go on, Ping reports the
// fault, and all is well once writes are possible again.
func TestReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	study := func(id string) alliance.Study {
		return alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	}
	if err := st.CreateStudy(ctx, study("st_before")); err != nil {
		t.Fatal(err)
	}
	readOnly := func(on bool) {
		t.Helper()
		v := "OFF"
		if on {
			v = "ON"
		}
		// The writer is idle here: no write is queued or running.
		if _, err := st.writerDB.ExecContext(ctx, "PRAGMA query_only = "+v); err != nil {
			t.Fatal(err)
		}
	}

	readOnly(true)
	if err := st.CreateStudy(ctx, study("st_during")); !errors.Is(err, alliance.ErrUnavailable) {
		t.Errorf("CreateStudy on a read-only database = %v; want ErrUnavailable", err)
	}
	if _, err := st.FindStudyByID(ctx, "st_before"); err != nil {
		t.Errorf("a read during the fault = %v; want the study", err)
	}
	if err := st.Ping(ctx); !errors.Is(err, alliance.ErrUnavailable) {
		t.Errorf("Ping during the fault = %v; want ErrUnavailable", err)
	}

	readOnly(false)
	if err := st.CreateStudy(ctx, study("st_after")); err != nil {
		t.Errorf("CreateStudy after the fault cleared = %v", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after the fault cleared = %v", err)
	}
}

// TestStreamStopsWhenCancelled: a long read runs its SQLite query without
// cancellation (see rowsCtx), so its loop must notice the caller's context
// ending by itself, within 256 rows.
func TestStreamStopsWhenCancelled(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	f, _ := instrument.Builtin().Form("wai_sr_client")
	now := time.Now().UTC()
	if err := st.CreateStudy(ctx, alliance.Study{ID: "st", Name: "s", Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	x := 3.0
	ans := []*float64{&x, &x, &x, &x, &x, &x, &x, &x, &x, &x, &x, &x}
	const dyads, sessions = 20, 30 // 600 ratings
	for d := range dyads {
		id := fmt.Sprintf("dy%02d", d)
		if err := st.CreateDyad(ctx, alliance.Dyad{ID: id, StudyID: "st", ClientCode: id, CounsellorCode: "k", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		for s := 1; s <= sessions; s++ {
			r := alliance.Rating{ID: fmt.Sprintf("%s-%02d", id, s), StudyID: "st", DyadID: id, Session: s, Role: alliance.RoleClient,
				FormID: f.ID, Answers: ans, Scores: f.Score(ans, instrument.DefaultPolicy()), Policy: instrument.DefaultPolicy(),
				ScoringVersion: "1", Version: 1, CreatedAt: now}
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen := 0
	err := st.StreamStudyRatings(cctx, "st", nil, false, func(alliance.ExportRow) error {
		seen++
		cancel() // the client went away after the first row
		return nil
	})
	if !errors.Is(err, context.Canceled) || seen >= 256 {
		t.Errorf("StreamStudyRatings after cancel = %v after %d rows; want context.Canceled within 256 rows", err, seen)
	}
	if _, err := st.FindStudyRatings(cctx, "st", alliance.SessionSelector{Last: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("FindStudyRatings with a cancelled context = %v; want context.Canceled", err)
	}
}

// TestQueueMergesTheCommonInserts: a PostgreSQL batch sends the plain
// INSERTs every write begins with once, with a row per write, and then
// each write's own statements (a rating's alert changes differ from write
// to write), attributed to their write so a failure splits the batch there.
func TestQueueMergesTheCommonInserts(t *testing.T) {
	d := migrations.Postgres
	key := newStatement(d, "INSERT INTO k (a) VALUES (?)")
	rating := newStatement(d, "INSERT INTO r (a, b) VALUES (?, ?)")
	alert := newStatement(d, "INSERT INTO al (a) VALUES (?)")
	resolve := newStatement(d, "UPDATE al SET b = ? WHERE a = ?")
	guarded := newStatement(d, "UPDATE s SET b = ? WHERE a = ?")
	write := func(ops ...op) []op { return ops }
	k := op{st: key, args: []any{1}, taken: alliance.ErrIdempotencyKeyTaken}
	r := op{st: rating, args: []any{1, 2}}
	for _, tc := range []struct {
		name    string
		batch   [][]op
		texts   []string
		writes  []int
		expects bool
	}{
		{"same inserts", [][]op{write(k, r), write(k, r)},
			[]string{key.rows(2), rating.rows(2)},
			[]int{someWrite, someWrite}, false},
		{"different tails", [][]op{
			write(k, r, op{st: alert, args: []any{1}}),
			write(k, r),
			write(k, r, op{st: resolve, args: []any{1, 2}}, op{st: alert, args: []any{2}})},
			[]string{key.rows(3), rating.rows(3),
				alert.text, resolve.text, alert.text},
			[]int{someWrite, someWrite, 0, 2, 2}, false},
		{"a shorter write ends the common run", [][]op{write(k, r), write(k)},
			[]string{key.rows(2), rating.text},
			[]int{someWrite, 0}, false},
		{"an expectation is never merged", [][]op{
			write(op{st: guarded, args: []any{1, 2}, none: alliance.ErrConflict}, r), write(k, r)},
			[]string{guarded.text, rating.text, key.text, rating.text},
			[]int{0, 0, 1, 1}, true},
		{"one write is sent as it is", [][]op{write(k, r)},
			[]string{key.text, rating.text}, []int{0, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b pgx.Batch
			stmts, expects := queue(&b, tc.batch, nil)
			var texts []string
			for _, q := range b.QueuedQueries {
				texts = append(texts, q.SQL)
			}
			var writes []int
			for _, s := range stmts {
				writes = append(writes, s.write)
			}
			if !slices.Equal(texts, tc.texts) || !slices.Equal(writes, tc.writes) || expects != tc.expects {
				t.Errorf("queue =\n%q, writes %v, expects %v;\nwant\n%q, writes %v, expects %v", texts, writes, expects, tc.texts, tc.writes, tc.expects)
			}
		})
	}
}

// TestOneDyadTwiceInABatch queues two rating writes of one dyad into one
// batch, each evaluating its alerts: the second must be evaluated with
// the first's rating in view, as if they had come one after the other
// (SQLite reads the batch's own writes in its transaction; PostgreSQL
// cuts the batch before the second, whose reads would otherwise run
// before the first's write).
func TestOneDyadTwiceInABatch(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		study := alliance.Study{ID: "st_1", Name: "s", Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: now}
		if err := st.CreateStudy(ctx, study); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateDyad(ctx, alliance.Dyad{ID: "dy_1", StudyID: "st_1", ClientCode: "C1", CounsellorCode: "K1", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		seen := make([]alliance.AlertContext, 2)
		release := hold(t, st)
		errs := make([]chan error, 2)
		for i, role := range []alliance.Role{alliance.RoleClient, alliance.RoleCounsellor} {
			errs[i] = make(chan error, 1)
			w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: alliance.Rating{ID: "ra_" + string(role), StudyID: "st_1", DyadID: "dy_1",
				Session: 1, Role: role, FormID: "f", Policy: instrument.DefaultPolicy(), Version: 1, CreatedAt: now},
				Alerts: func(ac alliance.AlertContext) *alliance.AlertEffects { seen[i] = ac; return nil }}
			go func() { errs[i] <- st.WriteRating(ctx, w) }()
			for st.writer.Queued() < i+1 { // queued in this order
				time.Sleep(time.Millisecond)
			}
		}
		release()
		for i := range errs {
			if err := <-errs[i]; err != nil {
				t.Fatal(err)
			}
		}
		if len(seen[0].Ratings) != 0 || len(seen[1].Ratings) != 1 || seen[1].Ratings[0].ID != "ra_client" {
			t.Errorf("contexts = %+v, %+v; want none, then the client's rating", seen[0].Ratings, seen[1].Ratings)
		}
	})
}

// TestBatchOfAlertChanges: a batch of rating writes of different dyads,
// whose alert changes PostgreSQL makes kind by kind for the whole batch
// (each kind's in one statement), stores what the same writes store one
// by one: each write resolves its dyad's open alert, raises a divergence
// and a repair with their events, marks the rupture the repair repairs,
// and raises a key raised before, which is skipped with its event.
func TestBatchOfAlertChanges(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		if err := st.CreateStudy(ctx, alliance.Study{ID: "st_1", Name: "s", Forms: map[alliance.Role]string{},
			Policy: instrument.DefaultPolicy(), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		const dyads = 4
		raise := func(d int, id string, kind alliance.AlertKind, key, episode string) alliance.RaisedAlert {
			dyad := fmt.Sprintf("dy_%d", d)
			return alliance.RaisedAlert{
				Alert: alliance.Alert{ID: id, StudyID: "st_1", DyadID: dyad, Kind: kind, Role: alliance.RoleClient, Session: 1,
					Key: dyad + ":" + key, RatingID: "r", RatingIDs: []string{"r"}, EpisodeID: episode,
					Figures: alliance.AlertFigures{Metric: "total"}, CreatedAt: now},
				Event: &alliance.OutboxEvent{ID: "msg_" + id, StudyID: "st_1", DyadID: dyad, Type: alliance.EventAlertRaised,
					Data: []byte(`{}`), CreatedAt: now},
			}
		}
		rating := func(d, session int) alliance.Rating {
			return alliance.Rating{ID: fmt.Sprintf("ra_%d_%d", d, session), StudyID: "st_1", DyadID: fmt.Sprintf("dy_%d", d),
				Session: session, Role: alliance.RoleClient, FormID: "f", Policy: instrument.DefaultPolicy(), Version: 1, CreatedAt: now}
		}
		id := func(d int, what string) string { return fmt.Sprintf("al_%d_%s", d, what) }
		for d := range dyads {
			if err := st.CreateDyad(ctx, alliance.Dyad{ID: fmt.Sprintf("dy_%d", d), StudyID: "st_1",
				ClientCode: fmt.Sprintf("C%d", d), CounsellorCode: "K1", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			before := alliance.AlertEffects{Raise: []alliance.RaisedAlert{
				raise(d, id(d, "open"), alliance.AlertLowAlliance, "open", ""),
				raise(d, id(d, "rupture"), alliance.AlertRupture, "rupture", id(d, "rupture")),
				raise(d, id(d, "seen"), alliance.AlertDivergence, "seen", ""),
			}}
			if err := st.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating(d, 1),
				Alerts: func(alliance.AlertContext) *alliance.AlertEffects { return &before }}); err != nil {
				t.Fatal(err)
			}
		}

		release := hold(t, st)
		errs := make([]chan error, dyads)
		for d := range dyads {
			after := alliance.AlertEffects{
				Resolve: []alliance.AlertResolution{{ID: id(d, "open"), At: now, By: "rating", Reason: "amended"}},
				Raise: []alliance.RaisedAlert{
					raise(d, id(d, "divergence"), alliance.AlertDivergence, "divergence", ""),
					raise(d, id(d, "repair"), alliance.AlertRepair, "repair", id(d, "rupture")),
					raise(d, id(d, "again"), alliance.AlertDivergence, "seen", ""), // the key of al_d_seen
				}}
			errs[d] = make(chan error, 1)
			w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating(d, 2),
				Alerts: func(alliance.AlertContext) *alliance.AlertEffects { return &after }}
			go func() { errs[d] <- st.WriteRating(ctx, w) }()
			for st.writer.Queued() < d+1 {
				time.Sleep(time.Millisecond)
			}
		}
		release()
		for d := range errs {
			if err := <-errs[d]; err != nil {
				t.Fatal(err)
			}
		}

		for d := range dyads {
			var resolvedBy, repairedBy sql.NullString
			if err := st.DB().QueryRow(`SELECT resolved_by FROM alerts WHERE id = $1`, id(d, "open")).Scan(&resolvedBy); err != nil {
				t.Fatal(err)
			}
			if err := st.DB().QueryRow(`SELECT repaired_by FROM alerts WHERE id = $1`, id(d, "rupture")).Scan(&repairedBy); err != nil {
				t.Fatal(err)
			}
			if resolvedBy.String != "rating" || repairedBy.String != id(d, "repair") {
				t.Errorf("dyad %d: open alert resolved by %q, rupture repaired by %q; want rating, %s", d, resolvedBy.String, repairedBy.String, id(d, "repair"))
			}
			for _, what := range []string{"divergence", "repair", "again"} {
				var alerts, events int
				if err := st.DB().QueryRow(`SELECT COUNT(*) FROM alerts WHERE id = $1`, id(d, what)).Scan(&alerts); err != nil {
					t.Fatal(err)
				}
				if err := st.DB().QueryRow(`SELECT COUNT(*) FROM outbox_events WHERE id = $1`, "msg_"+id(d, what)).Scan(&events); err != nil {
					t.Fatal(err)
				}
				want := 1
				if what == "again" {
					want = 0
				}
				if alerts != want || events != want {
					t.Errorf("dyad %d, %s: %d alerts, %d events; want %d of each", d, what, alerts, events, want)
				}
			}
		}
	})
}

// TestAlertChangesMerged: in a PostgreSQL batch each kind of alert change
// with more than one row is one statement of that many rows, in the order
// of alertChanges; a lone row is the statement of one.
func TestAlertChangesMerged(t *testing.T) {
	sq := newStatements(migrations.Postgres)
	c := alertChanges{
		resolve:  [][]any{{1, 2, 3, 4}, {5, 6, 7, 8}},
		raise:    [][]any{make([]any, 12), make([]any, 12), make([]any, 12)},
		event:    [][]any{make([]any, 7), make([]any, 7)},
		repaired: [][]any{{"a", "b", "a"}},
	}
	var got []string
	for _, o := range c.ops(sq, true) {
		got = append(got, o.text())
	}
	want := []string{sq.resolveAlert.rows(2), sq.insertAlert.rows(3), sq.insertAlertEvent.rows(2), sq.markRepaired.text}
	if !slices.Equal(got, want) {
		t.Errorf("merged ops =\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(want[0], "$8::text)") || !strings.HasSuffix(want[1], "ON CONFLICT (dedup_key) WHERE resolved_at IS NULL DO NOTHING") {
		t.Errorf("rows of two resolutions = %q, of three alerts = %q", want[0], want[1])
	}
	if n := len(c.ops(sq, false)); n != 8 {
		t.Errorf("%d ops one by one, want 8", n)
	}
}

// TestRatingWritesPlannedOnce: PostgreSQL plans the statements of a
// rating write once per connection, not for every write. Its reads bound
// a session by a parameter, and PostgreSQL planned them again for each
// execution (see planGenericSQL). On one connection, every statement run
// for each of the writes must have used its generic plan only.
func TestRatingWritesPlannedOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	openMigrated(t, url)
	// A store of its own, with one connection: the statements prepared on
	// it are this test's only (the migrations ran on the other's).
	ctx := context.Background()
	st, err := Open(ctx, url, quiet, WithMaxOpenConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	version, err := serverVersion(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("pg_prepared_statements counts plans from PostgreSQL 14 on; this server is %d", version)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := st.CreateStudy(ctx, alliance.Study{ID: "st_1", Name: "s", Forms: map[alliance.Role]string{},
		Policy: instrument.DefaultPolicy(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDyad(ctx, alliance.Dyad{ID: "dy_1", StudyID: "st_1", ClientCode: "C1", CounsellorCode: "K1",
		CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const writes = 8 // PostgreSQL's own choice plans the first five for their values
	for session := 1; session <= writes; session++ {
		r := alliance.Rating{ID: fmt.Sprintf("ra_%d", session), StudyID: "st_1", DyadID: "dy_1", Session: session,
			Role: alliance.RoleClient, FormID: "f", Policy: instrument.DefaultPolicy(), Version: 1, CreatedAt: now}
		if err := st.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingCreate, Rating: r,
			Alerts: func(alliance.AlertContext) *alliance.AlertEffects { return nil }}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE generic_plans + custom_plans >= $1`, writes)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var each []string
	for rows.Next() {
		var stmt string
		var generic, custom int
		if err := rows.Scan(&stmt, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		each = append(each, stmt)
		if custom > 0 {
			t.Errorf("planned for its values %d times of %d: %s", custom, generic+custom, stmt)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*statement{st.sql.alertLock, st.sql.alertContext, st.sql.alertLater, st.sql.activeAlerts} {
		if !slices.Contains(each, want.text) {
			t.Errorf("no statement run for every write is %q; ran: %q", want.text, each)
		}
	}
}
