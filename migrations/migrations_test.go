package migrations_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"github.com/alliance-project/alliance/migrations"
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres connects to a fresh database on the server named by
// ALLIANCE_TEST_POSTGRES_URL (dropped when the test ends), or skips.
// internal/store has the same helper for the store's tests.
func openPostgres(t *testing.T) *sql.DB {
	t.Helper()
	admin := os.Getenv("ALLIANCE_TEST_POSTGRES_URL")
	if admin == "" {
		t.Skip("ALLIANCE_TEST_POSTGRES_URL is not set: skipping the PostgreSQL variant " +
			"(run `scripts/postgres-test.sh go test ./...` to start a throwaway PostgreSQL 15)")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal("ALLIANCE_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "alliance_mig_" + hex.EncodeToString(b)
	exec := func(q string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type dialectCase struct {
	dialect migrations.Dialect
	open    func(*testing.T) *sql.DB
	// tableCount counts the tables named $1 (the ratings table after down).
	tableCount string
}

var dialects = []dialectCase{
	{migrations.SQLite, openSQLite, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`},
	{migrations.Postgres, openPostgres, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`},
}

// onDialects runs test on a fresh database of each dialect, with its
// migration provider, in parallel subtests.
func onDialects(t *testing.T, test func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			p, err := migrations.NewProvider(db, d.dialect, nil)
			if err != nil {
				t.Fatal(err)
			}
			test(t, context.Background(), d, db, p)
		})
	}
}

// TestSameVersions proves every dialect has a file for every migration
// version, so a schema change is never made for one backend only.
func TestSameVersions(t *testing.T) {
	t.Parallel()
	db := openSQLite(t) // providers only list their sources here; nothing connects
	var want []int64
	for i, d := range dialects {
		p, err := migrations.NewProvider(db, d.dialect, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, s := range p.ListSources() {
			got = append(got, s.Version)
		}
		if len(got) == 0 {
			t.Fatalf("%s: no migrations embedded", d.dialect)
		}
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("%s versions = %v, %s versions = %v; want the same", d.dialect, got, dialects[0].dialect, want)
		}
	}
}

// TestUpDownUp proves every migration can be applied, rolled back and
// applied again on a fresh database of each dialect: down steps are real,
// not decoration.
func TestUpDownUp(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		if err := migrations.Check(ctx, db, d.dialect); err != nil {
			t.Fatalf("Check after up = %v, want nil", err)
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		var n int
		if err := db.QueryRow(d.tableCount, "ratings").Scan(&n); err != nil || n != 0 {
			t.Fatalf("ratings table after down: count %d, err %v; want 0", n, err)
		}
		if err := migrations.Check(ctx, db, d.dialect); !errors.Is(err, migrations.ErrPending) {
			t.Fatalf("Check after down = %v, want ErrPending", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("second up: %v", err)
		}
	})
}

// TestConcurrentUpPostgres starts several migrators at once, as several
// instances starting together do: the advisory lock lets one apply the
// migrations and the others find nothing left to do.
func TestConcurrentUpPostgres(t *testing.T) {
	t.Parallel()
	db := openPostgres(t)
	ctx := context.Background()
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- migrations.Up(ctx, db, migrations.Postgres, nil) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Up: %v", err)
		}
	}
	if err := migrations.Check(ctx, db, migrations.Postgres); err != nil {
		t.Fatalf("Check after concurrent up = %v, want nil", err)
	}
}

func TestUnknownDialect(t *testing.T) {
	t.Parallel()
	if _, err := migrations.NewProvider(openSQLite(t), "oracle", nil); err == nil {
		t.Fatal(`NewProvider(db, "oracle") = nil error, want an error`)
	}
}

