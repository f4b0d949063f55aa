package alliance_test

import (
	"math"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/stats"
)

// TestSummaryUnscoredFirstSession: a dyad whose first rating has no total
// (four of twelve items unanswered) is not summarised at a later session
// as if that were its first: it counts in no counsellor's mean at
// session=first, as in the study agreement. Its items still count in the
// study's own session-1 alpha, which is psych::alpha of every session-1
// rating's items.
func TestSummaryUnscoredFirstSession(t *testing.T) {
	f := newFixture(t)
	first := [][]float64{
		{4, 5, 4, 0, 5, 0, 4, 0, 5, 0, 4, 5}, // unscored: 4 missing
		{3, 3, 4, 3, 4, 3, 3, 4, 3, 3, 4, 3},
		{5, 5, 4, 5, 5, 4, 5, 5, 4, 5, 5, 5},
		{2, 3, 2, 2, 3, 3, 2, 2, 3, 2, 2, 3},
		{4, 4, 3, 4, 4, 4, 3, 4, 4, 4, 3, 4},
	}
	var dyads []alliance.Dyad
	for _, answers := range first {
		d := f.dyad()
		dyads = append(dyads, d)
		f.rate(d, 1, alliance.RoleClient, answers...)
	}
	f.rate(dyads[0], 2, alliance.RoleClient, flat(1)...) // scored, far from the others
	s, err := f.svc.StudySummary(f.ctx, f.study.ID, alliance.SummaryQuery{Reliability: "study"})
	if err != nil {
		t.Fatal(err)
	}
	client := s.Roles[0]
	n := 0
	for _, c := range client.Counsellors {
		n += c.Mean.N
	}
	if n != 4 {
		t.Errorf("counsellor means over %d dyads at session=first, want 4 (the unscored first rating counts in none)", n)
	}
	rows := make([][]float64, len(first))
	for i, r := range first {
		rows[i] = make([]float64, len(r))
		for j, v := range r {
			rows[i][j] = v
			if v == 0 {
				rows[i][j] = math.NaN()
			}
		}
	}
	want, err := stats.CronbachAlphaPairwise(rows)
	if err != nil {
		t.Fatal(err)
	}
	rc := client.Change.Value
	if rc == nil || rc.Criterion.Value == nil || math.Abs(rc.Criterion.Value.Reliability-want.Raw) > 1e-12 {
		t.Errorf("reliable change = %+v, want the criterion on alpha %v of all five session-1 ratings", client.Change, want.Raw)
	}
}
