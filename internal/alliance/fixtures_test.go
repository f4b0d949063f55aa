package alliance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/stats"
	"github.com/alliance-project/alliance/internal/store"
)

// The domain's figures on two whole studies, compared with R
// (testdata/fixtures.json, written by internal/stats/testdata/gen_fixtures.R):
// the answers are submitted through the service and every expected value
// is R's, computed from the same answers.

const (
	fixTol  = 1e-9 // same method as R
	remlTol = 1e-6 // REML against lme4 (its optimiser stops near 1e-8)
)

type rInterval struct {
	N            int
	Mean         float64
	SD           *float64
	Lower, Upper *float64
	Clipped      bool
}

type rShare struct {
	X, N         int
	Share        float64
	Lower, Upper float64
}

type rRandomIntercept struct {
	N, Clusters               int
	Balanced, Singular        bool
	Sigma2U                   float64 `json:"sigma2_u"`
	Sigma2E                   float64 `json:"sigma2_e"`
	Mean, ICC                 float64
	MSB, MSW, F, DF1, DF2, M0 float64
	Lower, Upper              float64
	DesignEffect              float64 `json:"design_effect"`
	EffectiveN                float64 `json:"effective_n"`
	REMLCriterion             float64 `json:"reml_criterion"`
}

type rKripp struct {
	Alpha float64
	N     int
	Units int
	DO    float64 `json:"d_o"`
	DE    float64 `json:"d_e"`
}

type rKappa struct {
	Value, Variance, Lower, Upper float64
	NullVariance                  float64 `json:"null_variance"`
	Z, P                          float64
}

type rAlpha struct {
	N, K       int
	MinPairN   int     `json:"min_pair_n"`
	RawAlpha   float64 `json:"raw_alpha"`
	StdAlpha   float64 `json:"std_alpha"`
	FeldtLower float64 `json:"feldt_lower"`
	FeldtUpper float64 `json:"feldt_upper"`
}

type domainFixtures struct {
	WAI struct {
		Conf            float64
		CounsellorCodes []string `json:"counsellor_codes"`
		Dyads           []struct {
			Counsellor      int
			Client          []*float64
			CounsellorItems []*float64 `json:"counsellor_items"`
		}
		Scales []struct {
			Scale              string
			Client, Counsellor []float64
		}
		Counsellors []struct {
			Code                           string
			N                              int
			Client, Counsellor, Difference rInterval
			ClientHigher                   rShare `json:"client_higher"`
		}
		Variance              map[string]rRandomIntercept
		ClusterMeanDifference struct {
			N, Clusters                int
			Mean, SE, DF, Lower, Upper float64
			NaiveSE                    float64 `json:"naive_se"`
		} `json:"cluster_mean_difference"`
		NaiveMeanDifference struct{ Mean, SE, Lower, Upper float64 } `json:"naive_mean_difference"`
		Pearson             struct{ R, P, Lower, Upper float64 }
		CCC                 struct{ Est, Lower, Upper float64 }
		Alpha               map[string]map[string]rAlpha
		Krippendorff        struct {
			Items []struct {
				Item              int
				Interval, Ordinal rKripp
			}
			Scales []struct {
				Scale             string
				Interval, Ordinal rKripp
			}
		}
		Kappa []struct {
			Item                          int
			N                             int
			Unweighted, Linear, Quadratic rKappa
		}
	}
	SRS struct {
		Conf            float64
		Cutoff          float64
		CounsellorCodes []string  `json:"counsellor_codes"`
		DyadCounsellor  []float64 `json:"dyad_counsellor"`
		Ratings         []struct {
			Dyad, Session int
			Answers       []*float64
		}
		Sessions []struct {
			Session, N int
			Mean       float64
			SD         *float64
			Min, Max   float64
			Q          []float64
			Below      rShare
			AtMax      int `json:"at_max"`
			AtMin      int `json:"at_min"`
		}
		ChangePublished rChange `json:"change_published"`
		ChangeStudy     rChange `json:"change_study"`
		Counsellors     []struct {
			Code string
			rInterval
		}
	}
}

type rChange struct {
	Reliability, SD, SEM, Threshold float64
	SDiff                           float64 `json:"s_diff"`
	Source                          string
	Steps                           []struct {
		From, To, N                       int
		MeanChange                        *float64 `json:"mean_change"`
		Improved, Deteriorated, Unchanged int
		Lower, Upper                      *float64
	}
}