// before migrates db up to version, then stores a study (st_1) and its
// dyad (dy_1), for a migration's backfill to find rows of the schema it
// changes; exec runs one more statement or fails the test.
func before(t *testing.T, ctx context.Context, db *sql.DB, p *goose.Provider, version int64) (exec func(q string, args ...any), now time.Time) {
	t.Helper()
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatalf("up to %d: %v", version, err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	now = time.Now().UTC()
	exec(`INSERT INTO studies (id, name, client_form, counsellor_form, max_missing_fraction, created_at) VALUES ('st_1', 's', 'c', 't', 0.2, $1)`, now)
	exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_1', 'st_1', 'C1', 'K1', $1)`, now)
	return exec, now
}

// TestRatingTotalsBackfilled: migration 00011 fills the total columns of
// the ratings stored before it from their scores documents, NULL where the
// total was not scored.
func TestRatingTotalsBackfilled(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		exec, now := before(t, ctx, db, p, 10)
		const insert = `INSERT INTO ratings (id, study_id, dyad_id, session, role, form_id, answers, scores, max_missing_fraction, scoring_version, version, created_at)
VALUES ($1, 'st_1', 'dy_1', $2, 'client', 'f', '[]', $3, 0.2, 'v', 1, $4)`
		exec(insert, "ra_1", 1, `{"total":{"mean":3.25,"sum":39,"answered":12,"items":12,"prorated":false},"subscales":{}}`, now)
		exec(insert, "ra_2", 2, `{"total":{"mean":null,"sum":null,"answered":1,"items":12,"prorated":false},"subscales":{}}`, now)
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		var mean, sum sql.NullFloat64
		if err := db.QueryRow(`SELECT total_mean, total_sum FROM ratings WHERE id = 'ra_1'`).Scan(&mean, &sum); err != nil ||
			mean != (sql.NullFloat64{Float64: 3.25, Valid: true}) || sum != (sql.NullFloat64{Float64: 39, Valid: true}) {
			t.Errorf("scored rating's totals = %v, %v (%v); want 3.25, 39", mean, sum, err)
		}
		if err := db.QueryRow(`SELECT total_mean, total_sum FROM ratings WHERE id = 'ra_2'`).Scan(&mean, &sum); err != nil || mean.Valid || sum.Valid {
			t.Errorf("unscored rating's totals = %v, %v (%v); want NULL", mean, sum, err)
		}
	})
}

// TestNewerSchema: a database migrated by a newer release (a version this
// binary does not know) is refused by Up and reported by Check, so an old
// instance left running in an upgrade stops rather than writing to a
// schema it does not know.
func TestNewerSchema(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if err := migrations.Check(ctx, db, d.dialect); err != nil {
			t.Fatalf("Check of an up-to-date database = %v, want nil", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
			t.Fatal(err)
		}
		if err := migrations.Check(ctx, db, d.dialect); !errors.Is(err, migrations.ErrNewerSchema) {
			t.Errorf("Check of a newer database = %v, want ErrNewerSchema", err)
		}
		if err := migrations.Up(ctx, db, d.dialect, nil); !errors.Is(err, migrations.ErrNewerSchema) {
			t.Errorf("Up of a newer database = %v, want ErrNewerSchema", err)
		}
	})
}

