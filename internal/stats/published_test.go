package stats_test

import (
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

// Published worked examples (docs: alliance-science.md §4), checked at the
// precision they were published or recomputed to.

var shroutFleiss = [][]float64{
	{9, 2, 5, 8}, {6, 1, 3, 2}, {8, 4, 6, 8}, {7, 1, 2, 6}, {10, 5, 6, 9}, {6, 2, 4, 7},
}

var (
	pefrWright = []float64{494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427}
	pefrMini   = []float64{512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451}
	dyadC      = []float64{5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5}
	dyadT      = []float64{4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4}
)

func columns(cols ...[]float64) [][]float64 {
	x := make([][]float64, len(cols[0]))
	for i := range x {
		for _, c := range cols {
			x[i] = append(x[i], c[i])
		}
	}
	return x
}

func deref(t *testing.T, name string, p *float64) float64 {
	t.Helper()
	if p == nil {
		t.Fatalf("%s is nil", name)
	}
	return *p
}

func TestICCPublished(t *testing.T) {
	tests := []struct {
		name               string
		x                  [][]float64
		msr, msc, mse, msw float64
		values             [6]float64 // ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k
		tol                float64
		msTol              float64
	}{
		// Shrout & Fleiss (1979) Table 4, published to 2 decimals.
		{"shrout_fleiss_published", shroutFleiss, 11.2417, 32.4861, 1.0194, 6.2639,
			[6]float64{.17, .29, .71, .44, .62, .91}, 0.005, 1e-4},
		{"shrout_fleiss_computed", shroutFleiss, 11.2417, 32.4861, 1.0194, 6.2639,
			[6]float64{0.1657, 0.2898, 0.7148, 0.4428, 0.6201, 0.9093}, 1e-4, 1e-4},
		// §4.7 within-dyad ICC, items × roles (ICC1 negative).
		{"synthetic_dyad", columns(dyadC, dyadT), 0.40530, 5.04167, 0.13258, 0.54167,
			[6]float64{-0.14400, 0.20112, 0.50704, 0, 0, 0}, 1e-5, 1e-5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stats.ICC(tc.x, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "MSR", got.MSR, tc.msr, tc.msTol)
			approxEqual(t, "MSC", got.MSC, tc.msc, tc.msTol)
			approxEqual(t, "MSE", got.MSE, tc.mse, tc.msTol)
			approxEqual(t, "MSW", got.MSW, tc.msw, tc.msTol)
			for i, want := range tc.values {
				if want == 0 && i >= 3 {
					continue // not published
				}
				approxEqual(t, got.Forms[i].ShroutFleiss, got.Forms[i].Value, want, tc.tol)
			}
		})
	}
	// §4.3 cross-check on PEFR first readings (17 × 2).
	got, err := stats.ICC(columns(pefrWright, pefrMini), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "PEFR MSR", got.MSR, 25572.265, 1e-7)
	approxEqual(t, "PEFR MSC", got.MSC, 38.118, 1e-5)
	approxEqual(t, "PEFR MSE", got.MSE, 751.368, 1e-6)
	approxEqual(t, "PEFR ICC(1)", got.Forms[0].Value, 0.94601, 1e-5)
	approxEqual(t, "PEFR ICC(A,1)", got.Forms[1].Value, 0.94593, 1e-5)
	approxEqual(t, "PEFR ICC(C,1)", got.Forms[2].Value, 0.94291, 1e-5)
}

func TestBlandAltmanPublished(t *testing.T) {
	// Bland & Altman (1986) PEFR, first readings, the paper's d̄ ± 2s.
	got, err := stats.BlandAltman(pefrWright, pefrMini, 2, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "bias", got.Bias, -2.1176, 1e-4)
	approxEqual(t, "sd", got.SDDiff, 38.7651, 1e-5)
	approxEqual(t, "lower", got.Lower, -79.648, 1e-5)
	approxEqual(t, "upper", got.Upper, 75.413, 1e-5)
	approxEqual(t, "bias CI lower", got.BiasCI.Lower, -22.05, 5e-4)
	approxEqual(t, "bias CI upper", got.BiasCI.Upper, 17.81, 5e-4)
	approxEqual(t, "lower LoA CI lower", got.LowerCI.Lower, -114.17, 1e-4)
	approxEqual(t, "lower LoA CI upper", got.LowerCI.Upper, -45.13, 1e-4)
	approxEqual(t, "upper LoA CI lower", got.UpperCI.Lower, 40.89, 1e-4)
	approxEqual(t, "upper LoA CI upper", got.UpperCI.Upper, 109.93, 1e-4)
	// Published (rounded inputs): −114.3 to −45.1 for the lower limit.
	approxEqual(t, "lower LoA CI lower (published)", got.LowerCI.Lower, -114.3, 0.2/114.3)

	r, err := stats.Pearson(pefrWright, pefrMini, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "pearson", r.R, 0.9433, 1e-4)
}

