package alliance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
)

// bulkStudy writes a WAI-SR study of dyads × sessions × 2 roles straight
// into the ratings table in one transaction (the service path commits and
// fsyncs per rating, which would take minutes for 200,000 ratings). Scores
// come from the real scoring code, encoded as the store encodes them.
func bulkStudy(tb testing.TB, st *store.Store, dyads, sessions int) string {
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
				sc, _ := json.Marshal(f.Score(answers, pol))
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

// openBenchStore opens a migrated SQLite store in a temporary directory.
func openBenchStore(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	return st
}

func benchStudyAgreement(b *testing.B, dyads, sessions int, session string) {
	ctx := context.Background()
	st := openBenchStore(b)
	id := bulkStudy(b, st, dyads, sessions)
	svc := alliance.NewService(rowcache.New(st, rowcache.Options{Rows: true}), instrument.Builtin())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a, err := svc.StudyAgreement(ctx, id, alliance.AgreementQuery{Session: session})
		if err != nil {
			b.Fatal(err)
		}
		if a.NComplete != dyads || a.Scales[0].ICC.Value == nil {
			b.Fatalf("StudyAgreement: %d complete pairs, ICC %v; want %d pairs and an ICC", a.NComplete, a.Scales[0].ICC.Reason, dyads)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(dyads*sessions*2), "ns/rating")
}

// BenchmarkStudyAgreement200k is the target: 10,000 dyads × 10
// sessions × 2 roles, study agreement at each dyad's last session.
func BenchmarkStudyAgreement200k(b *testing.B) { benchStudyAgreement(b, 10000, 10, "last") }

// BenchmarkStudyAgreement50k is the same shape at a quarter of the size, to
// show the cost grows linearly with the number of ratings.
func BenchmarkStudyAgreement50k(b *testing.B) { benchStudyAgreement(b, 2500, 10, "last") }

// BenchmarkStudyAgreement200kSession5 selects a fixed session number.
func BenchmarkStudyAgreement200kSession5(b *testing.B) { benchStudyAgreement(b, 10000, 10, "5") }

// BenchmarkSubmitRatingParallel submits ratings from 32 goroutines through
// the service onto a real SQLite file: validation, scoring, idempotency key,
// audit entry and group commit, without HTTP. One op is one committed
// rating; it is the write path's throughput the load tool measures over
// HTTP, with less noise.
func BenchmarkSubmitRatingParallel(b *testing.B) {
	ctx := context.Background()
	svc := alliance.NewService(rowcache.New(openBenchStore(b), rowcache.Options{Rows: true}), instrument.Builtin())
	study, err := svc.CreateStudy(ctx, alliance.StudyInput{Name: "bench", ClientForm: "wai_sr_client", CounsellorForm: "wai_sr_therapist"})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	answers := make([]*float64, 12)
	for i := range answers {
		v := float64(1 + i%5)
		answers[i] = &v
	}
	b.SetParallelism(16) // 32 goroutines on the 2 cores of CI
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var dyad alliance.Dyad
		session := alliance.MaxSession
		for pb.Next() {
			n := next.Add(1)
			if session == alliance.MaxSession {
				d, err := svc.CreateDyad(ctx, study.ID, alliance.DyadInput{ClientCode: fmt.Sprintf("C%d", n), CounsellorCode: "K1"})
				if err != nil {
					b.Error(err)
					return
				}
				dyad, session = d, 0
			}
			session++
			in := alliance.RatingInput{Session: &session, Role: "client", Answers: answers}
			idem := &alliance.Idempotency{Key: fmt.Sprintf("k%d", n), Fingerprint: "f"}
			if _, _, err := svc.SubmitRating(ctx, dyad.ID, in, idem); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
