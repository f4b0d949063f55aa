package stats_test

import (
	"errors"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

// pub5 is the tolerance for a figure published to 4 decimals.
const pub5 = 5e-5

func TestKappaFCEPublished(t *testing.T) {
	// §4.5a: SAS PROC FREQ (AGREE, TEST KAPPA) output for the 3 × 3 table
	// [[0,4,1],[0,8,0],[0,1,5]], as embedded in statsmodels' test suite.
	a, b := expandTable([][]int{{0, 4, 1}, {0, 8, 0}, {0, 1, 5}})
	got, err := stats.KappaFCE(a, b, []int{1, 2, 3}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                     string
		est                      stats.KappaFCEEstimate
		value, ase, lower, upper float64
		ase0, z, p               float64
	}{
		{"simple", got.Unweighted, 0.4842, 0.1380, 0.2137, 0.7547, 0.1484, 3.2626, 0.0011},
		{"weighted (linear)", got.Linear, 0.4701, 0.1457, 0.1845, 0.7558, 0.1426, 3.2971, 0.0010},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.est
			if e.N != 19 {
				t.Errorf("N = %d, want 19", e.N)
			}
			approxEqual(t, "kappa", e.Value, tc.value, pub5)
			approxEqual(t, "ASE", e.ASE, tc.ase, pub5)
			approxEqual(t, "variance", e.Variance, e.ASE*e.ASE, 1e-15)
			approxEqual(t, "lower", e.Lower, tc.lower, pub5)
			approxEqual(t, "upper", e.Upper, tc.upper, pub5)
			approxEqual(t, "ASE under H0", e.NullASE, tc.ase0, pub5)
			approxEqual(t, "Z", deref(t, "z", e.Z), tc.z, pub5)
			approxEqual(t, "two-sided p", deref(t, "p", e.P), tc.p, pub5)
		})
	}

	// irr::kappa2 z statistics and p-values (statsmodels' test suite) for
	// irr::anxiety rater 2 vs 3; irr drops the unobserved category 5 and
	// uses the Fleiss–Cohen–Everitt null variance.
	r2 := []int{3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4}
	r3 := []int{2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2}
	irr, err := stats.KappaFCE(r2, r3, []int{1, 2, 3, 4, 6}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		est      stats.KappaFCEEstimate
		value    float64
		z, p     float64
		zTol     float64
		valueTol float64
	}{
		{"unweighted", irr.Unweighted, -0.006289308, -0.0604067, 0.9518317, 5e-8, 5e-10},
		{"equal", irr.Linear, 0.1459075, 1.282472, 0.1996772, 5e-7, 5e-8},
		{"squared", irr.Quadratic, 0.2520325, 1.437451, 0.1505898, 5e-7, 5e-8},
	} {
		approxEqual(t, "irr "+tc.name+" kappa", tc.est.Value, tc.value, tc.valueTol)
		approxEqual(t, "irr "+tc.name+" z", deref(t, "z", tc.est.Z), tc.z, tc.zTol)
		approxEqual(t, "irr "+tc.name+" p", deref(t, "p", tc.est.P), tc.p, 5e-8)
	}
}

func TestKappaFCEEdges(t *testing.T) {
	t.Run("one pair is n_too_small", func(t *testing.T) {
		for _, fn := range []func() error{
			func() error { _, err := stats.KappaFCE([]int{1}, []int{2}, []int{1, 2, 3}, .95); return err },
			func() error { _, err := stats.KappaConf([]int{1}, []int{2}, []int{1, 2, 3}, .95); return err },
		} {
			var u *stats.Undefined
			if err := fn(); !errors.As(err, &u) || u.Reason != stats.ReasonNTooSmall {
				t.Errorf("err = %v, want Undefined{n_too_small}", err)
			}
		}
	})
	t.Run("perfect agreement", func(t *testing.T) {
		r, err := stats.KappaFCE([]int{1, 2, 3, 3}, []int{1, 2, 3, 3}, []int{1, 2, 3, 4}, .95)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []stats.KappaFCEEstimate{r.Unweighted, r.Linear, r.Quadratic} {
			if e.Value != 1 || e.Variance != 0 || e.Lower != 1 || e.Upper != 1 || e.Z == nil || e.NullASE <= 0 {
				t.Errorf("%+v", e)
			}
		}
	})
	t.Run("interval not clipped", func(t *testing.T) {
		// Small n, good agreement: κ + z·ASE exceeds 1 and is reported as is.
		a, b := []int{1, 1, 2, 2, 3, 3}, []int{1, 1, 2, 2, 3, 2}
		r, err := stats.KappaFCE(a, b, []int{1, 2, 3}, .95)
		if err != nil {
			t.Fatal(err)
		}
		if r.Quadratic.Upper <= 1 {
			t.Errorf("quadratic upper = %v, want > 1 (unclipped)", r.Quadratic.Upper)
		}
		k, _ := stats.KappaConf(a, b, []int{1, 2, 3}, .95)
		approxEqual(t, "KappaConf upper", deref(t, "upper", k.Quadratic.Upper), r.Quadratic.Upper, 1e-15)
	})
}
