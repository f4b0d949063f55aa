package alliance_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
)

// openBenchStore opens a migrated SQLite store in a temporary directory.
func openBenchStore(b *testing.B) *store.Store {
	return benchdata.Open(b, filepath.Join(b.TempDir(), "bench.db"))
}

func benchStudyAgreement(b *testing.B, dyads, sessions int, session string) {
	st := openBenchStore(b)
	id := benchdata.Study(b, st, dyads, sessions)
	runStudyAgreement(b, alliance.NewService(rowcache.New(st, rowcache.Options{Rows: true}), instrument.Builtin()), id, dyads, sessions, session)
}

// runStudyAgreement times the agreement of study id (dyads × sessions)
// through svc.
func runStudyAgreement(b *testing.B, svc *alliance.Service, id string, dyads, sessions int, session string) {
	ctx := context.Background()
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
	benchSubmitRating(b, alliance.NewService(rowcache.New(openBenchStore(b), rowcache.Options{Rows: true}), instrument.Builtin()))
}

// BenchmarkSubmitRatingParallelPostgres is the same on PostgreSQL
// (ALLIANCE_TEST_POSTGRES_URL; scripts/pg-bench.sh starts a durable server
// for figures): one instance, studies and dyads read from the database.
func BenchmarkSubmitRatingParallelPostgres(b *testing.B) {
	st := benchdata.Open(b, pgtest.Database(b))
	benchSubmitRating(b, alliance.NewService(rowcache.New(st, rowcache.Options{}), instrument.Builtin()))
}

func benchSubmitRating(b *testing.B, svc *alliance.Service) {
	ctx := context.Background()
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

// BenchmarkStudyAgreement200kPostgres is BenchmarkStudyAgreement200k on
// PostgreSQL (ALLIANCE_TEST_POSTGRES_URL), behind the caches a PostgreSQL
// deployment runs with (studies and dyads only: rows are read from the
// database every time, as several instances share it).
func BenchmarkStudyAgreement200kPostgres(b *testing.B) {
	st := benchdata.Open(b, pgtest.Database(b))
	runStudyAgreement(b, alliance.NewService(rowcache.New(st, rowcache.Options{}), instrument.Builtin()),
		benchdata.Study(b, st, 10000, 10), 10000, 10, "last")
}
