package stats_test

import (
	"errors"
	"math"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

type krippFix struct {
	Name    string
	X       [][]*float64 // units × coders, null = missing
	Results []struct {
		Metric string
		Alpha  float64
		DO     float64 `json:"d_o"`
		DE     float64 `json:"d_e"`
		N      float64
		Units  int
	}
}

// withNaN turns JSON nulls into NaN, the missing-value marker.
func withNaN(x [][]*float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, row := range x {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			out[i][j] = math.NaN()
			if v != nil {
				out[i][j] = *v
			}
		}
	}
	return out
}

func transpose(x [][]float64) [][]float64 {
	out := make([][]float64, len(x[0]))
	for j := range out {
		for i := range x {
			out[j] = append(out[j], x[i][j])
		}
	}
	return out
}

func TestKrippendorffPublished(t *testing.T) {
	N := math.NaN()
	// §4.4: Krippendorff (2011), 4 coders × 12 units; published to 3 decimals.
	k2011 := transpose([][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3},
		{N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N},
	})
	// §4.4 second vector: Wikipedia "A computational example", 3 coders × 15 units.
	wiki := transpose([][]float64{
		{N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3},
		{1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N},
		{N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4},
	})
	tests := []struct {
		name   string
		data   [][]float64
		metric string
		want   float64
		units  int
		n      int
	}{
		{"2011 nominal", k2011, stats.MetricNominal, 0.743, 11, 40},
		{"2011 ordinal", k2011, stats.MetricOrdinal, 0.815, 11, 40},
		{"2011 interval", k2011, stats.MetricInterval, 0.849, 11, 40},
		{"2011 ratio", k2011, stats.MetricRatio, 0.797, 11, 40},
		{"wikipedia nominal", wiki, stats.MetricNominal, 0.691, 12, 26},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stats.KrippendorffAlpha(tc.data, tc.metric)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "alpha", got.Alpha, tc.want, 5e-4)
			if got.Units != tc.units || got.N != tc.n || got.Metric != tc.metric {
				t.Errorf("units, n, metric = %d, %d, %q; want %d, %d, %q", got.Units, got.N, got.Metric, tc.units, tc.n, tc.metric)
			}
			approxEqual(t, "1 - DO/DE", 1-got.DO/got.DE, got.Alpha, 1e-12)
		})
	}
}

func TestKrippendorffFixtures(t *testing.T) {
	var f struct{ Krippendorff []krippFix }
	loadJSON(t, "testdata/fixtures.json", &f)
	if len(f.Krippendorff) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.Krippendorff {
		t.Run(c.Name, func(t *testing.T) {
			data := withNaN(c.X)
			for _, w := range c.Results {
				got, err := stats.KrippendorffAlpha(data, w.Metric)
				if err != nil {
					t.Fatalf("%s: %v", w.Metric, err)
				}
				approxEqual(t, w.Metric+" alpha", got.Alpha, w.Alpha, fixTol)
				approxEqual(t, w.Metric+" D_o", got.DO, w.DO, fixTol)
				approxEqual(t, w.Metric+" D_e", got.DE, w.DE, fixTol)
				if math.Abs(float64(got.N)-w.N) > 1e-9 || got.Units != w.Units || got.Coders != len(c.X[0]) {
					t.Errorf("%s: n, units, coders = %d, %d, %d; want %v, %d, %d", w.Metric, got.N, got.Units, got.Coders, w.N, w.Units, len(c.X[0]))
				}
			}
		})
	}
}

