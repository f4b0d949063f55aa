package rowcache_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
)

func open(t *testing.T, path string) *store.Store {
	return benchdata.Open(t, path)
}

// counting counts the reads that reach the store.
type counting struct {
	alliance.Store
	dyads, studies, targets int
}

func (c *counting) FindRatingTarget(ctx context.Context, id string) (alliance.Dyad, alliance.Study, error) {
	c.targets++
	return c.Store.FindRatingTarget(ctx, id)
}

func (c *counting) FindDyadByID(ctx context.Context, id string) (alliance.Dyad, error) {
	c.dyads++
	return c.Store.FindDyadByID(ctx, id)
}

func (c *counting) FindStudyByID(ctx context.Context, id string) (alliance.Study, error) {
	c.studies++
	return c.Store.FindStudyByID(ctx, id)
}

func fixture(t *testing.T, st alliance.Store) (alliance.Study, alliance.Dyad) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := alliance.Study{ID: "st_1", Name: "s", Forms: map[alliance.Role]string{alliance.RoleClient: "wai_sr_client"},
		Policy: instrument.DefaultPolicy(), CreatedAt: now}
	d := alliance.Dyad{ID: "dy_1", StudyID: s.ID, ClientCode: "C-1", CounsellorCode: "K-1", CreatedAt: now}
	if err := st.CreateStudy(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDyad(ctx, d); err != nil {
		t.Fatal(err)
	}
	return s, d
}

func TestRows(t *testing.T) {
	ctx := context.Background()
	next := &counting{Store: open(t, filepath.Join(t.TempDir(), "c.db"))}
	st := rowcache.New(next, rowcache.Options{Rows: true})
	s, d := fixture(t, st)

	// A miss is not remembered: a dyad created after it is found.
	if _, err := st.FindDyadByID(ctx, "dy_later"); !errors.Is(err, alliance.ErrNotFound) {
		t.Fatalf("FindDyadByID(dy_later) = %v, want ErrNotFound", err)
	}
	later := d
	later.ID, later.ClientCode = "dy_later", "C-later"
	if err := st.CreateDyad(ctx, later); err != nil {
		t.Fatal(err)
	}
	next.dyads = 0
	for range 2 {
		got, err := st.FindDyadByID(ctx, later.ID)
		if err != nil || got != later {
			t.Fatalf("FindDyadByID(dy_later) = %+v, %v; want %+v", got, err, later)
		}
	}
	if next.dyads != 1 {
		t.Errorf("two reads of a dyad reached the store %d times, want once", next.dyads)
	}
	// Each caller gets its own copy of a cached study.
	got, err := st.FindStudyByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Forms[alliance.RoleClient] = "tampered"
	again, err := st.FindStudyByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, again); diff != "" {
		t.Errorf("a caller's change reached the cached study (-want +got):\n%s", diff)
	}
}

// TestNoRows: where other processes write the database (PostgreSQL),
// studies and dyads are read from it every time.
func TestNoRows(t *testing.T) {
	ctx := context.Background()
	next := &counting{Store: open(t, filepath.Join(t.TempDir(), "n.db"))}
	st := rowcache.New(next, rowcache.Options{})
	s, d := fixture(t, st)
	for range 3 {
		if _, err := st.FindDyadByID(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FindStudyByID(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if next.dyads != 3 || next.studies != 3 {
		t.Errorf("reads reaching the store: %d dyads, %d studies; want 3 each", next.dyads, next.studies)
	}

	// A rating's dyad and study are the exception: cached, as copies,
	// until the dyad is withdrawn or erased through the cache.
	for range 3 {
		gotD, gotS, err := st.FindRatingTarget(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, gotS); diff != "" || gotD != d {
			t.Fatalf("FindRatingTarget = %+v and (-want +got):\n%s", gotD, diff)
		}
		gotS.Forms[alliance.RoleClient] = "tampered"
	}
	if next.targets != 1 {
		t.Errorf("three reads of a rating target reached the store %d times, want once", next.targets)
	}
	if err := st.WithdrawDyad(ctx, d.ID, "", alliance.Withdrawal{At: time.Now().UTC(), Scope: "both"}); err != nil {
		t.Fatal(err)
	}
	if gotD, _, err := st.FindRatingTarget(ctx, d.ID); err != nil || gotD.Withdrawal == nil {
		t.Errorf("FindRatingTarget after the withdrawal = %+v, %v; want the withdrawn dyad", gotD, err)
	}
	if err := st.EraseStudy(ctx, s.ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.FindRatingTarget(ctx, d.ID); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("FindRatingTarget after the study's erasure = %v, want ErrNotFound", err)
	}
}

// TestKeys checks when a revocation takes effect: at once through the
// cache that revoked the key, and within KeyTTL when another store of the
// same database revoked it (another instance, or the CLI beside a running
// server).
func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	server, cli := rowcache.New(open(t, path), rowcache.Options{Rows: true}), open(t, path)
	key := func(id string) alliance.Key {
		return alliance.Key{ID: id, Name: id, Scopes: []auth.Scope{auth.ScopeAnalyze}, Hash: "h", CreatedAt: time.Now().UTC(), CreatedBy: "system"}
	}
	revoked := func(id string) bool {
		t.Helper()
		k, err := server.FindKeyByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k.RevokedAt != nil
	}
	for _, id := range []string{"k_here", "k_there"} {
		if err := server.CreateKey(ctx, key(id)); err != nil {
			t.Fatal(err)
		}
		if revoked(id) { // read once: now cached
			t.Fatalf("new key %s reads as revoked", id)
		}
	}

	if err := server.RevokeKey(ctx, "k_here", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if !revoked("k_here") {
		t.Error("a key revoked through the cache still reads as valid")
	}

	revokedAt := time.Now()
	if err := cli.RevokeKey(ctx, "k_there", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	for !revoked("k_there") {
		if time.Since(revokedAt) > rowcache.KeyTTL+5*time.Second {
			t.Fatalf("a key revoked by another store still reads as valid after %v", time.Since(revokedAt))
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

// TestAlertThresholdsForgotten: a study's alert thresholds are the one
// change a study takes; changing them through the decorator forgets the
// study and its dyads' rating targets, with or without row caches, so
// this instance never serves the old thresholds.
func TestAlertThresholdsForgotten(t *testing.T) {
	for _, o := range []rowcache.Options{{Rows: true}, {}} {
		ctx := context.Background()
		st := rowcache.New(open(t, filepath.Join(t.TempDir(), "c.db")), o)
		s, d := fixture(t, st)
		// Fill the caches.
		if _, err := st.FindStudyByID(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.FindRatingTarget(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		cut := 20.0
		th := alliance.AlertThresholds{DivergenceBand: 2, RuptureZ: 3, LowAllianceCutoff: &cut}
		if err := st.UpdateAlertThresholds(ctx, s.ID, th); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindStudyByID(ctx, s.ID)
		if err != nil || !cmp.Equal(got.Alerts, th) {
			t.Errorf("rows %v: study after the update has %+v, %v; want %+v", o.Rows, got.Alerts, err, th)
		}
		_, target, err := st.FindRatingTarget(ctx, d.ID)
		if err != nil || !cmp.Equal(target.Alerts, th) {
			t.Errorf("rows %v: rating target's study after the update has %+v, %v; want %+v", o.Rows, target.Alerts, err, th)
		}
	}
}
