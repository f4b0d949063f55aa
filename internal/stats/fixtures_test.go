package stats_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

// approxEqual fails the test unless |got − want| ≤ tol·max(1, |want|).
func approxEqual(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.IsInf(got, 0) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g (tol %g)", name, got, want, tol)
	}
}

// approxPtr compares an optional result with an optional (JSON null) fixture.
func approxPtr(t *testing.T, name string, got, want *float64, tol float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s: got %v, want %v (nil mismatch)", name, got, want)
	default:
		approxEqual(t, name, *got, *want, tol)
	}
}

const fixTol = 1e-9

type fixtures struct {
	Meta struct {
		RVersion string `json:"r_version"`
		Psych    string `json:"psych"`
		EpiR     string `json:"epiR"`
	} `json:"meta"`
	ICC []struct {
		Name               string
		Conf               float64
		X                  [][]float64
		N, K               int
		MSR, MSC, MSE, MSW float64
		Forms              []struct {
			Type             string
			ICC, F, DF1, DF2 float64
			P                float64
			Lower, Upper     *float64
		}
	}
	Pairs []struct {
		Name     string
		Conf     float64
		X, Y     []float64
		Pearson  corrFix
		Spearman corrFix
		CCC      struct {
			Est          float64
			Lower, Upper *float64
			SShift       float64 `json:"s_shift"`
			LShift       float64 `json:"l_shift"`
			CB           float64 `json:"c_b"`
		}
		BA struct {
			Multiplier, Bias, SD, Lower, Upper float64
			BiasLower                          float64 `json:"bias_lower"`
			BiasUpper                          float64 `json:"bias_upper"`
			LowerLower                         float64 `json:"lower_lower"`
			LowerUpper                         float64 `json:"lower_upper"`
			UpperLower                         float64 `json:"upper_lower"`
			UpperUpper                         float64 `json:"upper_upper"`
			Trend                              lmFix
		}
		Slope lmFix
	}
	Alpha []struct {
		Name       string
		X          [][]float64
		N, K       int
		RawAlpha   float64  `json:"raw_alpha"`
		StdAlpha   float64  `json:"std_alpha"`
		FeldtLower *float64 `json:"feldt_lower"`
		FeldtUpper *float64 `json:"feldt_upper"`
		Feldt90    feldt90
	}
	Kappa []struct {
		Name                          string
		Conf                          float64
		A, B, Levels                  []float64
		Unweighted, Linear, Quadratic kappaFix
	}
	Profile []struct {
		Name               string
		C, T               []float64
		ScaleMin           float64 `json:"scale_min"`
		ScaleMax           float64 `json:"scale_max"`
		MeanDiff           float64 `json:"mean_diff"`
		MeanAbsDiff        float64 `json:"mean_abs_diff"`
		D2, D              float64
		Elevation, Scatter float64
		Shape              float64
		ProfileR           *float64 `json:"profile_r"`
		RwgJ               float64  `json:"rwg_j"`
	}
}

// kappaFix is one kappa: psych::cohen.kappa's value and variance, the
// Fleiss–Cohen–Everitt variances from the formulas written out in R, and
// vcd::Kappa's ASE.
type kappaFix struct {
	Value        float64
	PsychVar     float64 `json:"psych_var"`
	FCEVar       float64 `json:"fce_var"`
	ASE          float64
	Lower, Upper float64
	NullVar      float64 `json:"null_var"`
	Z, P         *float64
}

type corrFix struct {
	R, P         float64
	Lower, Upper *float64
}

type lmFix struct {
	Intercept, Slope float64
	SE, P            *float64
}

func loadFixtures(t testing.TB) fixtures {
	t.Helper()
	var f fixtures
	loadJSON(t, "testdata/fixtures.json", &f)
	return f
}

// loadJSON decodes a fixture file into v.
func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func ints(x []float64) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

func TestICCFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).ICC {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.ICC(c.X, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.K != c.K {
				t.Errorf("N, K = %d, %d; want %d, %d", got.N, got.K, c.N, c.K)
			}
			approxEqual(t, "MSR", got.MSR, c.MSR, fixTol)
			approxEqual(t, "MSC", got.MSC, c.MSC, fixTol)
			approxEqual(t, "MSE", got.MSE, c.MSE, fixTol)
			approxEqual(t, "MSW", got.MSW, c.MSW, fixTol)
			for i, w := range c.Forms {
				g := got.Forms[i]
				if g.Type != w.Type {
					t.Fatalf("form %d type %q, want %q", i, g.Type, w.Type)
				}
				approxEqual(t, w.Type+" value", g.Value, w.ICC, fixTol)
				approxPtr(t, w.Type+" F", g.F, &w.F, fixTol)
				approxEqual(t, w.Type+" df1", g.DF1, w.DF1, fixTol)
				approxEqual(t, w.Type+" df2", g.DF2, w.DF2, fixTol)
				approxPtr(t, w.Type+" p", g.P, &w.P, fixTol)
				approxPtr(t, w.Type+" lower", g.Lower, w.Lower, fixTol)
				approxPtr(t, w.Type+" upper", g.Upper, w.Upper, fixTol)
			}
		})
	}
}

func TestPairFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Pairs {
		t.Run(c.Name, func(t *testing.T) {
			for _, k := range []struct {
				name string
				fn   func([]float64, []float64, float64) (stats.Correlation, error)
				want corrFix
			}{{"pearson", stats.Pearson, c.Pearson}, {"spearman", stats.Spearman, c.Spearman}} {
				got, err := k.fn(c.X, c.Y, c.Conf)
				if err != nil {
					t.Fatalf("%s: %v", k.name, err)
				}
				approxEqual(t, k.name+" r", got.R, k.want.R, fixTol)
				approxPtr(t, k.name+" p", got.P, &k.want.P, fixTol)
				approxPtr(t, k.name+" lower", got.Lower, k.want.Lower, fixTol)
				approxPtr(t, k.name+" upper", got.Upper, k.want.Upper, fixTol)
			}

			cc, err := stats.CCC(c.X, c.Y, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "ccc", cc.RhoC, c.CCC.Est, fixTol)
			approxPtr(t, "ccc lower", cc.Lower, c.CCC.Lower, fixTol)
			approxPtr(t, "ccc upper", cc.Upper, c.CCC.Upper, fixTol)
			approxEqual(t, "ccc s.shift", cc.ScaleShift, c.CCC.SShift, fixTol)
			approxEqual(t, "ccc l.shift", cc.LocationShift, c.CCC.LShift, fixTol)
			approxEqual(t, "ccc C.b", cc.CB, c.CCC.CB, fixTol)

			ba, err := stats.BlandAltman(c.X, c.Y, c.BA.Multiplier, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				name      string
				got, want float64
			}{
				{"bias", ba.Bias, c.BA.Bias}, {"sd", ba.SDDiff, c.BA.SD},
				{"lower", ba.Lower, c.BA.Lower}, {"upper", ba.Upper, c.BA.Upper},
				{"bias lo", ba.BiasCI.Lower, c.BA.BiasLower}, {"bias hi", ba.BiasCI.Upper, c.BA.BiasUpper},
				{"lower lo", ba.LowerCI.Lower, c.BA.LowerLower}, {"lower hi", ba.LowerCI.Upper, c.BA.LowerUpper},
				{"upper lo", ba.UpperCI.Lower, c.BA.UpperLower}, {"upper hi", ba.UpperCI.Upper, c.BA.UpperUpper},
			} {
				approxEqual(t, "BA "+v.name, v.got, v.want, fixTol)
			}
			if ba.Trend == nil {
				t.Fatalf("BA trend nil: %s", ba.TrendReason)
			}
			checkFit(t, "BA trend", *ba.Trend, c.BA.Trend)

			fit, err := stats.Slope(c.X, c.Y)
			if err != nil {
				t.Fatal(err)
			}
			checkFit(t, "slope", fit, c.Slope)
		})
	}
}

func checkFit(t *testing.T, name string, got stats.LinearFit, want lmFix) {
	t.Helper()
	approxEqual(t, name+" slope", got.Slope, want.Slope, fixTol)
	approxEqual(t, name+" intercept", got.Intercept, want.Intercept, fixTol)
	approxPtr(t, name+" se", got.SE, want.SE, fixTol)
	approxPtr(t, name+" p", got.P, want.P, fixTol)
}

func TestAlphaFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Alpha {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.CronbachAlpha(c.X)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.K != c.K {
				t.Errorf("N, K = %d, %d; want %d, %d", got.N, got.K, c.N, c.K)
			}
			approxEqual(t, "raw", got.Raw, c.RawAlpha, fixTol)
			approxEqual(t, "std", got.Std, c.StdAlpha, fixTol)
			approxPtr(t, "feldt lower", got.FeldtLower, c.FeldtLower, fixTol)
			approxPtr(t, "feldt upper", got.FeldtUpper, c.FeldtUpper, fixTol)
			c.Feldt90.check(t, got)
		})
	}
}

// feldt90 is psych::alpha.ci at p.val = 0.10.
type feldt90 struct{ Lower, Upper *float64 }

func (f feldt90) check(t *testing.T, got stats.AlphaResult) {
	t.Helper()
	lo, hi := stats.FeldtInterval(got.Raw, got.N, got.K, 0.90)
	if f.Lower == nil {
		t.Fatal("the fixture has no 90% Feldt interval")
	}
	approxPtr(t, "feldt lower at 0.90", lo, f.Lower, fixTol)
	approxPtr(t, "feldt upper at 0.90", hi, f.Upper, fixTol)
}

func TestKappaFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Kappa {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.KappaFCE(ints(c.A), ints(c.B), ints(c.Levels), c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := stats.KappaConf(ints(c.A), ints(c.B), ints(c.Levels), c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct {
				name string
				got  stats.KappaFCEEstimate
				conf stats.KappaEstimate
				want kappaFix
			}{
				{"unweighted", got.Unweighted, conf.Unweighted, c.Unweighted},
				{"linear", got.Linear, conf.Linear, c.Linear},
				{"quadratic", got.Quadratic, conf.Quadratic, c.Quadratic},
			} {
				if k.got.N != len(c.A) {
					t.Errorf("%s N = %d, want %d", k.name, k.got.N, len(c.A))
				}
				approxEqual(t, k.name+" value (psych)", k.got.Value, k.want.Value, fixTol)
				approxEqual(t, k.name+" variance (FCE)", k.got.Variance, k.want.FCEVar, fixTol)
				approxEqual(t, k.name+" ASE (vcd)", k.got.ASE, k.want.ASE, fixTol)
				approxEqual(t, k.name+" lower", k.got.Lower, k.want.Lower, fixTol)
				approxEqual(t, k.name+" upper", k.got.Upper, k.want.Upper, fixTol)
				approxEqual(t, k.name+" null variance", k.got.NullVariance, k.want.NullVar, fixTol)
				approxPtr(t, k.name+" z", k.got.Z, k.want.Z, fixTol)
				approxPtr(t, k.name+" p", k.got.P, k.want.P, fixTol)
				approxEqual(t, k.name+" KappaConf value", k.conf.Value, k.got.Value, 0)
				approxEqual(t, k.name+" KappaConf variance", k.conf.Variance, k.got.Variance, 0)
				approxPtr(t, k.name+" KappaConf lower", k.conf.Lower, &k.got.Lower, 0)
				approxPtr(t, k.name+" KappaConf upper", k.conf.Upper, &k.got.Upper, 0)
			}
			// psych's unweighted variance is the same formula; its weighted
			// one is not (see KappaFCE).
			approxEqual(t, "unweighted variance (psych)", got.Unweighted.Variance, c.Unweighted.PsychVar, fixTol)
		})
	}
}

func TestProfileFixtures(t *testing.T) {
	for _, c := range loadFixtures(t).Profile {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.Profile(c.C, c.T, c.ScaleMin, c.ScaleMax)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "mean diff", got.MeanDiff, c.MeanDiff, fixTol)
			approxEqual(t, "mean abs diff", got.MeanAbsDiff, c.MeanAbsDiff, fixTol)
			approxEqual(t, "D2", got.D2, c.D2, fixTol)
			approxEqual(t, "D", got.D, c.D, fixTol)
			approxEqual(t, "elevation", got.Elevation, c.Elevation, fixTol)
			approxEqual(t, "scatter", got.Scatter, c.Scatter, fixTol)
			approxEqual(t, "shape", got.Shape, c.Shape, fixTol)
			approxPtr(t, "profile r", got.ProfileR, c.ProfileR, fixTol)
			approxEqual(t, "rwg(J)", got.RwgJ, c.RwgJ, fixTol)
		})
	}
}