func TestCCCPublished(t *testing.T) {
	// §4.3 Lin's CCC on PEFR (epiR conventions).
	got, err := stats.CCC(pefrWright, pefrMini, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "rho_c", got.RhoC, 0.94274, 1e-5)
	approxEqual(t, "r", got.Pearson, 0.94328, 1e-5)
	approxEqual(t, "C_b", got.CB, 0.99943, 1e-5)
	approxEqual(t, "u", got.LocationShift, 0.01903, 1e-5)
	approxEqual(t, "se", deref(t, "se", got.SE), 0.02862, 1e-5)
	approxEqual(t, "lower", deref(t, "lower", got.Lower), 0.8505, 1e-4)
	approxEqual(t, "upper", deref(t, "upper", got.Upper), 0.9787, 1e-4)
}

func TestAlphaPublished(t *testing.T) {
	// §4.6: alpha of the Shrout–Fleiss matrix equals ICC(C,k) = 0.9093.
	got, err := stats.CronbachAlpha(shroutFleiss)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "alpha", got.Raw, 0.9093, 1e-4)
	icc, _ := stats.ICC(shroutFleiss, 0.95)
	approxEqual(t, "alpha = ICC(C,k)", got.Raw, icc.Forms[5].Value, 1e-12)
}

func expandTable(tab [][]int) (a, b []int) {
	for i, row := range tab {
		for j, n := range row {
			for range n {
				a, b = append(a, i+1), append(b, j+1)
			}
		}
	}
	return a, b
}

func TestKappaPublished(t *testing.T) {
	// §4.5a SAS output (statsmodels test suite).
	a, b := expandTable([][]int{{0, 4, 1}, {0, 8, 0}, {0, 1, 5}})
	got, err := stats.Kappa(a, b, []int{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "SAS kappa", got.Unweighted.Value, 0.4842, 1e-4)
	approxEqual(t, "SAS kappa lower", deref(t, "lower", got.Unweighted.Lower), 0.2137, 1e-4)
	approxEqual(t, "SAS kappa upper", deref(t, "upper", got.Unweighted.Upper), 0.7547, 1e-4)
	approxEqual(t, "SAS linear", got.Linear.Value, 0.4701, 1e-4)
	approxEqual(t, "quadratic (computed)", got.Quadratic.Value, 0.4502, 1e-4)

	// §4.5b irr::anxiety rater 2 vs 3 over the full category set 1..6.
	r2 := []int{3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4}
	r3 := []int{2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2}
	got, err = stats.Kappa(r2, r3, []int{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "anxiety unweighted", got.Unweighted.Value, -0.0062893, 1e-7)
	approxEqual(t, "anxiety linear", got.Linear.Value, 0.1262136, 1e-7)
	approxEqual(t, "anxiety quadratic", got.Quadratic.Value, 0.2297980, 1e-7)
	// irr::kappa2 drops the unobserved category 5; same data, observed set only.
	got, err = stats.Kappa(r2, r3, []int{1, 2, 3, 4, 6})
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "irr unweighted", got.Unweighted.Value, -0.006289308, 1e-9)
	approxEqual(t, "irr equal", got.Linear.Value, 0.1459075, 1e-7)
	approxEqual(t, "irr squared", got.Quadratic.Value, 0.2520325, 1e-7)
}

func TestProfilePublished(t *testing.T) {
	// §4.7 synthetic WAI-SR dyad.
	got, err := stats.Profile(dyadC, dyadT, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.K != 12 {
		t.Errorf("K = %d", got.K)
	}
	approxEqual(t, "mean diff", got.MeanDiff, 0.9167, 1e-4)
	approxEqual(t, "MAD", got.MeanAbsDiff, 0.9167, 1e-4)
	approxEqual(t, "D2", got.D2, 13, 1e-12)
	approxEqual(t, "D", got.D, 3.6056, 1e-4)
	approxEqual(t, "elevation", got.Elevation, 10.08333, 1e-5)
	approxEqual(t, "scatter", got.Scatter, 0.00059, 1e-5)
	approxEqual(t, "shape", got.Shape, 2.91608, 1e-5)
	approxEqual(t, "decomposition", got.Elevation+got.Scatter+got.Shape, got.D2, 1e-12)
	approxEqual(t, "r_p", deref(t, "r_p", got.ProfileR), 0.50709, 1e-5)
	approxEqual(t, "s2 bar", got.MeanItemVar, 0.54167, 1e-5)
	approxEqual(t, "rwg(J)", got.RwgJ, 0.96998, 1e-5)
}

func TestFisherMean(t *testing.T) {
	got, err := stats.FisherMean([]float64{0.5, -0.5})
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "symmetric", got, 0, 1e-15)
	got, _ = stats.FisherMean([]float64{0.3, 0.6, 0.6})
	approxEqual(t, "mean z", got, 0.5118780562723968, 1e-12) // tanh((atanh .3 + 2 atanh .6)/3)
}
