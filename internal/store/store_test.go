package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/migrations"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// openSQLite opens a fresh, migrated SQLite store in a temp dir.
func openSQLite(t *testing.T) *store.Store {
	return benchdata.Open(t, filepath.Join(t.TempDir(), "alliance.db"))
}

// openPostgres opens a migrated store on a fresh PostgreSQL database of its
// own, or skips the test without ALLIANCE_TEST_POSTGRES_URL.
func openPostgres(t *testing.T) *store.Store {
	return benchdata.Open(t, pgtest.Database(t))
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	runStoreTests(t, openSQLite)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pgtest.SkipWithout(t)
	runStoreTests(t, openPostgres)
}

func TestPingUnmigrated(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "fresh.db"), discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(context.Background()); !errors.Is(err, alliance.ErrUnavailable) {
		t.Fatalf("Ping on an unmigrated database = %v, want ErrUnavailable", err)
	}
}

// TestOpenUnreachablePostgres needs no server: nothing listens on port 1,
// so Open fails, and says the storage is unavailable.
func TestOpenUnreachablePostgres(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
		"postgresql://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
	} {
		st, err := store.Open(context.Background(), url, discard)
		if err == nil {
			st.Close()
			t.Fatalf("Open(%s) = nil error, want one", url)
		}
		if !errors.Is(err, alliance.ErrUnavailable) {
			t.Errorf("Open(unreachable) = %v, want ErrUnavailable", err)
		}
	}
}

func TestOpenBadPostgresURL(t *testing.T) {
	t.Parallel()
	_, err := store.Open(context.Background(), "postgres://u:secret@127.0.0.1:notaport/db", discard)
	if err == nil {
		t.Fatal("Open(bad URL) = nil error, want one")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(bad URL) error %q reveals the password", err)
	}
}

func ptr(v float64) *float64 { return &v }

// now has microseconds, the precision of PostgreSQL's timestamptz: the
// store contract keeps times to the microsecond (SQLite keeps more).
var now = time.Date(2026, 11, 23, 9, 30, 0, 123456000, time.UTC)

func fixture(t *testing.T, ctx context.Context, st alliance.Store) (alliance.Study, alliance.Dyad) {
	t.Helper()
	s := alliance.Study{
		ID: "st_1", Name: "Alliance", Description: "d",
		Forms:     map[alliance.Role]string{alliance.RoleClient: "wai_sr_client", alliance.RoleCounsellor: "wai_sr_therapist"},
		Policy:    instrument.DefaultPolicy(),
		CreatedAt: now,
	}
	if err := st.CreateStudy(ctx, s); err != nil {
		t.Fatal(err)
	}
	d := alliance.Dyad{ID: "dy_1", StudyID: s.ID, ClientCode: "C1", CounsellorCode: "K1", CreatedAt: now}
	if err := st.CreateDyad(ctx, d); err != nil {
		t.Fatal(err)
	}
	return s, d
}

func rating(id string, session int, role alliance.Role, version int, answers ...*float64) alliance.Rating {
	f, _ := instrument.Builtin().Form("wai_sr_client")
	date := alliance.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	return alliance.Rating{
		ID: id, StudyID: "st_1", DyadID: "dy_1", Session: session, SessionDate: &date, Role: role,
		FormID: f.ID, Answers: answers, Scores: f.Score(answers, instrument.DefaultPolicy()),
		Policy: instrument.DefaultPolicy(), ScoringVersion: instrument.ScoringVersion, Version: version, CreatedAt: now,
	}
}

func twelve(v float64) []*float64 {
	out := make([]*float64, 12)
	for i := range out {
		out[i] = ptr(v)
	}
	return out
}