func TestKrippendorffEdges(t *testing.T) {
	N := math.NaN()
	tests := []struct {
		name   string
		data   [][]float64
		metric string
		want   string
	}{
		{"empty", nil, stats.MetricNominal, stats.ReasonNTooSmall},
		{"no pairable unit", [][]float64{{1, N}, {N, 2}}, stats.MetricInterval, stats.ReasonNTooSmall},
		{"one value throughout", [][]float64{{3, 3}, {3, 3}, {3, N}}, stats.MetricOrdinal, stats.ReasonZeroVariance},
		{"ragged", [][]float64{{1, 2}, {1}}, stats.MetricNominal, stats.ReasonMismatchedLengths},
		{"unknown metric", [][]float64{{1, 2}}, "circular", "invalid"},
		{"negative ratio", [][]float64{{1, -2}, {1, 2}}, stats.MetricRatio, "invalid"},
		{"infinite", [][]float64{{1, math.Inf(1)}, {1, 2}}, stats.MetricInterval, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stats.KrippendorffAlpha(tc.data, tc.metric)
			checkReason(t, err, tc.want)
		})
	}
	t.Run("perfect agreement", func(t *testing.T) {
		got, err := stats.KrippendorffAlpha([][]float64{{1, 1, N}, {2, 2, 2}, {0, N, 0}}, stats.MetricRatio)
		if err != nil || got.Alpha != 1 || got.DO != 0 {
			t.Fatalf("%+v, %v", got, err)
		}
	})
}

// checkReason asserts an *Undefined with the given reason, or
// ErrInvalidArgument for want == "invalid".
func checkReason(t *testing.T, err error, want string) {
	t.Helper()
	var u *stats.Undefined
	switch {
	case want == "invalid":
		if !errors.Is(err, stats.ErrInvalidArgument) {
			t.Fatalf("err = %v, want ErrInvalidArgument", err)
		}
	case !errors.As(err, &u):
		t.Fatalf("err = %v, want *Undefined{%s}", err, want)
	case u.Reason != want:
		t.Fatalf("reason = %q, want %q", u.Reason, want)
	}
}

func TestKrippendorffBootstrap(t *testing.T) {
	N := math.NaN()
	data := transpose([][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3},
		{N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N},
	})
	a, err := stats.KrippendorffBootstrap(data, stats.MetricInterval, 1000, .95, 2024)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := stats.KrippendorffBootstrap(data, stats.MetricInterval, 1000, .95, 2024)
	c, _ := stats.KrippendorffBootstrap(data, stats.MetricInterval, 1000, .95, 2025)
	if a != b {
		t.Errorf("same seed, different results: %+v vs %+v", a, b)
	}
	if a.Lower == c.Lower && a.Upper == c.Upper {
		t.Errorf("different seeds, same interval %+v", a)
	}
	full, _ := stats.KrippendorffAlpha(data, stats.MetricInterval)
	if a.Estimate != full.Alpha || a.Seed != 2024 || a.B != 1000 || a.Clusters != 11 || a.N != 40 || a.Method != "unit_percentile" {
		t.Errorf("bookkeeping: %+v", a)
	}
	if !(a.Lower < a.Estimate && a.Estimate < a.Upper && a.Upper <= 1) || a.Valid < 990 {
		t.Errorf("interval %v–%v around %v, valid %d", a.Lower, a.Upper, a.Estimate, a.Valid)
	}

	// Perfect agreement in every unit: every defined replicate is 1.
	perfect := [][]float64{{1, 1, N}, {2, 2, 2}, {3, N, 3}, {4, 4, 4}, {2, 2, N}}
	p, err := stats.KrippendorffBootstrap(perfect, stats.MetricOrdinal, 200, .9, 1)
	if err != nil || p.Lower != 1 || p.Upper != 1 {
		t.Errorf("perfect: %+v, %v", p, err)
	}
	for _, e := range []struct {
		name string
		data [][]float64
		b    int
		want string
	}{
		{"B=0", data, 0, "invalid"},
		{"one unit", [][]float64{{1, 2}}, 10, stats.ReasonNTooSmall},
		{"single value", [][]float64{{1, 1}, {1, 1}}, 10, stats.ReasonZeroVariance},
	} {
		t.Run(e.name, func(t *testing.T) {
			_, err := stats.KrippendorffBootstrap(e.data, stats.MetricNominal, e.b, .95, 1)
			checkReason(t, err, e.want)
		})
	}
}
