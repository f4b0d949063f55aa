package alliance_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/stats"
)

// warningCodes lists the codes of ws in order.
func warningCodes(ws []alliance.Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Code
	}
	return out
}

// TestStudyAgreementMinimumN checks the documented minimum-n rule of each
// figure on one, two and three pairs: a figure below its value minimum is
// null with n_too_small; between the value and the interval minimum its
// bounds are null with ci_reason n_too_small; every small study warns.
func TestStudyAgreementMinimumN(t *testing.T) {
	twoC := []float64{5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5}
	twoT := []float64{4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4}
	third := []float64{3, 4, 3, 4, 3, 2, 3, 4, 3, 3, 4, 2}
	cases := []struct {
		name  string
		dyads [][]session
		check func(t *testing.T, a alliance.StudyAgreement)
	}{
		{"one pair", [][]session{{{refC, refT}}}, func(t *testing.T, a alliance.StudyAgreement) {
			k := a.Kappas[0]
			if k.N != 1 || k.Kappa.Value != nil || k.Kappa.Reason != stats.ReasonNTooSmall {
				t.Errorf("item kappa from one pair = %+v, want null with n_too_small", k)
			}
			s := a.Scales[0]
			if s.ICC.Value != nil || s.ICC.Reason != stats.ReasonNTooSmall || s.BlandAltman.Value != nil {
				t.Errorf("ICC/BA from one pair: %q/%q, want n_too_small", s.ICC.Reason, s.BlandAltman.Reason)
			}
			if md := s.MeanDifference; md.Naive.Value != nil || md.ClusterRobust.Value != nil {
				t.Errorf("mean difference from one pair = %+v, want null", md)
			}
			if ki := k.Krippendorff.Interval; ki.Value != nil || ki.Reason != stats.ReasonNTooSmall {
				t.Errorf("item Krippendorff from one unit = %+v, want n_too_small", ki)
			}
			// Alpha: a single rating per role is not enough; n and k still say what was there.
			for _, ra := range a.Alpha {
				if ra.Alpha.Value != nil || ra.Alpha.Reason != stats.ReasonNTooSmall || ra.N != 1 || ra.K != 12 || ra.NRatings != 1 {
					t.Errorf("%s alpha from one rating = %+v, want null n_too_small with n 1, k 12", ra.Role, ra)
				}
			}
		}},
		{"two pairs", [][]session{{{twoC, twoT}}, {{twoT, third}}}, func(t *testing.T, a alliance.StudyAgreement) {
			s := a.Scales[0]
			icc := s.ICC.Value
			if icc == nil || s.ICC.CIReason != stats.ReasonNTooSmall {
				t.Fatalf("ICC from two pairs = %+v (%q), want values with null bounds", icc, s.ICC.CIReason)
			}
			for _, f := range icc.Forms {
				if f.Lower != nil || f.Upper != nil {
					t.Errorf("%s bounds = %v..%v from two pairs, want null", f.Type, *f.Lower, *f.Upper)
				}
			}
			if s.BlandAltman.Value == nil || s.BlandAltman.CIReason != stats.ReasonNTooSmall {
				t.Errorf("Bland-Altman from two pairs: %+v, ci_reason %q", s.BlandAltman.Value, s.BlandAltman.CIReason)
			}
			if s.Pearson.Value != nil || s.CCC.Value != nil || s.CCC.Reason != stats.ReasonNTooSmall {
				t.Errorf("Pearson/CCC from two pairs: %q/%q, want n_too_small", s.Pearson.Reason, s.CCC.Reason)
			}
			if md := s.MeanDifference.Naive; md.Value == nil || md.CIReason != stats.ReasonNTooSmall {
				t.Errorf("naive mean difference from two pairs = %+v, want a mean with null bounds", md)
			}
			for _, ra := range a.Alpha {
				if ra.Alpha.Value != nil || ra.N != 2 || ra.K != 12 {
					t.Errorf("%s alpha from two ratings = %+v, want null with n 2, k 12", ra.Role, ra)
				}
			}
			// α itself is null, not only its bounds: its warning says so.
			var alphaWarned bool
			for _, w := range a.Warnings {
				if w.Code == alliance.WarnSmallN && strings.HasPrefix(w.Detail, "Cronbach's alpha") {
					alphaWarned = true
					if !strings.Contains(w.Detail, "too few for a value") || strings.Contains(w.Detail, "bounds are null") {
						t.Errorf("alpha's small_n warning %q, want it to say alpha has no value", w.Detail)
					}
				}
			}
			if !alphaWarned {
				t.Errorf("warnings %+v lack alpha's small_n", a.Warnings)
			}
			k := a.Kappas[0]
			if k.N != 2 || k.Kappa.Value == nil || k.Kappa.CIReason != stats.ReasonNTooSmall || k.Kappa.Value.Quadratic.Lower != nil {
				t.Errorf("item 1 kappa from two pairs = %+v, want values with null bounds", k.Kappa)
			}
		}},
		{"three pairs", [][]session{{{twoC, twoT}}, {{twoT, third}}, {{third, twoC}}}, func(t *testing.T, a alliance.StudyAgreement) {
			s := a.Scales[0]
			if s.Pearson.Value == nil || s.Pearson.CIReason != stats.ReasonNTooSmall || s.Pearson.Value.Lower != nil {
				t.Errorf("Pearson from three pairs = %+v (%q), want r with null bounds (Fisher z needs 4)", s.Pearson.Value, s.Pearson.CIReason)
			}
			if s.ICC.CIReason != "" || s.ICC.Value.Forms[5].Lower == nil {
				t.Errorf("ICC from three pairs: ci_reason %q, want bounds", s.ICC.CIReason)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.load(tc.dyads)
			a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "1"})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, a)
			var small bool
			for _, w := range a.Warnings {
				small = small || (w.Code == alliance.WarnSmallN && w.Scale == "total" && strings.Contains(w.Detail, "no interval"))
			}
			if len(tc.dyads) < alliance.MinNInterval && !small {
				t.Errorf("warnings %+v, want small_n on total saying intervals are null", a.Warnings)
			}
			if !hasWarning(a.Warnings, alliance.WarnFewClusters) {
				t.Errorf("warnings %v lack few_clusters", warningCodes(a.Warnings))
			}
		})
	}
}

