package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// openSQLite opens a fresh, migrated SQLite store in a temp dir.
func openSQLite(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alliance.db"), discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	runStoreTests(t, openSQLite)
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

func TestOpenRejectsPostgres(t *testing.T) {
	t.Parallel()
	if _, err := store.Open(context.Background(), "postgres://u@localhost/db", discard); err == nil {
		t.Fatal("Open(postgres://...) = nil error, want a clear refusal until the backend exists")
	}
}

func ptr(v float64) *float64 { return &v }

var now = time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.UTC)

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
func runStoreTests(t *testing.T, open func(*testing.T) *store.Store) {
	ctx := context.Background()

	t.Run("study round trip and paging", func(t *testing.T) {
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
		c := rating("ra_4", 1, alliance.RoleCounsellor, 1, twelve(3)...)
		if err := st.CreateRating(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		all, err := st.FindRatings(ctx, "dy_1", 0)
		if err != nil || len(all) != 2 || all[0].Role != alliance.RoleClient || all[1].Role != alliance.RoleCounsellor {
			t.Fatalf("FindRatings = %v, %v; want client then counsellor", all, err)
		}
	})

	t.Run("amendments keep history", func(t *testing.T) {
		st := open(t)
		fixture(t, ctx, st)
		v1 := rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...)
		if err := st.CreateRating(ctx, v1, nil); err != nil {
			t.Fatal(err)
		}
		v2 := rating("ra_2", 1, alliance.RoleClient, 2, twelve(5)...)
		v2.CreatedAt = now.Add(time.Minute)
		if err := st.AmendRating(ctx, v1, v2, nil); err != nil {
			t.Fatal(err)
		}
		// A stale amendment (v1 is no longer current) changes nothing.
		stale := rating("ra_3", 1, alliance.RoleClient, 2, twelve(2)...)
		if err := st.AmendRating(ctx, v1, stale, nil); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("AmendRating(stale) = %v, want ErrConflict", err)
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
		cur, err := st.FindRatings(ctx, "dy_1", 1)
		if err != nil || len(cur) != 1 || cur[0].ID != "ra_2" {
			t.Fatalf("current ratings = %v, %v; want only ra_2", cur, err)
		}
	})

	t.Run("ping", func(t *testing.T) {
		if err := open(t).Ping(ctx); err != nil {
			t.Fatalf("Ping = %v", err)
		}
	})
}
