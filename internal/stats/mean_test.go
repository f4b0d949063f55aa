package stats_test

import (
	"errors"
	"math"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

// TestMeanConfFixtures compares MeanConf with t.test and Quantile with
// quantile(type = 7) (testdata/fixtures_mean.json, gen_fixtures.R).
func TestMeanConfFixtures(t *testing.T) {
	var f struct {
		MeanConf []struct {
			Name             string
			Conf             float64
			X                []float64
			N                int
			Mean, SD, SE, DF float64
			Lower, Upper     float64
			P, Q             []float64
		} `json:"mean_conf"`
	}
	loadJSON(t, "testdata/fixtures_mean.json", &f)
	if len(f.MeanConf) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.MeanConf {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.MeanConf(c.X, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.Conf != c.Conf {
				t.Errorf("N, conf = %d, %v; want %d, %v", got.N, got.Conf, c.N, c.Conf)
			}
			approxEqual(t, "mean", got.Mean, c.Mean, fixTol)
			approxEqual(t, "sd", got.SD, c.SD, fixTol)
			approxEqual(t, "se", got.SE, c.SE, fixTol)
			approxEqual(t, "df", got.DF, c.DF, fixTol)
			approxEqual(t, "lower", got.Lower, c.Lower, fixTol)
			approxEqual(t, "upper", got.Upper, c.Upper, fixTol)
			for i, p := range c.P {
				q, err := stats.Quantile(c.X, p)
				if err != nil {
					t.Fatal(err)
				}
				approxEqual(t, "quantile", q, c.Q[i], fixTol)
			}
		})
	}
}

func TestMeanConfEdges(t *testing.T) {
	var u *stats.Undefined
	if _, err := stats.MeanConf([]float64{3}, 0.95); !errors.As(err, &u) || u.Reason != stats.ReasonNTooSmall {
		t.Errorf("MeanConf(n=1) err = %v, want n_too_small", err)
	}
	if got, err := stats.MeanConf([]float64{0.1, 0.1, 0.1}, 0.95); err != nil || got.Mean != 0.1 || got.Lower != 0.1 || got.Upper != 0.1 || got.SD != 0 {
		t.Errorf("MeanConf(constant) = %+v, %v; want mean 0.1 with a zero-width interval", got, err)
	}
	for _, tc := range []struct {
		x    []float64
		conf float64
	}{{[]float64{1, math.Inf(1)}, 0.95}, {[]float64{1, 2}, 1}} {
		if _, err := stats.MeanConf(tc.x, tc.conf); !errors.Is(err, stats.ErrInvalidArgument) {
			t.Errorf("MeanConf(%v, %v) err = %v, want ErrInvalidArgument", tc.x, tc.conf, err)
		}
	}
	if _, err := stats.Quantile(nil, 0.5); !errors.As(err, &u) {
		t.Errorf("Quantile(empty) err = %v, want Undefined", err)
	}
	if _, err := stats.Quantile([]float64{1}, 1.5); !errors.Is(err, stats.ErrInvalidArgument) {
		t.Errorf("Quantile(p = 1.5) err = %v, want ErrInvalidArgument", err)
	}
	x := []float64{3, 1, 2}
	if q, _ := stats.Quantile(x, 0.5); q != 2 || x[0] != 3 {
		t.Errorf("Quantile median = %v, input now %v; want 2 and the input untouched", q, x)
	}
}