func loadDomainFixtures(t *testing.T) domainFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f domainFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.WAI.Dyads) == 0 || len(f.SRS.Ratings) == 0 {
		t.Fatal("empty fixtures")
	}
	return f
}

// newService is a real service over a fresh, migrated SQLite file.
func newService(t *testing.T) (*alliance.Service, context.Context) {
	t.Helper()
	svc, _, ctx := newServiceStore(t)
	return svc, ctx
}

// newServiceStore is newService with its store, for tests that reach
// under the service.
func newServiceStore(t *testing.T) (*alliance.Service, *store.Store, context.Context) {
	t.Helper()
	st := benchdata.Open(t, filepath.Join(t.TempDir(), "f.db"))
	return alliance.NewService(st, instrument.Builtin()), st, context.Background()
}

// loadWAI submits the WAI fixture study: session 1 of every dyad.
func loadWAI(t *testing.T, f domainFixtures) (*alliance.Service, context.Context, string) {
	t.Helper()
	svc, ctx := newService(t)
	st, err := svc.CreateStudy(ctx, alliance.StudyInput{Name: "wai fixture", ClientForm: "wai_sr_client", CounsellorForm: "wai_sr_therapist"})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range f.WAI.Dyads {
		dy, err := svc.CreateDyad(ctx, st.ID, alliance.DyadInput{ClientCode: fmt.Sprintf("C-%02d", i), CounsellorCode: f.WAI.CounsellorCodes[d.Counsellor]})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct {
			role    alliance.Role
			answers []*float64
		}{{alliance.RoleClient, d.Client}, {alliance.RoleCounsellor, d.CounsellorItems}} {
			if r.answers == nil {
				continue
			}
			if _, _, err := svc.SubmitRating(ctx, dy.ID, alliance.RatingInput{Session: new(1), Role: string(r.role), Answers: r.answers}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return svc, ctx, st.ID
}

func approx(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.15g, want %.15g (±%g)", name, got, want, tol)
	}
}

func approxP(t *testing.T, name string, got *float64, want float64, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %.15g", name, want)
		return
	}
	approx(t, name, *got, want, tol)
}

// checkEstimate compares a mean estimate with R's t interval (clipped as
// the domain clips it); below 3 observations the bounds must be null
// with ci_reason n_too_small.
func checkEstimate(t *testing.T, name string, got alliance.Estimate, want rInterval) {
	t.Helper()
	if got.N != want.N {
		t.Errorf("%s n = %d, want %d", name, got.N, want.N)
	}
	approxP(t, name+" mean", got.Value, want.Mean, fixTol)
	if want.Lower == nil {
		if got.Lower != nil || got.Upper != nil || got.CIReason != stats.ReasonNTooSmall {
			t.Errorf("%s interval = %v..%v (%q), want null with n_too_small", name, got.Lower, got.Upper, got.CIReason)
		}
		return
	}
	approxP(t, name+" lower", got.Lower, *want.Lower, fixTol)
	approxP(t, name+" upper", got.Upper, *want.Upper, fixTol)
	if got.Clipped != want.Clipped {
		t.Errorf("%s clipped = %v, want %v", name, got.Clipped, want.Clipped)
	}
}

func hasWarning(ws []alliance.Warning, code string) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}

