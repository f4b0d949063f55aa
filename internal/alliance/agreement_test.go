package alliance_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/stats"
	"github.com/alliance-project/alliance/internal/store"
)

// fixture is a real service over a fresh, migrated SQLite file with one
// WAI-SR study.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	svc   *alliance.Service
	store *store.Store
	study alliance.Study
	n     int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return fixtureOn(t, benchdata.Open(t, filepath.Join(t.TempDir(), "f.db")))
}

// onBackends runs test on a fixture over SQLite and over PostgreSQL
// (skipped without one).
func onBackends(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, fixtureOn(t, benchdata.Open(t, pgtest.Database(t)))) })
}

// fixtureOn is the fixture over st, a migrated store.
func fixtureOn(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := alliance.NewService(st, instrument.Builtin())
	s, err := svc.CreateStudy(ctx, alliance.StudyInput{Name: "t", ClientForm: "wai_sr_client", CounsellorForm: "wai_sr_therapist"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, svc: svc, store: st, study: s}
}

func (f *fixture) dyad() alliance.Dyad {
	f.t.Helper()
	f.n++
	d, err := f.svc.CreateDyad(f.ctx, f.study.ID, alliance.DyadInput{ClientCode: "C" + itoa(f.n), CounsellorCode: "K" + itoa(f.n%3)})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func itoa(n int) string { return string(rune('A'+n/26)) + string(rune('a'+n%26)) }

// rate submits answers (0 = unanswered) for one role and session.
func (f *fixture) rate(d alliance.Dyad, session int, role alliance.Role, answers ...float64) {
	f.t.Helper()
	in := alliance.RatingInput{Session: &session, Role: string(role), Answers: make([]*float64, len(answers))}
	for i, v := range answers {
		if v != 0 {
			in.Answers[i] = &v
		}
	}
	if _, _, err := f.svc.SubmitRating(f.ctx, d.ID, in, nil); err != nil {
		f.t.Fatal(err)
	}
}

// flat is twelve equal answers.
func flat(v float64) []float64 {
	out := make([]float64, 12)
	for i := range out {
		out[i] = v
	}
	return out
}

var (
	refC = []float64{5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5}
	refT = []float64{4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4}
)

func near(t *testing.T, name string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", name, *got, want, tol)
	}
}

func p(v float64) *float64 { return &v }

func fieldCodes(err error) map[string]string {
	var ve *alliance.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Code
	}
	return out
}

// TestSessionAgreementReference checks the reference §4.7 synthetic dyad.
func TestSessionAgreementReference(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, refC...)
	f.rate(d, 1, alliance.RoleCounsellor, refT...)
	a, err := f.svc.SessionAgreement(f.ctx, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	tot := a.Scales[0]
	if tot.Scale != "total" || len(a.Scales) != 4 {
		t.Fatalf("scales = %+v, want total then goal, task, bond", a.Scales)
	}
	near(t, "total client", tot.Client, 4.5, 1e-12)
	near(t, "total counsellor", tot.Counsellor, 43.0/12, 1e-12)
	near(t, "total difference", tot.Difference, 11.0/12, 1e-12)
	near(t, "total abs difference", tot.AbsDifference, 11.0/12, 1e-12)
	// goal items 4,6,8,11: client 4,5,4,4; therapist 4,3,3,3
	near(t, "goal difference", a.Scales[1].Difference, 17.0/4-13.0/4, 1e-12)

	it := a.Items
	if it.KBoth != 12 || it.KItems != 12 || it.Profile.Value == nil {
		t.Fatalf("items = %+v", it)
	}
	pr := it.Profile.Value
	near(t, "D2", &pr.D2, 13, 1e-12)
	near(t, "D", &pr.D, math.Sqrt(13), 1e-12)
	near(t, "MAD", &pr.MeanAbsDiff, 0.9167, 1e-4)
	near(t, "elevation", &pr.Elevation, 10.08333, 1e-5)
	near(t, "scatter", &pr.Scatter, 0.00059, 1e-5)
	near(t, "shape", &pr.Shape, 2.91608, 1e-5)
	near(t, "elevation+scatter+shape", p(pr.Elevation+pr.Scatter+pr.Shape), 13, 1e-12)
	near(t, "profile r", pr.ProfileR, 0.50709, 1e-5)
	near(t, "rwg(J)", &pr.RwgJ, 0.96998, 1e-5)
	icc := it.ICC.Value
	if icc == nil {
		t.Fatalf("within-dyad ICC undefined: %s", it.ICC.Reason)
	}
	near(t, "MSR", &icc.MSR, 0.40530, 1e-5)
	near(t, "MSC", &icc.MSC, 5.04167, 1e-5)
	near(t, "MSE", &icc.MSE, 0.13258, 1e-5)
	near(t, "MSW", &icc.MSW, 0.54167, 1e-5)
	want := map[string]float64{"ICC1": -0.14400, "ICC3": 0.50704, "ICC2": 0.20112}
	for _, fm := range icc.Forms {
		if w, ok := want[fm.Type]; ok {
			near(t, fm.Type, &fm.Value, w, 1e-5)
		}
	}
	// Identical to a direct stats call on the same vectors.
	direct, _ := stats.Profile(refC, refT, 1, 5)
	if *pr.ProfileR != *direct.ProfileR || pr.RwgJ != direct.RwgJ || pr.Shape != direct.Shape {
		t.Errorf("Profile = %+v, want the direct stats.Profile %+v", *pr, direct)
	}
}

