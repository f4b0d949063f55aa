package stats_test

import (
	"math"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

type lme4Fix struct {
	Name           string
	Conf           float64
	ExactOptimiser bool `json:"exact_optimiser"`
	G              []float64
	Y              []float64
	N, Clusters    int
	Balanced       bool
	Sigma2U        float64 `json:"sigma2_u"`
	Sigma2E        float64 `json:"sigma2_e"`
	Mean           float64
	REMLCriterion  float64 `json:"reml_criterion"`
	Singular       bool
	ICC            float64
	MSB, MSW, F    float64
	DF1, DF2, M0   float64
	Lower, Upper   float64
	DesignEffect   float64 `json:"design_effect"`
	EffectiveN     float64 `json:"effective_n"`
}

func TestRandomInterceptLme4(t *testing.T) {
	var f struct {
		RandomIntercept []lme4Fix `json:"random_intercept"`
	}
	loadJSON(t, "testdata/fixtures_lme4.json", &f)
	if len(f.RandomIntercept) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.RandomIntercept {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.RandomIntercept(ints(c.G), c.Y, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.Clusters != c.Clusters || got.Balanced != c.Balanced {
				t.Errorf("N, J, balanced = %d, %d, %v; want %d, %d, %v", got.N, got.Clusters, got.Balanced, c.N, c.Clusters, c.Balanced)
			}
			wantEst := stats.EstimatorREML
			if c.Balanced && c.MSB >= c.MSW {
				wantEst = stats.EstimatorANOVA
			}
			if got.Estimator != wantEst || got.Boundary != c.Singular {
				t.Errorf("estimator, boundary = %q, %v; want %q, %v", got.Estimator, got.Boundary, wantEst, c.Singular)
			}
			// lmer's default optimiser stops within ~1e-7 of the optimum;
			// with tight tolerances it agrees to ~1e-9.
			tol := 1e-6
			if c.ExactOptimiser {
				tol = 1e-8
			}
			approxEqual(t, "sigma2_u", got.SigmaU2, c.Sigma2U, tol)
			approxEqual(t, "sigma2_e", got.SigmaE2, c.Sigma2E, tol)
			approxEqual(t, "mean", got.Mean, c.Mean, tol)
			approxEqual(t, "icc", got.ICC, c.ICC, tol)
			approxEqual(t, "design effect", got.DesignEffect, c.DesignEffect, tol)
			approxEqual(t, "effective n", got.EffectiveN, c.EffectiveN, tol)
			approxEqual(t, "REML criterion", got.REMLCriterion, c.REMLCriterion, 1e-9)
			if got.REMLCriterion > c.REMLCriterion+1e-9*math.Abs(c.REMLCriterion) {
				t.Errorf("REML criterion %.12g worse than lmer's %.12g", got.REMLCriterion, c.REMLCriterion)
			}
			for _, v := range []struct {
				name      string
				got, want float64
			}{
				{"MSB", got.MSB, c.MSB}, {"MSW", got.MSW, c.MSW}, {"F", got.F, c.F},
				{"df1", got.DF1, c.DF1}, {"df2", got.DF2, c.DF2}, {"m0", got.M0, c.M0},
				{"lower", deref(t, "lower", got.Lower), c.Lower}, {"upper", deref(t, "upper", got.Upper), c.Upper},
			} {
				approxEqual(t, v.name, v.got, v.want, fixTol)
			}
			if strings.HasPrefix(c.Name, "boundary") && got.SigmaU2 != 0 {
				t.Errorf("boundary: sigma2_u = %v, want exactly 0", got.SigmaU2)
			}
		})
	}
}

func TestRandomInterceptEdges(t *testing.T) {
	tests := []struct {
		name string
		g    []string
		y    []float64
		conf float64
		want string
	}{
		{"one cluster", []string{"a", "a", "a"}, []float64{1, 2, 3}, .95, stats.ReasonNTooSmall},
		{"singletons only", []string{"a", "b", "c"}, []float64{1, 2, 3}, .95, stats.ReasonNTooSmall},
		{"empty", nil, nil, .95, stats.ReasonNTooSmall},
		{"no within variation", []string{"a", "a", "b", "b"}, []float64{1, 1, 2, 2}, .95, stats.ReasonNoWithinVariance},
		{"all equal", []string{"a", "a", "b", "b"}, []float64{3, 3, 3, 3}, .95, stats.ReasonZeroVariance},
		{"mismatched", []string{"a", "b"}, []float64{1}, .95, stats.ReasonMismatchedLengths},
		{"NaN", []string{"a", "a", "b"}, []float64{1, math.NaN(), 2}, .95, "invalid"},
		{"conf", []string{"a", "a", "b"}, []float64{1, 2, 3}, 1.5, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stats.RandomIntercept(tc.g, tc.y, tc.conf)
			checkReason(t, err, tc.want)
		})
	}
	t.Run("balanced ANOVA equals the REML closed form", func(t *testing.T) {
		// 3 clusters × 2: means 1.5, 3.5, 6.5 → MSB = 25.333…, MSW = 0.5,
		// σ²_u = (MSB − MSW)/2, σ²_e = MSW (Searle, Casella & McCulloch 1992, §3.5).
		g := []int{1, 1, 2, 2, 3, 3}
		y := []float64{1, 2, 3, 4, 6, 7}
		got, err := stats.RandomIntercept(g, y, .95)
		if err != nil {
			t.Fatal(err)
		}
		msb := 2 * (sq(1.5-23.0/6) + sq(3.5-23.0/6) + sq(6.5-23.0/6)) / 2
		approxEqual(t, "msb", got.MSB, msb, 1e-12)
		approxEqual(t, "sigma2_u", got.SigmaU2, (msb-0.5)/2, 1e-12)
		approxEqual(t, "sigma2_e", got.SigmaE2, 0.5, 1e-12)
		if got.Estimator != stats.EstimatorANOVA || got.M0 != 2 || got.MeanClusterSize != 2 {
			t.Errorf("%+v", got)
		}
	})
}

func sq(v float64) float64 { return v * v }