// TestCounsellorAgreementFixture: per-counsellor intervals (t.test,
// prop.test), the variance split (lme4::lmer REML), the cluster-robust mean
// difference (sandwich::vcovCL) and the naive figures beside it.
func TestCounsellorAgreementFixture(t *testing.T) {
	f := loadDomainFixtures(t)
	svc, ctx, id := loadWAI(t, f)
	w := f.WAI
	a, err := svc.CounsellorAgreement(ctx, id, alliance.CounsellorQuery{Session: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Scale != "total" || a.NPairs != 26 || a.NIncomplete != 2 || len(a.Counsellors) != len(w.Counsellors) {
		t.Fatalf("scale %s, %d pairs, %d incomplete, %d counsellors", a.Scale, a.NPairs, a.NIncomplete, len(a.Counsellors))
	}
	for i, want := range w.Counsellors {
		got := a.Counsellors[i]
		if got.Code != want.Code || got.NDyads != want.N {
			t.Fatalf("counsellor %d = %s with %d dyads, want %s with %d", i, got.Code, got.NDyads, want.Code, want.N)
		}
		checkEstimate(t, want.Code+" client", got.Client, want.Client)
		checkEstimate(t, want.Code+" counsellor", got.Counsellor, want.Counsellor)
		checkEstimate(t, want.Code+" difference", got.Difference, want.Difference)
		h := got.ClientHigher
		approxP(t, want.Code+" client higher", h.Value, want.ClientHigher.Share, fixTol)
		if want.N >= alliance.MinNInterval {
			approxP(t, want.Code+" client higher lower", h.Lower, want.ClientHigher.Lower, fixTol)
			approxP(t, want.Code+" client higher upper", h.Upper, want.ClientHigher.Upper, fixTol)
		} else if h.Lower != nil || h.CIReason != stats.ReasonNTooSmall {
			t.Errorf("%s client higher interval = %v (%q), want null with n_too_small", want.Code, h.Lower, h.CIReason)
		}
	}
	for _, v := range a.Variance {
		want, ok := w.Variance[v.Score]
		if !ok || v.Fit.Value == nil {
			t.Fatalf("variance of %s: %+v, fixture %v", v.Score, v.Fit, ok)
		}
		got := v.Fit.Value
		if got.N != want.N || got.Clusters != want.Clusters || got.Balanced != want.Balanced || got.Boundary != want.Singular || got.Estimator != stats.EstimatorREML {
			t.Errorf("%s: n %d clusters %d balanced %v boundary %v estimator %s; want %d %d %v %v reml",
				v.Score, got.N, got.Clusters, got.Balanced, got.Boundary, got.Estimator, want.N, want.Clusters, want.Balanced, want.Singular)
		}
		approx(t, v.Score+" sigma2_u", got.SigmaU2, want.Sigma2U, remlTol)
		approx(t, v.Score+" sigma2_e", got.SigmaE2, want.Sigma2E, remlTol)
		approx(t, v.Score+" icc", got.ICC, want.ICC, remlTol)
		approx(t, v.Score+" mean", got.Mean, want.Mean, remlTol)
		approx(t, v.Score+" design effect", got.DesignEffect, want.DesignEffect, remlTol)
		approx(t, v.Score+" effective n", got.EffectiveN, want.EffectiveN, remlTol)
		approx(t, v.Score+" REML criterion", got.REMLCriterion, want.REMLCriterion, remlTol)
		approx(t, v.Score+" MSB", got.MSB, want.MSB, fixTol)
		approxP(t, v.Score+" icc lower", got.Lower, want.Lower, fixTol)
		approxP(t, v.Score+" icc upper", got.Upper, want.Upper, fixTol)
	}
	c := a.Clustered
	cm, rm := c.MeanDifference.ClusterRobust.Value, w.ClusterMeanDifference
	if c.Clusters != rm.Clusters || cm == nil || cm.Clusters != rm.Clusters || cm.N != rm.N {
		t.Fatalf("cluster-robust mean difference = %+v over %d clusters, want %d", cm, c.Clusters, rm.Clusters)
	}
	approx(t, "cluster mean", cm.Mean, rm.Mean, fixTol)
	approx(t, "cluster se", cm.SE, rm.SE, fixTol)
	approx(t, "cluster lower", cm.Lower, rm.Lower, fixTol)
	approx(t, "cluster upper", cm.Upper, rm.Upper, fixTol)
	nm := c.MeanDifference.Naive.Value
	approx(t, "naive mean", nm.Mean, w.NaiveMeanDifference.Mean, fixTol)
	approx(t, "naive se", nm.SE, w.NaiveMeanDifference.SE, fixTol)
	approx(t, "naive lower", nm.Lower, w.NaiveMeanDifference.Lower, fixTol)
	approx(t, "naive upper", nm.Upper, w.NaiveMeanDifference.Upper, fixTol)
	approx(t, "pearson", c.Pearson.Value.R, w.Pearson.R, fixTol)
	approxP(t, "pearson lower", c.Pearson.Value.Lower, w.Pearson.Lower, fixTol)
	approx(t, "ccc", c.CCC.Value.RhoC, w.CCC.Est, fixTol)
	approxP(t, "ccc lower", c.CCC.Value.Lower, w.CCC.Lower, fixTol)

	// The bootstrap cannot be reproduced in R (another generator); it must
	// equal the stats call on the same pairs with the reported seed.
	var codes []string
	for _, d := range w.Dyads[:26] {
		codes = append(codes, w.CounsellorCodes[d.Counsellor])
	}
	tot := w.Scales[0]
	pb, _ := stats.ClusterBootstrapPearson(codes, tot.Client, tot.Counsellor, alliance.BootstrapReplicates, w.Conf, alliance.BootstrapSeed)
	if got := c.PearsonBootstrap.Value; got == nil || got.Lower != pb.Lower || got.Upper != pb.Upper || got.Seed != alliance.BootstrapSeed || got.Clusters != 7 {
		t.Errorf("pearson bootstrap = %+v, want %+v", got, pb)
	}
	cb, _ := stats.ClusterBootstrapCCC(codes, tot.Counsellor, tot.Client, alliance.BootstrapReplicates, w.Conf, alliance.BootstrapSeed)
	if got := c.CCCBootstrap.Value; got == nil || got.Lower != cb.Lower || got.Upper != cb.Upper {
		t.Errorf("ccc bootstrap = %+v, want %+v", got, cb)
	}
	for _, code := range []string{alliance.WarnFewClusters, alliance.WarnCIClipped, alliance.WarnSmallN} {
		if !hasWarning(a.Warnings, code) {
			t.Errorf("warnings %+v lack %s (7 counsellors; K-05's interval passes 5; K-07 has one dyad)", a.Warnings, code)
		}
	}
}

// TestStudyAgreementFixture: pairwise and listwise alpha (psych::alpha),
// Krippendorff's alpha per item and scale, item kappas with Fleiss–Cohen–
// Everitt variances (vcd::Kappa's ASE), and the cluster-robust mean
// difference beside the naive one.
func TestStudyAgreementFixture(t *testing.T) {
	f := loadDomainFixtures(t)
	svc, ctx, id := loadWAI(t, f)
	w := f.WAI
	for _, method := range []string{"", alliance.AlphaListwise} {
		a, err := svc.StudyAgreement(ctx, id, alliance.AgreementQuery{Session: "1", Alpha: method})
		if err != nil {
			t.Fatal(err)
		}
		m := method
		if m == "" {
			m = alliance.AlphaPairwise
		}
		if a.AlphaMethod != m || len(a.Alpha) != 2 {
			t.Fatalf("alpha method %q, %d roles", a.AlphaMethod, len(a.Alpha))
		}
		for _, ra := range a.Alpha {
			want := w.Alpha[string(ra.Role)][m]
			v := ra.Alpha.Value
			if v == nil || ra.Method != m || ra.N != want.N || ra.K != 12 || v.KUsed != want.K {
				t.Fatalf("%s %s alpha = %+v (%+v), want n %d k %d", ra.Role, m, ra, v, want.N, want.K)
			}
			approx(t, string(ra.Role)+" "+m+" raw alpha", v.Raw, want.RawAlpha, fixTol)
			approx(t, string(ra.Role)+" "+m+" std alpha", v.Std, want.StdAlpha, fixTol)
			if m == alliance.AlphaPairwise {
				approxP(t, string(ra.Role)+" feldt lower", v.FeldtLower, want.FeldtLower, fixTol)
				approxP(t, string(ra.Role)+" feldt upper", v.FeldtUpper, want.FeldtUpper, fixTol)
				if v.MinPairN != want.MinPairN {
					t.Errorf("%s min pair n = %d, want %d", ra.Role, v.MinPairN, want.MinPairN)
				}
			}
		}
		if method != "" {
			continue
		}
		if len(a.Kappas) != 12 || len(a.Scales) != 4 {
			t.Fatalf("%d item kappas, %d scales", len(a.Kappas), len(a.Scales))
		}
		for i, want := range w.Kappa {
			got := a.Kappas[i]
			if got.Item != want.Item || got.N != want.N || got.Kappa.Value == nil {
				t.Fatalf("item %d kappa = %+v, want n %d", want.Item, got, want.N)
			}
			for _, k := range []struct {
				name string
				got  alliance.KappaEstimate
				want rKappa
			}{{"unweighted", got.Kappa.Value.Unweighted, want.Unweighted}, {"linear", got.Kappa.Value.Linear, want.Linear}, {"quadratic", got.Kappa.Value.Quadratic, want.Quadratic}} {
				name := fmt.Sprintf("item %d %s", want.Item, k.name)
				approx(t, name+" kappa", k.got.Value, k.want.Value, fixTol)
				approx(t, name+" variance", k.got.Variance, k.want.Variance, fixTol)
				approx(t, name+" null variance", k.got.NullVariance, k.want.NullVariance, fixTol)
				approxP(t, name+" z", k.got.Z, k.want.Z, fixTol)
				approxP(t, name+" p", k.got.P, k.want.P, fixTol)
				approxP(t, name+" lower", k.got.Lower, math.Max(-1, k.want.Lower), fixTol)
				approxP(t, name+" upper", k.got.Upper, math.Min(1, k.want.Upper), fixTol)
				if k.got.Clipped != (k.want.Lower < -1 || k.want.Upper > 1) {
					t.Errorf("%s clipped = %v", name, k.got.Clipped)
				}
			}
			checkKripp(t, fmt.Sprintf("item %d", want.Item), got.Krippendorff, w.Krippendorff.Items[i].Interval, w.Krippendorff.Items[i].Ordinal)
		}
		for i, want := range w.Krippendorff.Scales {
			s := a.Scales[i]
			if s.Scale != want.Scale {
				t.Fatalf("scale %d = %s, want %s", i, s.Scale, want.Scale)
			}
			checkKripp(t, s.Scale, s.Krippendorff, want.Interval, want.Ordinal)
		}
		md := a.Scales[0].MeanDifference
		if md.Clusters != 7 || md.ClusterRobust.Value == nil {
			t.Fatalf("total mean difference = %+v", md)
		}
		approx(t, "total cluster-robust upper", md.ClusterRobust.Value.Upper, w.ClusterMeanDifference.Upper, fixTol)
		approx(t, "total naive upper", md.Naive.Value.Upper, w.NaiveMeanDifference.Upper, fixTol)
		if a.NCounsellors != 7 || !hasWarning(a.Warnings, alliance.WarnFewClusters) {
			t.Errorf("counsellors %d, warnings %+v; want 7 and few_clusters", a.NCounsellors, a.Warnings)
		}
	}
}

func checkKripp(t *testing.T, name string, got alliance.KrippendorffPair, interval, ordinal rKripp) {
	t.Helper()
	for _, k := range []struct {
		metric string
		got    alliance.Figure[alliance.Krippendorff]
		want   rKripp
	}{{"interval", got.Interval, interval}, {"ordinal", got.Ordinal, ordinal}} {
		v := k.got.Value
		if v == nil || v.N != k.want.N || v.Units != k.want.Units || v.Metric != k.metric {
			t.Errorf("%s %s krippendorff = %+v (%s), want n %d units %d", name, k.metric, v, k.got.Reason, k.want.N, k.want.Units)
			continue
		}
		approx(t, name+" "+k.metric+" alpha", v.Alpha, k.want.Alpha, fixTol)
		approx(t, name+" "+k.metric+" D_o", v.DO, k.want.DO, fixTol)
		approx(t, name+" "+k.metric+" D_e", v.DE, k.want.DE, fixTol)
	}
}

// TestStudySummaryFixture: the client-only SRS study's distribution per
// session (quantile type 7), share below the cut-off 36 (prop.test),
// reliable change (Jacobson–Truax with the published and the study's own
// reliability) and per-counsellor means (t.test).
func TestStudySummaryFixture(t *testing.T) {
	f := loadDomainFixtures(t)
	r := f.SRS
	svc, ctx := newService(t)
	st, err := svc.CreateStudy(ctx, alliance.StudyInput{Name: "srs fixture", ClientForm: "srs_client"})
	if err != nil {
		t.Fatal(err)
	}
	var dyads []alliance.Dyad
	for i, g := range r.DyadCounsellor {
		d, err := svc.CreateDyad(ctx, st.ID, alliance.DyadInput{ClientCode: fmt.Sprintf("C-%02d", i), CounsellorCode: r.CounsellorCodes[int(g)]})
		if err != nil {
			t.Fatal(err)
		}
		dyads = append(dyads, d)
	}
	for _, rt := range r.Ratings {
		if _, _, err := svc.SubmitRating(ctx, dyads[rt.Dyad].ID, alliance.RatingInput{Session: new(rt.Session), Role: "client", Answers: rt.Answers}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.StudyAgreement(ctx, st.ID, alliance.AgreementQuery{}); err == nil {
		t.Error("study agreement of a client-only study: no error, want single_role_study")
	}
	for _, tc := range []struct {
		reliability string
		want        rChange
	}{{"", r.ChangePublished}, {"study", r.ChangeStudy}} {
		s, err := svc.StudySummary(ctx, st.ID, alliance.SummaryQuery{Reliability: tc.reliability})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Roles) != 1 || s.Roles[0].Role != alliance.RoleClient || s.Roles[0].Metric != alliance.MetricSum || s.Roles[0].Max != 40 {
			t.Fatalf("roles = %+v, want the client on the sum metric 0..40", s.Roles)
		}
		rs := s.Roles[0]
		if rs.Cutoff == nil || rs.Cutoff.Value != r.Cutoff || len(rs.Sessions) != len(r.Sessions) {
			t.Fatalf("cutoff %+v, %d sessions", rs.Cutoff, len(rs.Sessions))
		}
		for i, want := range r.Sessions {
			got := rs.Sessions[i]
			name := fmt.Sprintf("session %d", want.Session)
			if got.Session != want.Session || got.N != want.N || got.AtMax != want.AtMax || got.AtMin != want.AtMin {
				t.Errorf("%s: session %d n %d at max %d at min %d, want %d %d %d %d", name, got.Session, got.N, got.AtMax, got.AtMin, want.Session, want.N, want.AtMax, want.AtMin)
			}
			approxP(t, name+" mean", got.Summary.Mean, want.Mean, fixTol)
			approxP(t, name+" sd", got.Summary.SD, *want.SD, fixTol)
			approxP(t, name+" min", got.Summary.Min, want.Min, fixTol)
			approxP(t, name+" max", got.Summary.Max, want.Max, fixTol)
			approxP(t, name+" q1", got.Q1, want.Q[0], fixTol)
			approxP(t, name+" median", got.Median, want.Q[1], fixTol)
			approxP(t, name+" q3", got.Q3, want.Q[2], fixTol)
			b := got.BelowCutoff
			approxP(t, name+" share below", b.Value, want.Below.Share, fixTol)
			approxP(t, name+" share below lower", b.Lower, want.Below.Lower, fixTol)
			approxP(t, name+" share below upper", b.Upper, want.Below.Upper, fixTol)
		}
		ch := rs.Change.Value
		if ch == nil || ch.Criterion.Value == nil || ch.Source != tc.want.Source {
			t.Fatalf("reliable change = %+v (%s), want source %s", ch, rs.Change.Reason, tc.want.Source)
		}
		cr := ch.Criterion.Value
		approx(t, "reliability", cr.Reliability, tc.want.Reliability, fixTol)
		approx(t, "sd", cr.SD, tc.want.SD, fixTol)
		approx(t, "sem", cr.SEM, tc.want.SEM, fixTol)
		approx(t, "s_diff", cr.SDiff, tc.want.SDiff, fixTol)
		approx(t, "threshold", cr.Threshold, tc.want.Threshold, fixTol)
		if len(ch.Steps) != len(tc.want.Steps) {
			t.Fatalf("%d change steps, want %d", len(ch.Steps), len(tc.want.Steps))
		}
		for i, want := range tc.want.Steps {
			got := ch.Steps[i]
			name := fmt.Sprintf("change %d→%d", want.From, want.To)
			if got.From != want.From || got.To != want.To || got.Change.N != want.N ||
				got.ReliableIncrease != want.Improved || got.ReliableDecrease != want.Deteriorated || got.NoReliableChange != want.Unchanged {
				t.Errorf("%s = %+v, want n %d up %d down %d none %d", name, got, want.N, want.Improved, want.Deteriorated, want.Unchanged)
			}
			approxP(t, name+" mean", got.Change.Value, *want.MeanChange, fixTol)
			approxP(t, name+" lower", got.Change.Lower, *want.Lower, fixTol)
			approxP(t, name+" upper", got.Change.Upper, *want.Upper, fixTol)
		}
		if len(rs.Counsellors) != len(r.Counsellors) {
			t.Fatalf("%d counsellors, want %d", len(rs.Counsellors), len(r.Counsellors))
		}
		for i, want := range r.Counsellors {
			got := rs.Counsellors[i]
			if got.Code != want.Code {
				t.Fatalf("counsellor %d = %s, want %s", i, got.Code, want.Code)
			}
			checkEstimate(t, want.Code, got.Mean, want.rInterval)
		}
		for _, code := range []string{alliance.WarnSingleRaterOnly, alliance.WarnCIClipped, alliance.WarnSmallN, alliance.WarnCeiling} {
			if !hasWarning(s.Warnings, code) {
				t.Errorf("warnings %+v lack %s", s.Warnings, code)
			}
		}
	}
}