func TestSessionAgreementEdges(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	if _, err := f.svc.SessionAgreement(f.ctx, d.ID, 1); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("no ratings: err = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.SessionAgreement(f.ctx, "dy_nope", 1); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("unknown dyad: err = %v, want ErrNotFound", err)
	}
	if got := fieldCodes(func() error { _, err := f.svc.SessionAgreement(f.ctx, d.ID, 0); return err }()); got["session"] == "" {
		t.Errorf("session 0: fields = %v, want session", got)
	}
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	_, err := f.svc.SessionAgreement(f.ctx, d.ID, 1)
	if got := fieldCodes(err); got["session"] != alliance.ReasonCounsellorMissing {
		t.Errorf("client only: err = %v, want session/%s", err, alliance.ReasonCounsellorMissing)
	}
	f.rate(d, 2, alliance.RoleCounsellor, flat(3)...)
	_, err = f.svc.SessionAgreement(f.ctx, d.ID, 2)
	if got := fieldCodes(err); got["session"] != alliance.ReasonClientMissing {
		t.Errorf("counsellor only: err = %v, want session/%s", err, alliance.ReasonClientMissing)
	}
	// Straight-lining client (ceiling) with missing items: r undefined,
	// distance still defined, k_both counts items both answered.
	t3 := append([]float64(nil), refT...)
	t3[0], t3[1] = 0, 0
	f.rate(d, 1, alliance.RoleCounsellor, t3...)
	a, err := f.svc.SessionAgreement(f.ctx, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	pr := a.Items.Profile.Value
	if a.Items.KBoth != 10 || pr == nil || pr.K != 10 || pr.ProfileR != nil || pr.ProfileRReason != stats.ReasonZeroVariance {
		t.Errorf("straight-lined: k_both %d profile %+v, want k 10 and r null/zero_variance", a.Items.KBoth, pr)
	}
	if a.Items.Items[0].Counsellor != nil || a.Items.Items[0].Difference != nil {
		t.Errorf("item 1 = %+v, want counsellor and difference nil", a.Items.Items[0])
	}
	// Identical ratings: distance 0, ICC undefined (no variance between items).
	f.rate(d, 3, alliance.RoleClient, flat(4)...)
	f.rate(d, 3, alliance.RoleCounsellor, flat(4)...)
	a, err = f.svc.SessionAgreement(f.ctx, d.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if pr := a.Items.Profile.Value; pr == nil || pr.D2 != 0 || pr.RwgJ != 1 || a.Items.ICC.Value != nil || a.Items.ICC.Reason != stats.ReasonZeroVariance {
		t.Errorf("identical: profile %+v icc reason %q", a.Items.Profile.Value, a.Items.ICC.Reason)
	}
	if *a.Scales[0].Difference != 0 {
		t.Errorf("identical: difference %v, want 0", *a.Scales[0].Difference)
	}
}

func TestDyadAgreementTrajectory(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	// Difference shrinks 1, 0.5, 0 over sessions 1, 2, 4; session 3 has the
	// client only; session 5 the counsellor only.
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 1, alliance.RoleCounsellor, flat(4)...)
	f.rate(d, 2, alliance.RoleClient, append(flat(5)[:6], flat(4)[:6]...)...)
	f.rate(d, 2, alliance.RoleCounsellor, flat(4)...)
	f.rate(d, 3, alliance.RoleClient, flat(5)...)
	f.rate(d, 4, alliance.RoleClient, flat(4)...)
	f.rate(d, 4, alliance.RoleCounsellor, flat(4)...)
	f.rate(d, 5, alliance.RoleCounsellor, flat(2)...)
	a, err := f.svc.DyadAgreement(f.ctx, d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sessions) != 5 || a.NComplete != 3 || a.NIncomplete != 2 {
		t.Fatalf("sessions %d complete %d incomplete %d, want 5/3/2", len(a.Sessions), a.NComplete, a.NIncomplete)
	}
	if s := a.Sessions[2]; s.Complete || s.Missing != alliance.RoleCounsellor || s.Scales[0].Difference != nil || s.Scales[0].Reason != alliance.ReasonCounsellorMissing {
		t.Errorf("session 3 = %+v, want incomplete, counsellor missing", s)
	}
	if s := a.Sessions[4]; s.Missing != alliance.RoleClient || *s.Scales[0].Counsellor != 2 {
		t.Errorf("session 5 = %+v, want client missing, counsellor 2", s)
	}
	want, _ := stats.Slope([]float64{1, 2, 4}, []float64{1, 0.5, 0})
	got := a.Slopes[0]
	if got.Scale != "total" || got.N != 3 || got.Fit.Value == nil || math.Abs(got.Fit.Value.Slope-want.Slope) > 1e-12 {
		t.Errorf("total slope = %+v (%v), want %+v over n=3", got, got.Fit.Value, want)
	}
	// One complete session: slope undefined with its reason.
	d2 := f.dyad()
	f.rate(d2, 1, alliance.RoleClient, flat(5)...)
	f.rate(d2, 1, alliance.RoleCounsellor, flat(4)...)
	a, err = f.svc.DyadAgreement(f.ctx, d2.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Slopes[0]; s.N != 1 || s.Fit.Value != nil || s.Fit.Reason != stats.ReasonNTooSmall {
		t.Errorf("one session slope = %+v, want n 1, n_too_small", s)
	}
	if _, err := f.svc.DyadAgreement(f.ctx, "dy_nope", nil); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("unknown dyad: %v, want ErrNotFound", err)
	}
}

// studyData is a hand-assembled study: per dyad, per session, both sides.
type session struct{ c, t []float64 }

func (f *fixture) load(dyads [][]session) []alliance.Dyad {
	var out []alliance.Dyad
	for _, ss := range dyads {
		d := f.dyad()
		out = append(out, d)
		for i, s := range ss {
			if s.c != nil {
				f.rate(d, i+1, alliance.RoleClient, s.c...)
			}
			if s.t != nil {
				f.rate(d, i+1, alliance.RoleCounsellor, s.t...)
			}
		}
	}
	return out
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func shift(x []float64, by float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Max(1, math.Min(5, v+by))
	}
	return out
}

func TestStudyAgreementMatchesStats(t *testing.T) {
	f := newFixture(t)
	profiles := [][]float64{refC, refT, flat(5), flat(3), shift(refT, -1), shift(refC, -2), {5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 2, 3}}
	var dyads [][]session
	var c, tt []float64 // expected totals at session 1
	for i, pc := range profiles {
		pt := shift(profiles[(i+3)%len(profiles)], float64(i%3)-1)
		dyads = append(dyads, []session{{pc, pt}, {shift(pc, 1), pt}})
		c, tt = append(c, mean(pc)), append(tt, mean(pt))
	}
	// Two incomplete dyads at session 1, one with a complete session 2.
	dyads = append(dyads, []session{{refC, nil}, {refC, refT}}, []session{{nil, refT}})
	f.load(dyads)

	a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.NDyads != 9 || a.NComplete != 7 || a.NIncomplete != 2 || len(a.Scales) != 4 {
		t.Fatalf("dyads %d complete %d incomplete %d scales %d, want 9/7/2/4", a.NDyads, a.NComplete, a.NIncomplete, len(a.Scales))
	}
	s := a.Scales[0]
	if s.Scale != "total" || s.N != 7 || s.NIncomplete != 2 {
		t.Fatalf("total: n %d incomplete %d", s.N, s.NIncomplete)
	}
	close := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	pe, _ := stats.Pearson(c, tt, 0.95)
	close("pearson", s.Pearson.Value.R, pe.R)
	close("pearson lower", *s.Pearson.Value.Lower, *pe.Lower)
	sp, _ := stats.Spearman(c, tt, 0.95)
	close("spearman", s.Spearman.Value.R, sp.R)
	rows := make([][]float64, len(c))
	for i := range c {
		rows[i] = []float64{c[i], tt[i]}
	}
	icc, _ := stats.ICC(rows, 0.95)
	for i, fm := range icc.Forms {
		got := s.ICC.Value.Forms[i]
		close(fm.Type, got.Value, fm.Value)
		close(fm.Type+" lower", *got.Lower, *fm.Lower)
		close(fm.Type+" F", *got.F, *fm.F)
	}
	ccc, _ := stats.CCC(tt, c, 0.95)
	close("ccc", s.CCC.Value.RhoC, ccc.RhoC)
	close("ccc location shift", s.CCC.Value.LocationShift, ccc.LocationShift)
	ba, _ := stats.BlandAltman(c, tt, 1.96, 0.95)
	close("bias", s.BlandAltman.Value.Bias, ba.Bias)
	close("upper loa", s.BlandAltman.Value.Upper, ba.Upper)
	close("upper loa ci", s.BlandAltman.Value.UpperCI.Upper, ba.UpperCI.Upper)
	var hi, lo, in int
	for i := range c {
		switch d := c[i] - tt[i]; {
		case d > 0.5+1e-9:
			hi++
		case d < -0.5-1e-9:
			lo++
		default:
			in++
		}
	}
	if s.ClientHigher != hi || s.CounsellorHigher != lo || s.WithinBand != in {
		t.Errorf("direction = %d/%d/%d, want %d/%d/%d", s.ClientHigher, s.CounsellorHigher, s.WithinBand, hi, lo, in)
	}
	// Alpha per role over all of that role's session-1 ratings (8 each).
	var crow [][]float64
	for _, d := range dyads {
		if d[0].c != nil {
			crow = append(crow, d[0].c)
		}
	}
	al, _ := stats.CronbachAlpha(crow)
	if got := a.Alpha[0]; got.Role != alliance.RoleClient || got.NRatings != 8 || math.Abs(got.Alpha.Value.Raw-al.Raw) > 1e-12 {
		t.Errorf("client alpha = %+v (%+v), want %v over 8", got, got.Alpha.Value, al.Raw)
	}
	// Kappa of item 1 over the 7 complete dyads on categories 1..5.
	var ka, kb []int
	for _, d := range dyads[:7] {
		ka, kb = append(ka, int(d[0].c[0])), append(kb, int(d[0].t[0]))
	}
	k1, _ := stats.Kappa(ka, kb, []int{1, 2, 3, 4, 5})
	if got := a.Kappas[0]; got.Item != 1 || got.N != 7 || got.Kappa.Value == nil || math.Abs(got.Kappa.Value.Quadratic.Value-k1.Quadratic.Value) > 1e-12 {
		t.Errorf("kappa item 1 = %+v, want quadratic %v over 7", got, k1.Quadratic.Value)
	}
	if len(a.Categories) != 5 || len(a.Kappas) != 12 {
		t.Errorf("categories %v, %d kappas", a.Categories, len(a.Kappas))
	}

	// first/last pick each dyad's first/last complete session: the dyad
	// rated by the client only at session 1 is complete at session 2.
	first, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Scales: []string{"total"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.NComplete != 8 || first.NIncomplete != 1 || first.Scales[0].N != 8 || len(first.Scales) != 1 {
		t.Errorf("first: complete %d incomplete %d n %d", first.NComplete, first.NIncomplete, first.Scales[0].N)
	}
	last, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "last", Scales: []string{"goal", "total"}})
	if err != nil {
		t.Fatal(err)
	}
	wantLast := append([]float64(nil), c...)
	for i := range wantLast {
		wantLast[i] = mean(shift(profiles[i], 1))
	}
	wantLast = append(wantLast, mean(refC))
	if last.Scales[1].Scale != "total" || last.Scales[1].N != 8 {
		t.Fatalf("last: %+v", last.Scales)
	}
	near(t, "last client mean", last.Scales[1].Client.Mean, mean(wantLast), 1e-12)
	// Session 2 has the same 8 complete pairs here.
	s2, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if s2.NComplete != 8 || s2.NIncomplete != 0 || s2.NDyads != 8 {
		t.Errorf("session 2: %d/%d/%d", s2.NDyads, s2.NComplete, s2.NIncomplete)
	}
}

