// Package benchdata builds large studies for benchmarks: straight into
// the tables of a migrated store, because the service path commits and
// fsyncs per rating, which would take minutes for 200,000 ratings. Only
// benchmarks and tests import it.
package benchdata

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

// Study writes a WAI-SR study "st_bench" of dyads × sessions × 2 roles
// straight into the tables in one transaction, with dyads dy_000000…
// whose counsellors are K000…K299, and returns its id. Scores come from
// the real scoring code, encoded as the store encodes them.
func Study(tb testing.TB, st *store.Store, dyads, sessions int) string {
	tb.Helper()
	ctx := context.Background()
	cat := instrument.Builtin()
	cf, _ := cat.Form("wai_sr_client")
	tf, _ := cat.Form("wai_sr_therapist")
	pol := instrument.DefaultPolicy()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const studyID = "st_bench"
	if err := st.CreateStudy(ctx, alliance.Study{ID: studyID, Name: "bench",
		Forms:  map[alliance.Role]string{alliance.RoleClient: cf.ID, alliance.RoleCounsellor: tf.ID},
		Policy: pol, CreatedAt: now}); err != nil {
		tb.Fatal(err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	dy, err := tx.Prepare(`INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	ra, err := tx.Prepare(`INSERT INTO ratings (id, study_id, dyad_id, session, role, form_id, answers, scores,
		max_missing_fraction, scoring_version, version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	answers := make([]*float64, 12)
	level := make([]float64, dyads)
	for d := range dyads {
		id := fmt.Sprintf("dy_%06d", d)
		if _, err := dy.Exec(id, studyID, fmt.Sprintf("C%06d", d), fmt.Sprintf("K%03d", d%300), now); err != nil {
			tb.Fatal(err)
		}
		level[d] = 2.5 + 2*rng.Float64()
	}
	// Session by session, as ratings arrive in a real study: one dyad's
	// ratings end up spread over the whole table, not side by side.
	for s := 1; s <= sessions; s++ {
		for d := range dyads {
			for _, role := range alliance.Roles {
				f, off := cf, 0.5
				if role == alliance.RoleCounsellor {
					f, off = tf, 0
				}
				for i := range answers {
					v := min(5, max(1, float64(int(level[d]+off+rng.NormFloat64()*0.7+0.5))))
					answers[i] = &v
				}
				a, _ := json.Marshal(answers)
				sc, err := store.EncodeScores(f.Score(answers, pol))
				if err != nil {
					tb.Fatal(err)
				}
				rid := fmt.Sprintf("ra_%06d_%02d_%s", d, s, role)
				if _, err := ra.Exec(rid, studyID, fmt.Sprintf("dy_%06d", d), s, string(role), f.ID, a, sc, pol.MaxMissingFraction, instrument.ScoringVersion, now); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	// Fold the 100 MB write-ahead log into the database file, as the
	// automatic checkpoints of a long-running server would have.
	if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
	}
	return studyID
}