// TestStudyAgreementScoreWarnings: ceiling, floor and low_variance are
// found where the scores are, and not elsewhere.
func TestStudyAgreementScoreWarnings(t *testing.T) {
	f := newFixture(t)
	// 10 pairs: clients at the ceiling in 3 of 10 (30% ≥ 15%), counsellors
	// nowhere near either end (at most 3 of 12 answers at 5 or 1 in none).
	var dyads [][]session
	for i := range 10 {
		c := refT
		if i < 3 {
			c = flat(5)
		}
		dyads = append(dyads, []session{{c, shift(refT, -float64(i%2))}})
	}
	f.load(dyads)
	a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "1", Scales: []string{"total"}})
	if err != nil {
		t.Fatal(err)
	}
	var ceiling, floor, low int
	for _, w := range a.Warnings {
		switch w.Code {
		case alliance.WarnCeiling:
			ceiling++
			if w.Scale != "total" || !strings.HasPrefix(w.Detail, "client:") {
				t.Errorf("ceiling warning = %+v, want the client's total", w)
			}
		case alliance.WarnFloor:
			floor++
		case alliance.WarnLowVariance:
			low++
		case alliance.WarnSmallN:
			t.Errorf("small_n with 10 pairs: %+v", w)
		}
	}
	if ceiling != 1 || floor != 0 || low != 0 {
		t.Errorf("ceiling/floor/low_variance warnings = %d/%d/%d, want 1/0/0: %+v", ceiling, floor, low, a.Warnings)
	}

	// Every counsellor answers 1 to every item: a floor effect and a
	// constant score (low_variance).
	g := newFixture(t)
	var flatDyads [][]session
	for i := range 4 {
		flatDyads = append(flatDyads, []session{{shift(refC, -float64(i)), flat(1)}})
	}
	g.load(flatDyads)
	a, err = g.svc.StudyAgreement(g.ctx, g.study.ID, alliance.AgreementQuery{Session: "1", Scales: []string{"total"}})
	if err != nil {
		t.Fatal(err)
	}
	var gotFloor, gotLow bool
	for _, w := range a.Warnings {
		gotFloor = gotFloor || (w.Code == alliance.WarnFloor && strings.HasPrefix(w.Detail, "counsellor:"))
		gotLow = gotLow || (w.Code == alliance.WarnLowVariance && strings.HasPrefix(w.Detail, "counsellor:"))
	}
	if !gotFloor || !gotLow {
		t.Errorf("counsellors all at 1: warnings %+v, want floor and low_variance for the counsellor", a.Warnings)
	}
}