func TestStudyAgreementSmallN(t *testing.T) {
	cases := []struct {
		name   string
		dyads  [][]session
		n      int
		reason map[string]string // figure → reason; "" means defined
	}{
		{"n=0", nil, 0, map[string]string{"pearson": "n_too_small", "icc": "n_too_small", "ccc": "n_too_small", "ba": "n_too_small"}},
		{"n=1", [][]session{{{refC, refT}}}, 1, map[string]string{"pearson": "n_too_small", "icc": "n_too_small", "ccc": "n_too_small", "ba": "n_too_small"}},
		{"n=2", [][]session{{{refC, refT}}, {{flat(3), flat(2)}}}, 2, map[string]string{"pearson": "n_too_small", "icc": "", "ccc": "n_too_small", "ba": ""}},
		{"identical", [][]session{{{flat(4), flat(4)}}, {{flat(4), flat(4)}}, {{flat(4), flat(4)}}}, 3,
			map[string]string{"pearson": "zero_variance", "icc": "zero_variance", "ccc": "zero_variance", "ba": ""}},
		{"counsellor constant", [][]session{{{flat(5), flat(3)}}, {{flat(4), flat(3)}}, {{refC, flat(3)}}, {{flat(2), flat(3)}}}, 4,
			map[string]string{"pearson": "zero_variance", "icc": "", "ccc": "zero_variance", "ba": ""}},
		{"ties", [][]session{{{flat(5), flat(4)}}, {{flat(5), flat(4)}}, {{flat(4), flat(4)}}, {{flat(4), flat(3)}}, {{flat(3), flat(3)}}}, 5,
			map[string]string{"pearson": "", "icc": "", "ccc": "", "ba": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.load(tc.dyads)
			a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "1", Scales: []string{"total"}})
			if err != nil {
				t.Fatal(err)
			}
			s := a.Scales[0]
			got := map[string]string{"pearson": s.Pearson.Reason, "icc": s.ICC.Reason, "ccc": s.CCC.Reason, "ba": s.BlandAltman.Reason}
			for k, want := range tc.reason {
				if got[k] != want {
					t.Errorf("%s reason = %q, want %q", k, got[k], want)
				}
			}
			if s.N != tc.n || s.Client.N != tc.n {
				t.Errorf("n = %d (client %d), want %d", s.N, s.Client.N, tc.n)
			}
			if (s.Pearson.Value == nil) == (s.Pearson.Reason == "") || (s.ICC.Value == nil) == (s.ICC.Reason == "") {
				t.Errorf("a figure must have either a value or a reason: %+v", s)
			}
			if tc.name == "ties" {
				var c, tt []float64
				for _, d := range tc.dyads {
					c, tt = append(c, mean(d[0].c)), append(tt, mean(d[0].t))
				}
				sp, _ := stats.Spearman(c, tt, 0.95)
				if math.Abs(s.Spearman.Value.R-sp.R) > 1e-12 {
					t.Errorf("spearman with ties = %v, want %v", s.Spearman.Value.R, sp.R)
				}
			}
			if tc.name == "identical" && (s.WithinBand != 3 || s.BlandAltman.Value.SDDiff != 0) {
				t.Errorf("identical: within band %d, sd %v", s.WithinBand, s.BlandAltman.Value.SDDiff)
			}
		})
	}
}