// runStoreTests is the one contract every Store implementation must meet.
// Each subtest opens its own empty database, so they run in parallel.
func runStoreTests(t *testing.T, open func(*testing.T) *store.Store) {
	ctx := context.Background()

	t.Run("study round trip and paging", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		s, _ := fixture(t, ctx, st)
		got, err := st.FindStudyByID(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("FindStudyByID mismatch (-want +got):\n%s", diff)
		}
		if _, err := st.FindStudyByID(ctx, "st_missing"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("FindStudyByID(missing) = %v, want ErrNotFound", err)
		}
		for _, id := range []string{"st_2", "st_3"} {
			s2 := s
			s2.ID = id
			if err := st.CreateStudy(ctx, s2); err != nil {
				t.Fatal(err)
			}
		}
		page, err := st.FindStudies(ctx, alliance.Page{Limit: 2})
		if err != nil || len(page) != 2 || page[0].ID != "st_1" || page[1].ID != "st_2" {
			t.Fatalf("FindStudies(limit 2) = %v, %v; want st_1, st_2", page, err)
		}
		page, err = st.FindStudies(ctx, alliance.Page{Limit: 2, After: "st_2"})
		if err != nil || len(page) != 1 || page[0].ID != "st_3" {
			t.Fatalf("FindStudies(after st_2) = %v, %v; want st_3", page, err)
		}
		if err := st.CreateStudy(ctx, s); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("CreateStudy(duplicate id) = %v, want ErrConflict", err)
		}
	})

	t.Run("dyads", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		_, d := fixture(t, ctx, st)
		dup := d
		dup.ID = "dy_2"
		if err := st.CreateDyad(ctx, dup); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("CreateDyad(same client code) = %v, want ErrConflict", err)
		}
		orphan := alliance.Dyad{ID: "dy_3", StudyID: "st_missing", ClientCode: "C9", CounsellorCode: "K1", CreatedAt: now}
		if err := st.CreateDyad(ctx, orphan); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("CreateDyad(unknown study) = %v, want ErrNotFound", err)
		}
		other := alliance.Dyad{ID: "dy_4", StudyID: "st_1", ClientCode: "C2", CounsellorCode: "K2", CreatedAt: now}
		if err := st.CreateDyad(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindDyads(ctx, alliance.DyadFilter{StudyID: "st_1", CounsellorCode: "K2", Page: alliance.Page{Limit: 10}})
		if err != nil || len(got) != 1 || got[0] != other {
			t.Fatalf("FindDyads(K2) = %v, %v; want [%v]", got, err, other)
		}
		one, err := st.FindDyadByID(ctx, d.ID)
		if err != nil || one != d {
			t.Fatalf("FindDyadByID = %v, %v; want %v", one, err, d)
		}
	})

	t.Run("ratings, conflicts and idempotency", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		answers := twelve(4)
		answers[3] = nil
		r := rating("ra_1", 1, alliance.RoleClient, 1, answers...)
		idem := &alliance.Idempotency{Key: "k1", Fingerprint: "f1"}
		if err := st.CreateRating(ctx, r, idem); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindRatingByID(ctx, "ra_1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("rating round trip (-want +got):\n%s", diff)
		}
		rec, err := st.FindIdempotency(ctx, "k1")
		if err != nil || rec != (alliance.IdempotencyRecord{Key: "k1", Fingerprint: "f1", RatingID: "ra_1"}) {
			t.Errorf("FindIdempotency = %+v, %v", rec, err)
		}
		if _, err := st.FindIdempotency(ctx, "k2"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("FindIdempotency(unknown) = %v, want ErrNotFound", err)
		}

		// Same key again, even for another session: refused, and nothing written.
		r2 := rating("ra_2", 2, alliance.RoleClient, 1, twelve(3)...)
		if err := st.CreateRating(ctx, r2, idem); !errors.Is(err, alliance.ErrIdempotencyKeyTaken) {
			t.Errorf("CreateRating(taken key) = %v, want ErrIdempotencyKeyTaken", err)
		}
		if _, err := st.FindRatingByID(ctx, "ra_2"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("rating of a refused write exists: %v", err)
		}
		// Second current rating of the same role and session.
		dup := rating("ra_3", 1, alliance.RoleClient, 1, twelve(3)...)
		if err := st.CreateRating(ctx, dup, &alliance.Idempotency{Key: "k3", Fingerprint: "f3"}); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("CreateRating(duplicate) = %v, want ErrConflict", err)
		}
		if _, err := st.FindIdempotency(ctx, "k3"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("idempotency key of a rolled-back write was kept: %v", err)
		}
		// A dyad that does not exist: the foreign key refuses it.
		orphan := rating("ra_5", 1, alliance.RoleClient, 1, twelve(3)...)
		orphan.DyadID = "dy_missing"
		if err := st.CreateRating(ctx, orphan, &alliance.Idempotency{Key: "k5", Fingerprint: "f5"}); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("CreateRating(unknown dyad) = %v, want ErrNotFound", err)
		}
		c := rating("ra_4", 1, alliance.RoleCounsellor, 1, twelve(3)...)
		if err := st.CreateRating(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		all, err := st.FindRatings(ctx, "dy_1")
		if err != nil || len(all) != 2 || all[0].Role != alliance.RoleClient || all[1].Role != alliance.RoleCounsellor {
			t.Fatalf("FindRatings = %v, %v; want client then counsellor", all, err)
		}
	})

	t.Run("amendments keep history", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		v1 := rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...)
		if err := st.CreateRating(ctx, v1, nil); err != nil {
			t.Fatal(err)
		}
		v2 := rating("ra_2", 1, alliance.RoleClient, 2, twelve(5)...)
		v2.CreatedAt = now.Add(time.Minute)
		amendKey := &alliance.Idempotency{Key: "amend-1", Fingerprint: "f"}
		if err := st.AmendRating(ctx, v1, v2, amendKey); err != nil {
			t.Fatal(err)
		}
		// A stale amendment (v1 is no longer current) changes nothing.
		stale := rating("ra_3", 1, alliance.RoleClient, 2, twelve(2)...)
		if err := st.AmendRating(ctx, v1, stale, nil); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("AmendRating(stale) = %v, want ErrConflict", err)
		}
		// A retry of the committed amendment finds v1 superseded too, but
		// learns first that its key was taken, so it can be replayed.
		if err := st.AmendRating(ctx, v1, stale, amendKey); !errors.Is(err, alliance.ErrIdempotencyKeyTaken) {
			t.Errorf("AmendRating(retry) = %v, want ErrIdempotencyKeyTaken", err)
		}
		hist, err := st.FindRatingHistory(ctx, "dy_1", 1, alliance.RoleClient)
		if err != nil || len(hist) != 2 {
			t.Fatalf("FindRatingHistory = %d versions, %v; want 2", len(hist), err)
		}
		if hist[0].ID != "ra_1" || hist[0].SupersededAt == nil || !hist[0].SupersededAt.Equal(v2.CreatedAt) {
			t.Errorf("version 1 = %s superseded %v, want ra_1 superseded at %v", hist[0].ID, hist[0].SupersededAt, v2.CreatedAt)
		}
		if hist[1].ID != "ra_2" || hist[1].SupersededAt != nil {
			t.Errorf("version 2 = %s superseded %v, want ra_2 current", hist[1].ID, hist[1].SupersededAt)
		}
		cur, err := st.FindSessionRatings(ctx, "dy_1", 1)
		if err != nil || len(cur) != 1 || cur[0].ID != "ra_2" {
			t.Fatalf("current ratings = %v, %v; want only ra_2", cur, err)
		}
	})

	t.Run("ping", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping = %v", err)
		}
		// A newer release migrated the database: this one is not ready.
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
			t.Fatal(err)
		}
		if err := st.Ping(ctx); !errors.Is(err, alliance.ErrUnavailable) || !errors.Is(err, migrations.ErrNewerSchema) {
			t.Errorf("Ping on a database a newer release migrated = %v, want ErrUnavailable and ErrNewerSchema", err)
		}
	})

	t.Run("times come back in UTC to the microsecond", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		s, _ := fixture(t, ctx, st)
		got, err := st.FindStudyByID(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(now) {
			t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, now)
		}
	})

	t.Run("concurrent duplicates: exactly one wins", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		const n = 8
		// The same (dyad, session, role) under n different keys, and one
		// key for n different sessions, all at once.
		dupErrs := make([]error, n)
		keyErrs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				r := rating(fmt.Sprintf("ra_dup_%d", i), 1, alliance.RoleClient, 1, twelve(4)...)
				dupErrs[i] = st.CreateRating(ctx, r, &alliance.Idempotency{Key: fmt.Sprintf("kd%d", i), Fingerprint: "f"})
			}()
			go func() {
				defer wg.Done()
				r := rating(fmt.Sprintf("ra_key_%d", i), 10+i, alliance.RoleCounsellor, 1, twelve(3)...)
				keyErrs[i] = st.CreateRating(ctx, r, &alliance.Idempotency{Key: "shared", Fingerprint: "f"})
			}()
		}
		wg.Wait()
		count := func(errs []error, loser error) (won int) {
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, loser):
					t.Errorf("attempt %d: %v, want nil or %v", i, err, loser)
				}
			}
			return won
		}
		if won := count(dupErrs, alliance.ErrConflict); won != 1 {
			t.Errorf("%d of %d concurrent duplicates were stored, want 1", won, n)
		}
		if won := count(keyErrs, alliance.ErrIdempotencyKeyTaken); won != 1 {
			t.Errorf("%d of %d writes under one idempotency key were stored, want 1", won, n)
		}
		all, err := st.FindRatings(ctx, "dy_1")
		if err != nil || len(all) != 2 {
			t.Fatalf("FindRatings = %d ratings, %v; want 2", len(all), err)
		}
		rec, err := st.FindIdempotency(ctx, "shared")
		if err != nil || (rec.RatingID != all[0].ID && rec.RatingID != all[1].ID) {
			t.Errorf("FindIdempotency(shared) = %+v, %v; want the stored rating", rec, err)
		}
	})

	// The agreement and export queries are raw SQL: the one place where a
	// dialect-specific phrase could slip in. Their results are tested
	// in depth elsewhere; here they must run, and agree, on every backend.
	t.Run("study-wide queries run on this backend", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		for i, r := range []alliance.Rating{
			rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...),
			rating("ra_2", 1, alliance.RoleCounsellor, 1, twelve(3)...),
			rating("ra_3", 2, alliance.RoleClient, 1, twelve(5)...),
		} {
			r.CreatedAt = now.Add(time.Duration(i) * time.Minute)
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			sel         alliance.SessionSelector
			wantSession int
			wantN       int
		}{
			{alliance.SessionSelector{}, 1, 2},           // first complete session
			{alliance.SessionSelector{Last: true}, 1, 2}, // last complete session
			{alliance.SessionSelector{Number: 2}, 2, 1},  // a fixed session
		} {
			got, err := st.FindStudyRatings(ctx, "st_1", tt.sel)
			if err != nil {
				t.Errorf("FindStudyRatings(%+v) = %v", tt.sel, err)
				continue
			}
			if len(got) != tt.wantN {
				t.Errorf("FindStudyRatings(%+v) = %d ratings, want %d", tt.sel, len(got), tt.wantN)
			}
			for _, r := range got {
				if r.Session != tt.wantSession || r.DyadID != "dy_1" {
					t.Errorf("FindStudyRatings(%+v) returned dyad %s session %d, want dy_1 session %d", tt.sel, r.DyadID, r.Session, tt.wantSession)
				}
			}
		}
		since := now.Add(30 * time.Second)
		var ids []string
		err := st.StreamStudyRatings(ctx, "st_1", &since, false, func(r alliance.ExportRow) error {
			ids = append(ids, r.Rating.ID)
			return nil
		})
		if err != nil || !slices.Equal(ids, []string{"ra_2", "ra_3"}) {
			t.Errorf("StreamStudyRatings(since) = %v, %v; want [ra_2 ra_3]", ids, err)
		}
	})

	t.Run("a study's ratings are visible across sessions", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		for i, role := range []alliance.Role{alliance.RoleClient, alliance.RoleCounsellor, alliance.RoleClient} {
			r := rating(fmt.Sprintf("ra_%d", i), 1+i/2, role, 1, twelve(float64(2+i))...)
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.FindSessionRatings(ctx, "dy_1", 1)
		if err != nil || len(got) != 2 {
			t.Fatalf("FindSessionRatings(session 1) = %d, %v; want 2", len(got), err)
		}
		if _, err := st.FindRatings(ctx, "dy_missing"); err != nil {
			t.Errorf("FindRatings(unknown dyad) = %v, want an empty list", err)
		}
	})

	t.Run("dashboard sessions: create, find, end once", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		k := alliance.Key{ID: "k1", Name: "analyst", Scopes: []alliance.Scope{"analyze"}, Hash: "h", CreatedAt: now, CreatedBy: "system"}
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		us := alliance.UISession{ID: "us1", KeyID: "k1", Hash: "hh", CreatedAt: now, ExpiresAt: now.Add(alliance.UISessionTTL)}
		audit := alliance.AuditEntry{At: now, Actor: "key:k1", Action: "ui_session.create", Resource: "ui_session", ResourceID: "us1"}
		if err := st.CreateUISession(ctx, us, audit); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindUISessionByID(ctx, "us1")
		if err != nil || got.KeyID != "k1" || got.Hash != "hh" || !got.ExpiresAt.Equal(us.ExpiresAt) || got.EndedAt != nil {
			t.Fatalf("FindUISessionByID = %+v, %v; want the session as created", got, err)
		}
		if _, err := st.FindUISessionByID(ctx, "nope"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("FindUISessionByID(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.EndUISession(ctx, "us1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.FindUISessionByID(ctx, "us1"); got.EndedAt == nil || !got.EndedAt.Equal(now.Add(time.Hour)) {
			t.Errorf("ended session has EndedAt %v, want %v", got.EndedAt, now.Add(time.Hour))
		}
		if err := st.EndUISession(ctx, "us1", now.Add(2*time.Hour)); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("EndUISession twice = %v, want ErrNotFound", err)
		}
		if err := st.CreateUISession(ctx, alliance.UISession{ID: "us2", KeyID: "no-such-key", Hash: "h", CreatedAt: now, ExpiresAt: now}); err == nil {
			t.Error("a session of an unknown key was stored")
		}
		entries, err := st.FindAudit(ctx, alliance.AuditFilter{Action: "ui_session.create", Limit: 10})
		if err != nil || len(entries) != 1 {
			t.Errorf("audit entries of the sign-in = %d, %v; want 1", len(entries), err)
		}
	})

	t.Run("study scores and completion counts", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		fixture(t, ctx, st)
		for _, r := range []alliance.Rating{
			rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...),
			rating("ra_2", 1, alliance.RoleCounsellor, 1, twelve(3)...),
			rating("ra_3", 2, alliance.RoleClient, 1, twelve(5)...),
		} {
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, scale := range []string{"total", "bond"} {
			pairs, sessions, err := st.FindStudyScalePairs(ctx, "st_1", scale)
			if err != nil || len(pairs) != 1 || !slices.Equal(sessions, []int{1, 2}) {
				t.Fatalf("FindStudyScalePairs(%s) = %+v, %v, %v; want one pair, sessions 1 and 2", scale, pairs, sessions, err)
			}
			if p := pairs[0]; p.DyadID != "dy_1" || p.Session != 1 || p.Client == nil || *p.Client != 4 || p.Counsellor == nil || *p.Counsellor != 3 {
				t.Errorf("FindStudyScalePairs(%s) = %+v, want dy_1 session 1: 4 and 3", scale, p)
			}
		}
		// A missing score is a nil mean, not a missing pair.
		sparse := twelve(4)
		for i := range 6 {
			sparse[i] = nil
		}
		for _, r := range []alliance.Rating{rating("ra_4", 3, alliance.RoleClient, 1, sparse...), rating("ra_5", 3, alliance.RoleCounsellor, 1, twelve(2)...)} {
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		pairs, _, err := st.FindStudyScalePairs(ctx, "st_1", "goal")
		nilMeans := 0
		for _, p := range pairs {
			if p.Client == nil {
				nilMeans++
			}
		}
		if err != nil || len(pairs) != 2 || nilMeans != 1 {
			t.Errorf("FindStudyScalePairs(goal) = %+v, %v; want 2 pairs, one with no client mean", pairs, err)
		}
		c, err := st.CountStudyRatings(ctx, "st_1")
		wantC := alliance.Completion{Dyads: 1, Sessions: []alliance.SessionCompletion{
			{Session: 1, Client: 1, Counsellor: 1, Both: 1}, {Session: 2, Client: 1}, {Session: 3, Client: 1, Counsellor: 1, Both: 1}}}
		if err != nil || cmp.Diff(c, wantC) != "" {
			t.Errorf("CountStudyRatings = %+v, %v; want %+v", c, err, wantC)
		}
	})
}

// TestSecureDeleteOnEveryConnection: every SQLite connection of the store,
// the pool's as well as the writer's, overwrites deleted content with
// zeros, since migrations rewrite rows through the pool; otherwise an
// erasure could leave copies it never reaches.
func TestSecureDeleteOnEveryConnection(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	conns := make([]*sql.Conn, 3) // held at once, so three connections
	for i := range conns {
		c, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var on int
		if err := c.QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&on); err != nil || on != 1 {
			t.Errorf("pool connection %d: secure_delete = %d (%v), want 1", i, on, err)
		}
	}
}