// TestRepairedRupturesBackfilled: migration 00012 marks each unresolved
// rupture stored before it with its unresolved repair, and no other.
func TestRepairedRupturesBackfilled(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		exec, now := before(t, ctx, db, p, 11)
		alert := func(id, kind, episode string, resolved bool) {
			var at any
			if resolved {
				at = now
			}
			exec(`INSERT INTO alerts (id, study_id, dyad_id, kind, role, session, dedup_key, rating_id, rating_ids, episode_id, figures, created_at, resolved_at)
VALUES ($1, 'st_1', 'dy_1', $2, 'client', 2, $3, 'ra', 'ra', $4, '{}', $5, $6)`, id, kind, "key-"+id, episode, now, at)
		}
		alert("al_a", "rupture", "al_a", false) // repaired
		alert("al_a2", "repair", "al_a", false)
		alert("al_b", "rupture", "al_b", false) // its repair was resolved: open
		alert("al_b2", "repair", "al_b", true)
		alert("al_c", "rupture", "al_c", false) // never repaired
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		got := map[string]string{}
		rows, err := db.QueryContext(ctx, `SELECT id, repaired_by FROM alerts WHERE kind = 'rupture'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var by sql.NullString
			if err := rows.Scan(&id, &by); err != nil {
				t.Fatal(err)
			}
			got[id] = by.String
		}
		if want := map[string]string{"al_a": "al_a2", "al_b": "", "al_c": ""}; !maps.Equal(got, want) {
			t.Errorf("repaired_by after 00012 = %v, want %v", got, want)
		}
	})
}

// TestUpgradedSQLiteFileIsClean: an SQLite database written by the first
// release (schema version 3, no secure_delete) passes PRAGMA
// integrity_check once upgraded, which `alliance backup` runs on every
// copy (SQLite 3.42-3.46 misread the REAL defaults 00008 added as NULL),
// and keeps no copy of a row deleted before the upgrade, which erasure
// could not reach.
func TestUpgradedSQLiteFileIsClean(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wave1.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	p, err := migrations.NewProvider(db, migrations.SQLite, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec, now := before(t, ctx, db, p, 3)
	const canary, live = "CANARY-Q7X2-OLD", "CANARY-LIVE-K4"
	exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_2', 'st_1', $1, 'K2', $2)`, canary, now)
	// A live dyad first, then enough others that the rebuilt table splits
	// the page that held it.
	exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_3', 'st_1', $1, 'K3', $2)`, live, now)
	for i := range 300 {
		exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ($1, 'st_1', $2, 'K9', $3)`,
			fmt.Sprintf("dy_x%03d", i), fmt.Sprintf("C-%03d-with-a-longer-code-to-fill-pages", i), now)
	}
	exec(`DELETE FROM dyads WHERE id = 'dy_2'`)
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(canary)) {
		t.Fatal("the deleted row's bytes are not in the file before the upgrade: the test proves nothing")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	// Erased after the upgrade, as the service erases (secure_delete), the
	// live dyad leaves no copy either: the rebuild left none behind.
	exec(`PRAGMA secure_delete = ON`)
	exec(`DELETE FROM dyads WHERE id = 'dy_3'`)
	if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(live)) {
		t.Error("a dyad erased after the upgrade left a copy in the file")
	}
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check after the upgrade = %q, %v; want ok", res, err)
	}
	if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(canary)) {
		t.Error("a row deleted before the upgrade is still in the file after it")
	}
	var band, z float64
	if err := db.QueryRowContext(ctx, `SELECT alert_divergence_band, alert_rupture_z FROM studies WHERE id = 'st_1'`).Scan(&band, &z); err != nil || band != 1.0 || z != 1.96 {
		t.Errorf("the old study's thresholds = %v, %v (%v); want the defaults 1, 1.96", band, z, err)
	}
}

// TestWithdrawalWidenedAtBackfilled: migration 00016 gives a withdrawal
// widened before it the time of its widening from the audit log, and none
// to a withdrawal that never widened.
func TestWithdrawalWidenedAtBackfilled(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		exec, now := before(t, ctx, db, p, 15)
		widened := now.Add(time.Hour).Truncate(time.Millisecond)
		exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_2', 'st_1', 'C2', 'K1', $1)`, now)
		exec(`UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'both', withdrawal_reason = 'other' WHERE id = 'dy_1'`, now)
		exec(`UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'client', withdrawal_reason = 'other' WHERE id = 'dy_2'`, now)
		const audit = `INSERT INTO audit_log (at, actor, action, resource, resource_id, study_id, dyad_id, before, after) VALUES ($1, 'system', 'dyad.withdraw', 'dyad', $2, 'st_1', $2, $3, '{}')`
		exec(audit, now, "dy_1", nil)
		exec(audit, widened, "dy_1", `{"scope":"client"}`)
		exec(audit, now, "dy_2", nil)
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		var at sql.NullTime
		if err := db.QueryRowContext(ctx, `SELECT withdrawal_widened_at FROM dyads WHERE id = 'dy_1'`).Scan(&at); err != nil || !at.Valid || !at.Time.Equal(widened) {
			t.Errorf("widened dyad: withdrawal_widened_at = %v (%v), want %v", at, err, widened)
		}
		if err := db.QueryRowContext(ctx, `SELECT withdrawal_widened_at FROM dyads WHERE id = 'dy_2'`).Scan(&at); err != nil || at.Valid {
			t.Errorf("dyad withdrawn once: withdrawal_widened_at = %v (%v), want NULL", at, err)
		}
	})
}

// TestLinksOfWithdrawnDyadsRevoked: migration 00017 revokes, as of the
// withdrawal, the pending links a withdrawal raced past before it; used and
// revoked links, and the links of other dyads, stay as they were.
func TestLinksOfWithdrawnDyadsRevoked(t *testing.T) {
	t.Parallel()
	onDialects(t, func(t *testing.T, ctx context.Context, d dialectCase, db *sql.DB, p *goose.Provider) {
		exec, now := before(t, ctx, db, p, 16)
		withdrawn, earlier := now.Truncate(time.Millisecond), now.Add(-time.Hour).Truncate(time.Millisecond)
		exec(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES ('dy_2', 'st_1', 'C2', 'K1', $1)`, now)
		exec(`UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'both', withdrawal_reason = 'other' WHERE id = 'dy_1'`, withdrawn)
		const link = `INSERT INTO invitations (id, study_id, dyad_id, session, role, hash, created_at, created_by, expires_at, revoked_at)
VALUES ($1, 'st_1', $2, $3, 'client', $1, $4, 'test', $5, $6)`
		exec(link, "iv_raced", "dy_1", 1, now, now.Add(time.Hour), nil)
		exec(link, "iv_revoked", "dy_1", 2, now, now.Add(time.Hour), earlier)
		exec(link, "iv_other", "dy_2", 1, now, now.Add(time.Hour), nil)
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		for id, want := range map[string]*time.Time{"iv_raced": &withdrawn, "iv_revoked": &earlier, "iv_other": nil} {
			var at sql.NullTime
			if err := db.QueryRowContext(ctx, `SELECT revoked_at FROM invitations WHERE id = $1`, id).Scan(&at); err != nil {
				t.Fatal(err)
			}
			if (want == nil) != !at.Valid || (want != nil && !at.Time.Equal(*want)) {
				t.Errorf("%s: revoked_at = %v, want %v", id, at, want)
			}
		}
	})
}