func TestStudyAgreementValidation(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		q    alliance.AgreementQuery
		want map[string]string
	}{
		{"session word", alliance.AgreementQuery{Session: "middle"}, map[string]string{"session": "invalid_value"}},
		{"session zero", alliance.AgreementQuery{Session: "0"}, map[string]string{"session": "invalid_value"}},
		{"scale", alliance.AgreementQuery{Scales: []string{"total", "alliance"}}, map[string]string{"scale": "unknown_scale"}},
		{"band", alliance.AgreementQuery{Band: p(-0.1)}, map[string]string{"band": "out_of_range"}},
		{"conf", alliance.AgreementQuery{Conf: p(1)}, map[string]string{"conf": "out_of_range"}},
		{"multiplier", alliance.AgreementQuery{LoAMultiplier: p(0)}, map[string]string{"multiplier": "out_of_range"}},
		{"all", alliance.AgreementQuery{Session: "x", Conf: p(0), Band: p(math.NaN())},
			map[string]string{"session": "invalid_value", "conf": "out_of_range", "band": "out_of_range"}},
	}
	for _, tc := range cases {
		_, err := f.svc.StudyAgreement(f.ctx, f.study.ID, tc.q)
		got := fieldCodes(err)
		if len(got) != len(tc.want) {
			t.Errorf("%s: fields = %v, want %v (err %v)", tc.name, got, tc.want, err)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got[k], v)
			}
		}
	}
	if _, err := f.svc.StudyAgreement(f.ctx, "st_nope", alliance.AgreementQuery{}); !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("unknown study: %v, want ErrNotFound", err)
	}
	one, err := f.svc.CreateStudy(f.ctx, alliance.StudyInput{Name: "srs", ClientForm: "srs_client"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StudyAgreement(f.ctx, one.ID, alliance.AgreementQuery{}); fieldCodes(err)["id"] != "single_role_study" {
		t.Errorf("client-only study: %v, want id/single_role_study", err)
	}
}