// TestSessionAgreementWarnings: a straight-lining side is low_variance.
func TestSessionAgreementWarnings(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 1, alliance.RoleCounsellor, refT...)
	a, err := f.svc.SessionAgreement(f.ctx, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Warnings) != 1 || a.Warnings[0].Code != alliance.WarnLowVariance || !strings.HasPrefix(a.Warnings[0].Detail, "client:") {
		t.Errorf("warnings = %+v, want one low_variance for the client", a.Warnings)
	}
	f.rate(d, 2, alliance.RoleClient, refC...)
	f.rate(d, 2, alliance.RoleCounsellor, refT...)
	if a, _ = f.svc.SessionAgreement(f.ctx, d.ID, 2); len(a.Warnings) != 0 {
		t.Errorf("reference dyad: warnings %+v, want none", a.Warnings)
	}
	// Two items answered by both: the within-dyad ICC stands, its bounds
	// do not (they would span most of the scale), and small_n says why.
	two := make([]float64, 12)
	two[0], two[1] = 5, 3
	f.rate(d, 3, alliance.RoleClient, two...)
	f.rate(d, 3, alliance.RoleCounsellor, refT...)
	a, err = f.svc.SessionAgreement(f.ctx, d.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	icc := a.Items.ICC
	if a.Items.KBoth != 2 || icc.Value == nil || icc.CIReason != stats.ReasonNTooSmall || icc.Value.Forms[5].Lower != nil || !hasWarning(a.Warnings, alliance.WarnSmallN) {
		t.Errorf("two common items: k_both %d, ICC %+v (%q), warnings %+v", a.Items.KBoth, icc.Value, icc.CIReason, a.Warnings)
	}
}

