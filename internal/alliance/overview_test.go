package alliance_test

import (
	"errors"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestStudyOverviews: completion counts, trajectories and the
// per-counsellor grouping agree with the agreement report on the same
// data, and refuse a bad query with the report's fields and codes.
func TestStudyOverviews(t *testing.T) {
	f := newFixture(t)
	var dyads []alliance.Dyad
	for range 5 {
		dyads = append(dyads, f.dyad()) // counsellors K: 1 % 3, 2 % 3, ...
	}
	// Sessions 1 and 2 complete for dyads 0-3; dyad 4 has a client rating
	// at session 1 only; dyad 0 also has session 3 complete.
	for i, d := range dyads[:4] {
		for s := 1; s <= 2; s++ {
			f.rate(d, s, alliance.RoleClient, flat(float64(3+i%3))...)
			f.rate(d, s, alliance.RoleCounsellor, flat(float64(2+s))...)
		}
	}
	f.rate(dyads[4], 1, alliance.RoleClient, flat(5)...)
	f.rate(dyads[0], 3, alliance.RoleClient, flat(5)...)
	f.rate(dyads[0], 3, alliance.RoleCounsellor, flat(1)...)

	c, err := f.svc.StudyCompletion(f.ctx, f.study.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []alliance.SessionCompletion{{Session: 1, Client: 5, Counsellor: 4, Both: 4}, {Session: 2, Client: 4, Counsellor: 4, Both: 4}, {Session: 3, Client: 1, Counsellor: 1, Both: 1}}
	if c.Dyads != 5 || len(c.Sessions) != 3 || c.Sessions[0] != want[0] || c.Sessions[1] != want[1] || c.Sessions[2] != want[2] {
		t.Errorf("StudyCompletion = %+v, want 5 dyads and %+v", c, want)
	}

	tr, err := f.svc.StudyTrajectories(f.ctx, f.study.ID, alliance.AgreementQuery{Scales: []string{"bond"}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Scale != "bond" || len(tr.Dyads) != 4 || len(tr.Sessions) != 3 {
		t.Fatalf("StudyTrajectories = scale %s, %d dyads, sessions %v; want bond, 4 dyads, 3 sessions", tr.Scale, len(tr.Dyads), tr.Sessions)
	}
	if d0 := tr.Dyads[0]; len(d0) != 3 || d0[0].Value != 0 || d0[1].Value != -1 || d0[2].Value != 4 {
		t.Errorf("first dyad's differences = %+v, want 0, −1, 4 at sessions 1-3", d0)
	}

	for _, q := range []alliance.AgreementQuery{{}, {Session: "2", Scales: []string{"goal"}}, {Session: "last"}} {
		a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := f.svc.CounsellorGroups(f.ctx, f.study.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		n, sum := 0, 0.0
		for _, k := range ca.Counsellors {
			n += len(k.Differences)
			for _, d := range k.Differences {
				sum += d
			}
		}
		sc := a.Scales[0]
		if ca.N != sc.N || n != sc.N || len(sc.Pairs) != sc.N {
			t.Errorf("%+v: counsellor pairs %d (N %d), agreement n %d with %d pairs", q, n, ca.N, sc.N, len(sc.Pairs))
		}
		if sc.Difference.Mean != nil {
			near(t, "mean of the counsellors' differences", sc.Difference.Mean, sum/float64(n), 1e-12)
		}
		if len(ca.Counsellors) != 3 {
			t.Errorf("%+v: %d counsellors, want all 3 of the study", q, len(ca.Counsellors))
		}
	}

	bad := alliance.AgreementQuery{Session: "zero", Scales: []string{"nope"}, Conf: p(2)}
	for name, call := range map[string]func() error{
		"StudyTrajectories": func() error { _, err := f.svc.StudyTrajectories(f.ctx, f.study.ID, bad); return err },
		"CounsellorGroups":  func() error { _, err := f.svc.CounsellorGroups(f.ctx, f.study.ID, bad); return err },
		"StudyAgreement":    func() error { _, err := f.svc.StudyAgreement(f.ctx, f.study.ID, bad); return err },
	} {
		got := fieldCodes(call())
		if got["session"] != "invalid_value" || got["scale"] != "unknown_scale" || got["conf"] != "out_of_range" {
			t.Errorf("%s(bad query) fields = %v, want session, scale and conf", name, got)
		}
	}
	if _, err := f.svc.StudyCompletion(f.ctx, "st_nope"); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("StudyCompletion(unknown) = %v, want ErrNotFound", err)
	}
}
