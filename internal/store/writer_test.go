package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/instrument"
)

// openWriterStore opens a migrated SQLite store for the committer's tests.
func openWriterStore(t *testing.T) *Store {
	t.Helper()
	return openMigrated(t, filepath.Join(t.TempDir(), "w.db"))
}

// hold keeps the committer busy in a write of its own until the returned
// release is called, so that writes queued meanwhile share the next batch.
func hold(t *testing.T, st *Store) (release func()) {
	t.Helper()
	started, stop := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.committer.do(context.Background(), func(*gorm.DB) error {
			close(started)
			<-stop
			return nil
		}, nil)
	}()
	<-started
	return func() {
		close(stop)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestBatchWithAFailingWrite puts a failing write between two good ones in
// one batch: the batch is replayed with savepoints, the failing write
// alone is refused, and only the good writes' audit entries are stored.
func TestBatchWithAFailingWrite(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	study := func(id string) alliance.Study {
		return alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	}
	audit := func(id string) alliance.AuditEntry {
		return alliance.AuditEntry{At: time.Now().UTC(), Actor: "system", Action: "study.create", Resource: "study", ResourceID: id, StudyID: id}
	}
	if err := st.CreateStudy(ctx, study("st_taken")); err != nil {
		t.Fatal(err)
	}
	release := hold(t, st)
	ids := []string{"st_a", "st_taken", "st_b"}
	errs := make([]chan error, len(ids))
	for i, id := range ids {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- st.CreateStudy(ctx, study(id), audit(id)) }()
		for len(st.committer.queue) < i+1 { // queued in this order
			time.Sleep(time.Millisecond)
		}
	}
	release()
	for i, id := range ids {
		err := <-errs[i]
		if want := id == "st_taken"; errors.Is(err, alliance.ErrConflict) != want || (!want && err != nil) {
			t.Errorf("CreateStudy(%s) in the batch = %v; want conflict only for st_taken", id, err)
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
	if want := []string{"st_a", "st_b"}; !slices.Equal(got, want) {
		t.Errorf("audit log after the batch = %v; want %v", got, want)
	}
}

// TestReadsStayOffTheWriter holds a write open in the committer and reads
// meanwhile: the read must neither see the uncommitted row nor wait for
// the writer, which it would if it shared the writer's connection.
func TestReadsStayOffTheWriter(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	row := toStudyRow(alliance.Study{ID: "st_open", Name: "open", Forms: map[alliance.Role]string{},
		Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()})
	inserted, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.committer.do(ctx, func(tx *gorm.DB) error {
			err := tx.Create(&row).Error
			close(inserted)
			<-release
			return err
		}, nil)
	}()
	<-inserted
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := st.FindStudyByID(readCtx, row.ID)
	cancel()
	close(release)
	if !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("FindStudyByID during an open write = %v; want ErrNotFound (no dirty read, no wait on the writer)", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := st.FindStudyByID(ctx, row.ID); err != nil {
		t.Errorf("FindStudyByID after the commit = %v", err)
	}
}

// TestKeyCache checks when a revocation takes effect: at once on the store
// that revoked the key, and within KeyCacheTTL on another store of the same
// database (another instance, or the CLI beside a running server).
func TestKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	server, cli := openMigrated(t, path), openMigrated(t, path)
	key := func(id string) alliance.Key {
		return alliance.Key{ID: id, Name: id, Scopes: []auth.Scope{auth.ScopeAnalyze}, Hash: "h", CreatedAt: time.Now().UTC(), CreatedBy: "system"}
	}
	revoked := func(st *Store, id string) bool {
		t.Helper()
		k, err := st.FindKeyByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k.RevokedAt != nil
	}
	for _, id := range []string{"k_here", "k_there"} {
		if err := server.CreateKey(ctx, key(id)); err != nil {
			t.Fatal(err)
		}
		if revoked(server, id) { // read once: now cached
			t.Fatalf("new key %s reads as revoked", id)
		}
	}

	if err := server.RevokeKey(ctx, "k_here", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if !revoked(server, "k_here") {
		t.Error("a key revoked on this store still reads as valid")
	}

	revokedAt := time.Now()
	if err := cli.RevokeKey(ctx, "k_there", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	for !revoked(server, "k_there") {
		if time.Since(revokedAt) > KeyCacheTTL+5*time.Second {
			t.Fatalf("a key revoked on another store still reads as valid after %v", time.Since(revokedAt))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A caller's change to a cached key does not reach the cache.
	k, _ := server.FindKeyByID(ctx, "k_here")
	k.Scopes[0] = auth.ScopeAdmin
	if k2, _ := server.FindKeyByID(ctx, "k_here"); k2.Scopes[0] != auth.ScopeAnalyze {
		t.Errorf("a caller's change reached the cached key: scopes %v", k2.Scopes)
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
		// The committer is idle here: no write is queued or running.
		if _, err := st.committer.sql.ExecContext(ctx, "PRAGMA query_only = "+v); err != nil {
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

// TestWriterStatementCache checks that the writer prepares a statement
// once, after the transaction that first ran it, and runs later writes of
// the same kind through that prepared statement.
func TestWriterStatementCache(t *testing.T) {
	ctx := context.Background()
	st := openWriterStore(t)
	create := func(id string) {
		t.Helper()
		s := alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
		if err := st.CreateStudy(ctx, s); err != nil {
			t.Fatal(err)
		}
		// The writer prepares missed statements after answering a batch
		// and before taking the next: an empty write waits for that.
		if err := st.committer.do(ctx, func(*gorm.DB) error { return nil }, nil); err != nil {
			t.Fatal(err)
		}
	}
	studyInsert := func() (string, any) {
		t.Helper()
		for _, q := range st.committer.stmts.stmts.Keys() {
			if strings.HasPrefix(q, "INSERT INTO `studies`") {
				p, _ := st.committer.stmts.stmts.Peek(q)
				return q, p
			}
		}
		t.Fatalf("no prepared study INSERT among %q", st.committer.stmts.stmts.Keys())
		return "", nil
	}
	create("st_1") // a miss: runs unprepared, then is prepared
	q, first := studyInsert()
	n := st.committer.stmts.stmts.Len()
	create("st_2") // a hit
	if _, again := studyInsert(); again != first || st.committer.stmts.stmts.Len() != n {
		t.Errorf("the second write prepared %q again", q)
	}
	for _, id := range []string{"st_1", "st_2"} {
		if _, err := st.FindStudyByID(ctx, id); err != nil {
			t.Errorf("FindStudyByID(%s) = %v", id, err)
		}
	}
}