// TestDyadTrajectorySlopesAndSigns: dates, slope interval (as lm/confint
// through stats.SlopeConf) and the first sign change.
func TestDyadTrajectorySlopesAndSigns(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	// total differences: +1, +0.5, 0, −0.5 at sessions 1..4 (client 5/5/4/4
	// mixes; counsellor 4, 4.5, 4, 4.5).
	half := append(flat(5)[:6], flat(4)[:6]...)
	for i, s := range []struct{ c, t []float64 }{{flat(5), flat(4)}, {flat(5), half}, {flat(4), flat(4)}, {flat(4), half}} {
		for _, r := range []struct {
			role alliance.Role
			a    []float64
		}{{alliance.RoleClient, s.c}, {alliance.RoleCounsellor, s.t}} {
			in := alliance.RatingInput{Session: new(i + 1), Role: string(r.role), Answers: make([]*float64, 12),
				SessionDate: time.Date(2026, 1, 5+7*i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)}
			for k := range r.a {
				in.Answers[k] = &r.a[k]
			}
			if _, _, err := f.svc.SubmitRating(f.ctx, d.ID, in, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	conf := 0.9
	a, err := f.svc.DyadAgreement(f.ctx, d.ID, &conf)
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Sessions[2]; s.ClientDate == nil || s.ClientDate.String() != "2026-01-19" || s.CounsellorDate == nil || s.CounsellorDate.String() != "2026-01-19" {
		t.Errorf("session 3 dates = %v/%v, want 2026-01-19", s.ClientDate, s.CounsellorDate)
	}
	tot := a.Slopes[0]
	want, _ := stats.SlopeConf([]float64{1, 2, 3, 4}, []float64{1, 0.5, 0, -0.5}, 0.9)
	if tot.Fit.Value == nil || tot.Fit.CIReason != "" || math.Abs(tot.Fit.Value.Slope-(-0.5)) > 1e-12 || tot.Fit.Value.Conf != 0.9 ||
		tot.Fit.Value.Lower == nil || *tot.Fit.Value.Lower != *want.Lower {
		t.Errorf("total slope = %+v, want slope −0.5 with the 90%% interval of lm", tot.Fit.Value)
	}
	if sc := tot.SignChange; sc == nil || sc.Session != 4 || sc.From != alliance.SignClientHigher || sc.To != alliance.SignCounsellorHigher {
		t.Errorf("sign change = %+v, want session 4 from client_higher to counsellor_higher (session 3's zero has no sign)", sc)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings = %+v, want none with 4 sessions", a.Warnings)
	}

	// Two sessions, no change of sign: the slope has no interval, and says so.
	d2 := f.dyad()
	f.rate(d2, 1, alliance.RoleClient, flat(5)...)
	f.rate(d2, 1, alliance.RoleCounsellor, flat(4)...)
	f.rate(d2, 2, alliance.RoleClient, flat(5)...)
	f.rate(d2, 2, alliance.RoleCounsellor, half...)
	if a, err = f.svc.DyadAgreement(f.ctx, d2.ID, nil); err != nil {
		t.Fatal(err)
	}
	if s := a.Slopes[0]; s.Fit.Value == nil || s.Fit.CIReason != stats.ReasonNTooSmall || s.SignChange != nil || s.SignChangeReason != alliance.ReasonNoSignChange {
		t.Errorf("two sessions: slope %+v (%q), sign change %v (%q)", s.Fit.Value, s.Fit.CIReason, s.SignChange, s.SignChangeReason)
	}
	if len(a.Warnings) != 4 || a.Warnings[0].Code != alliance.WarnSmallN || a.Warnings[0].Scale != "total" {
		t.Errorf("warnings = %+v, want small_n for each of the 4 scales", a.Warnings)
	}
	if _, err := f.svc.DyadAgreement(f.ctx, d2.ID, new(1.0)); fieldCodes(err)["conf"] != "out_of_range" {
		t.Errorf("conf 1: %v, want conf/out_of_range", err)
	}
}

// TestItemKappaClipped: a kappa interval past 1 is truncated to it, said
// by clipped and by a ci_clipped warning naming the item and weights.
func TestItemKappaClipped(t *testing.T) {
	f := newFixture(t)
	var dyads [][]session
	for i, v := range [][2]float64{{5, 5}, {5, 5}, {4, 4}, {4, 4}, {4, 3}} {
		c, tt := shift(refC, -float64(i%2)), shift(refT, -float64(i%3))
		c[0], tt[0] = v[0], v[1]
		dyads = append(dyads, []session{{c, tt}})
	}
	f.load(dyads)
	a, err := f.svc.StudyAgreement(f.ctx, f.study.ID, alliance.AgreementQuery{Session: "1"})
	if err != nil {
		t.Fatal(err)
	}
	k := a.Kappas[0].Kappa.Value
	if k == nil {
		t.Fatalf("item 1 kappa undefined: %s", a.Kappas[0].Kappa.Reason)
	}
	raw, _ := stats.KappaFCE([]int{5, 5, 4, 4, 4}, []int{5, 5, 4, 4, 3}, []int{1, 2, 3, 4, 5}, 0.95)
	if u := k.Unweighted; !u.Clipped || u.Upper == nil || *u.Upper != 1 || raw.Unweighted.Upper <= 1 || *u.Lower != raw.Unweighted.Lower {
		t.Errorf("unweighted = %+v (raw upper %v), want the upper bound clipped to 1", u, raw.Unweighted.Upper)
	}
	var found bool
	for _, w := range a.Warnings {
		found = found || (w.Code == alliance.WarnCIClipped && strings.Contains(w.Detail, "item 1 unweighted"))
	}
	if !found {
		t.Errorf("warnings %+v lack ci_clipped for item 1", a.Warnings)
	}
}
