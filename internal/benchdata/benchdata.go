// Package benchdata builds large studies for benchmarks: straight into
// the tables of a migrated store, because the service path commits and
// fsyncs per rating, which would take minutes for 200,000 ratings. Only
// benchmarks and tests import it.
package benchdata

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/migrations"
)

// Open opens and migrates a store at url (a SQLite path or a PostgreSQL
// URL), closed when tb ends.
func Open(tb testing.TB, url string) *store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		tb.Fatal(err)
	}
	return st
}

// Study writes a WAI-SR study "st_bench" of dyads × sessions × 2 roles
// straight into the tables (SQLite or PostgreSQL) in one transaction,
// with dyads dy_000000… whose counsellors are K000…K299, and returns its
// id. Answers and scores are the text the store writes, scores from the
// real scoring code.
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
	defer tx.Rollback()
	dy := newInserter(tb, tx, st.Dialect(), `INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES `, 5)
	ra := newInserter(tb, tx, st.Dialect(), `INSERT INTO ratings (id, study_id, dyad_id, session, role, form_id, answers, scores,
		max_missing_fraction, scoring_version, version, created_at, total_mean, total_sum) VALUES `, 14)
	rng := rand.New(rand.NewPCG(1, 2))
	answers := make([]*float64, 12)
	level := make([]float64, dyads)
	for d := range dyads {
		id := fmt.Sprintf("dy_%06d", d)
		dy.add(id, studyID, fmt.Sprintf("C%06d", d), fmt.Sprintf("K%03d", d%300), now)
		level[d] = 2.5 + 2*rng.Float64()
	}
	dy.flush()
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
				scores := f.Score(answers, pol)
				sc, err := store.EncodeScores(scores)
				if err != nil {
					tb.Fatal(err)
				}
				rid := fmt.Sprintf("ra_%06d_%02d_%s", d, s, role)
				ra.add(rid, studyID, fmt.Sprintf("dy_%06d", d), s, string(role), f.ID, string(a), sc, pol.MaxMissingFraction, instrument.ScoringVersion, 1, now,
					scores.Total.Mean, scores.Total.Sum)
			}
		}
	}
	ra.flush()
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	settle(tb, st)
	return studyID
}

// settle leaves the tables as a long-running server would find them. On
// SQLite the 100 MB write-ahead log is folded into the database file, as
// the automatic checkpoints would have; on PostgreSQL the tables are
// vacuumed and analysed, as autovacuum would after so many inserts, so
// the planner knows their size.
func settle(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	stmts := []string{"PRAGMA wal_checkpoint(TRUNCATE)"}
	if st.Dialect() == migrations.Postgres {
		stmts = []string{"VACUUM ANALYZE dyads", "VACUUM ANALYZE ratings"}
	}
	for _, q := range stmts {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
}

// inserter writes rows in multi-row INSERTs of batch rows each: one
// statement per row made seeding PostgreSQL take a round trip per row.
type inserter struct {
	tb      testing.TB
	tx      *sql.Tx
	dialect migrations.Dialect
	head    string
	cols    int
	args    []any
}

const batch = 500

func newInserter(tb testing.TB, tx *sql.Tx, d migrations.Dialect, head string, cols int) *inserter {
	return &inserter{tb: tb, tx: tx, dialect: d, head: head, cols: cols}
}

func (in *inserter) add(args ...any) {
	in.args = append(in.args, args...)
	if len(in.args) == batch*in.cols {
		in.flush()
	}
}

// flush inserts the rows added since the last flush.
func (in *inserter) flush() {
	if len(in.args) == 0 {
		return
	}
	var q strings.Builder
	q.WriteString(in.head)
	n := 0
	for r := range len(in.args) / in.cols {
		if r > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for c := range in.cols {
			if c > 0 {
				q.WriteString(", ")
			}
			n++
			if in.dialect == migrations.Postgres {
				q.WriteString("$" + strconv.Itoa(n))
			} else {
				q.WriteByte('?')
			}
		}
		q.WriteByte(')')
	}
	if _, err := in.tx.Exec(q.String(), in.args...); err != nil {
		in.tb.Fatal(err)
	}
	in.args = in.args[:0]
}
