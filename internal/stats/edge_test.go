package stats_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

func TestUndefined(t *testing.T) {
	one, two := []float64{1}, []float64{1, 2}
	three, flat := []float64{1, 2, 3}, []float64{4, 4, 4, 4}
	four := []float64{1, 3, 2, 4}
	call := func(f func() error) func() error { return f }
	tests := []struct {
		name string
		fn   func() error
		want string // Undefined reason; "invalid" for ErrInvalidArgument
	}{
		{"pearson n=0", call(func() error { _, err := stats.Pearson(nil, nil, .95); return err }), "n_too_small"},
		{"pearson n=1", call(func() error { _, err := stats.Pearson(one, one, .95); return err }), "n_too_small"},
		{"pearson n=2", call(func() error { _, err := stats.Pearson(two, two, .95); return err }), "n_too_small"},
		{"pearson mismatched", call(func() error { _, err := stats.Pearson(two, three, .95); return err }), "mismatched_lengths"},
		{"pearson one side flat", call(func() error { _, err := stats.Pearson(flat, four, .95); return err }), "zero_variance"},
		{"pearson all identical", call(func() error { _, err := stats.Pearson(flat, flat, .95); return err }), "zero_variance"},
		{"pearson conf", call(func() error { _, err := stats.Pearson(four, four, 1); return err }), "invalid"},
		{"pearson NaN", call(func() error { _, err := stats.Pearson([]float64{1, 2, math.NaN()}, three, .95); return err }), "invalid"},
		{"spearman n=2", call(func() error { _, err := stats.Spearman(two, two, .95); return err }), "n_too_small"},
		{"spearman flat", call(func() error { _, err := stats.Spearman(four, flat, .95); return err }), "zero_variance"},
		{"spearman mismatched", call(func() error { _, err := stats.Spearman(one, two, .95); return err }), "mismatched_lengths"},
		{"ccc n=2", call(func() error { _, err := stats.CCC(two, two, .95); return err }), "n_too_small"},
		{"ccc identical", call(func() error { _, err := stats.CCC(flat, flat, .95); return err }), "zero_variance"},
		{"ccc one side flat", call(func() error { _, err := stats.CCC(four, flat, .95); return err }), "zero_variance"},
		{"ccc mismatched", call(func() error { _, err := stats.CCC(four, three, .95); return err }), "mismatched_lengths"},
		{"ba n=0", call(func() error { _, err := stats.BlandAltman(nil, nil, 1.96, .95); return err }), "n_too_small"},
		{"ba n=1", call(func() error { _, err := stats.BlandAltman(one, one, 1.96, .95); return err }), "n_too_small"},
		{"ba mismatched", call(func() error { _, err := stats.BlandAltman(one, two, 1.96, .95); return err }), "mismatched_lengths"},
		{"ba multiplier", call(func() error { _, err := stats.BlandAltman(two, two, 0, .95); return err }), "invalid"},
		{"slope n=1", call(func() error { _, err := stats.Slope(one, one); return err }), "n_too_small"},
		{"slope flat x", call(func() error { _, err := stats.Slope(flat, four); return err }), "zero_variance"},
		{"icc n=0", call(func() error { _, err := stats.ICC(nil, .95); return err }), "n_too_small"},
		{"icc n=1", call(func() error { _, err := stats.ICC([][]float64{{1, 2}}, .95); return err }), "n_too_small"},
		{"icc k=1", call(func() error { _, err := stats.ICC([][]float64{{1}, {2}}, .95); return err }), "n_too_small"},
		{"icc ragged", call(func() error { _, err := stats.ICC([][]float64{{1, 2}, {2}}, .95); return err }), "mismatched_lengths"},
		{"icc identical", call(func() error { _, err := stats.ICC(columns(flat, flat), .95); return err }), "zero_variance"},
		{"icc no target variance", call(func() error { _, err := stats.ICC(columns(flat, []float64{5, 5, 5, 5}), .95); return err }), "zero_variance"},
		{"icc no target variance, fractions", call(func() error {
			_, err := stats.ICC([][]float64{{0.1, 0.2}, {0.2, 0.1}, {0.1, 0.2}}, .95)
			return err
		}), "zero_variance"},
		{"alpha n=1", call(func() error { _, err := stats.CronbachAlpha([][]float64{{1, 2, 3}}); return err }), "n_too_small"},
		{"alpha k=1", call(func() error { _, err := stats.CronbachAlpha([][]float64{{1}, {2}, {3}}); return err }), "n_too_small"},
		{"alpha ragged", call(func() error { _, err := stats.CronbachAlpha([][]float64{{1, 2}, {2}}); return err }), "mismatched_lengths"},
		{"alpha flat items", call(func() error { _, err := stats.CronbachAlpha(columns(flat, flat, four)); return err }), "zero_variance"},
		{"alpha NaN rows leave 1", call(func() error {
			_, err := stats.CronbachAlpha([][]float64{{1, 2}, {math.NaN(), 3}, {3, math.NaN()}})
			return err
		}), "n_too_small"},
		{"kappa n=0", call(func() error { _, err := stats.Kappa(nil, nil, []int{1, 2}); return err }), "n_too_small"},
		{"kappa one category used", call(func() error { _, err := stats.Kappa([]int{3, 3, 3}, []int{3, 3, 3}, []int{1, 2, 3}); return err }), "zero_variance"},
		{"kappa mismatched", call(func() error { _, err := stats.Kappa([]int{1}, []int{1, 2}, []int{1, 2}); return err }), "mismatched_lengths"},
		{"kappa outside categories", call(func() error { _, err := stats.Kappa([]int{1, 6}, []int{1, 2}, []int{1, 2, 3}); return err }), "invalid"},
		{"kappa duplicate categories", call(func() error { _, err := stats.Kappa([]int{1}, []int{1}, []int{1, 1}); return err }), "invalid"},
		{"profile k=0", call(func() error { _, err := stats.Profile(nil, nil, 1, 5); return err }), "n_too_small"},
		{"profile mismatched", call(func() error { _, err := stats.Profile(one, two, 1, 5); return err }), "mismatched_lengths"},
		{"profile outside scale", call(func() error { _, err := stats.Profile(two, []float64{1, 9}, 1, 5); return err }), "invalid"},
		{"profile empty scale", call(func() error { _, err := stats.Profile(one, one, 5, 5); return err }), "invalid"},
		{"fisher empty", call(func() error { _, err := stats.FisherMean(nil); return err }), "n_too_small"},
		{"fisher r=1", call(func() error { _, err := stats.FisherMean([]float64{1, 0.2}); return err }), "undefined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn()
			var u *stats.Undefined
			switch {
			case tc.want == "invalid":
				if !errors.Is(err, stats.ErrInvalidArgument) {
					t.Fatalf("err = %v, want ErrInvalidArgument", err)
				}
			case !errors.As(err, &u):
				t.Fatalf("err = %v, want *Undefined{%s}", err, tc.want)
			case u.Reason != tc.want:
				t.Fatalf("reason = %q, want %q", u.Reason, tc.want)
			}
		})
	}
}

func TestDefinedEdgeCases(t *testing.T) {
	t.Run("describe", func(t *testing.T) {
		if s := stats.Describe(nil); s.N != 0 || s.Mean != nil || s.SD != nil || s.Min != nil || s.Max != nil {
			t.Errorf("empty: %+v", s)
		}
		s := stats.Describe([]float64{3})
		if s.SD != nil || *s.Mean != 3 || *s.Min != 3 || *s.Max != 3 {
			t.Errorf("n=1: %+v", s)
		}
		s = stats.Describe([]float64{2, 4, 9})
		approxEqual(t, "mean", *s.Mean, 5, 1e-15)
		approxEqual(t, "sd", *s.SD, math.Sqrt(13), 1e-15)
		if *s.Min != 2 || *s.Max != 9 {
			t.Errorf("min/max: %+v", s)
		}
	})
	t.Run("pearson n=3 has no CI", func(t *testing.T) {
		c, err := stats.Pearson([]float64{1, 2, 4}, []float64{2, 2, 5}, .95)
		if err != nil || c.Lower != nil || c.Upper != nil || c.P == nil {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("pearson perfect", func(t *testing.T) {
		c, err := stats.Pearson([]float64{1, 2, 3, 4}, []float64{3, 5, 7, 9}, .95)
		if err != nil {
			t.Fatal(err)
		}
		approxEqual(t, "r", c.R, 1, 1e-15)
		approxEqual(t, "p", deref(t, "p", c.P), 0, 1e-15)
	})
	t.Run("spearman ties use average ranks", func(t *testing.T) {
		c, err := stats.Spearman([]float64{5, 5, 4, 3}, []float64{2, 1, 1, 0}, .95)
		if err != nil {
			t.Fatal(err)
		}
		// ranks x: 3.5 3.5 2 1; y: 4 2.5 2.5 1; R cor(method = "spearman") = 5/6
		approxEqual(t, "rho", c.R, 5.0/6, 1e-12)
	})
	t.Run("ccc perfect agreement has no interval", func(t *testing.T) {
		c, err := stats.CCC([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, .95)
		if err != nil || c.RhoC != 1 || c.Lower != nil || c.Upper != nil {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("ba identical ratings", func(t *testing.T) {
		b, err := stats.BlandAltman([]float64{4, 4, 4}, []float64{4, 4, 4}, 1.96, .95)
		if err != nil || b.Bias != 0 || b.SDDiff != 0 || b.Lower != 0 || b.Upper != 0 || b.Trend != nil || b.TrendReason != "zero_variance" {
			t.Fatalf("%+v, %v", b, err)
		}
	})
	t.Run("ba n=2 and slope without SE", func(t *testing.T) {
		b, err := stats.BlandAltman([]float64{1, 3}, []float64{2, 2}, 1.96, .95)
		if err != nil || b.Trend == nil || b.Trend.SE != nil || b.Trend.P != nil {
			t.Fatalf("%+v, %v", b, err)
		}
		approxEqual(t, "sd", b.SDDiff, math.Sqrt2, 1e-15)
	})
	t.Run("krippendorff of one value throughout keeps its counts", func(t *testing.T) {
		k, err := stats.KrippendorffAlpha(columns([]float64{4, 4, 4, math.NaN()}, []float64{4, 4, 4, 4}), stats.MetricInterval)
		var u *stats.Undefined
		if !errors.As(err, &u) || u.Reason != stats.ReasonZeroVariance || k.Units != 3 || k.N != 6 {
			t.Errorf("%+v, %v; want zero_variance with 3 units and 6 values", k, err)
		}
	})
	t.Run("slope of an exact line", func(t *testing.T) {
		x := []float64{1, 2, 3, 4}
		line, err := stats.Slope(x, []float64{0.5, 0.25, 0, -0.25})
		if err != nil || line.Slope != -0.25 || line.SE == nil || *line.SE != 0 || line.T != nil || line.P == nil || *line.P != 0 || *line.Lower != -0.25 {
			t.Errorf("exact line: %+v, %v; want SE 0, t null, p 0, interval [−0.25, −0.25]", line, err)
		}
		flat, err := stats.Slope(x, []float64{1, 1, 1, 1})
		if err != nil || flat.Slope != 0 || flat.T != nil || flat.P != nil {
			t.Errorf("constant: %+v, %v; want slope 0, t and p null", flat, err)
		}
	})
	t.Run("slope of differences constant or linear up to rounding", func(t *testing.T) {
		// Totals as scored (the double nearest each mean of 12 items),
		// client − counsellor 11/12 at each session in exact arithmetic:
		// 50/12 − 39/12 and 55/12 − 44/12 differ in their last bits.
		d := func(client, counsellor float64) float64 { return client/12 - counsellor/12 }
		x := []float64{1, 2, 3}
		y := []float64{d(50, 39), d(54, 43), d(55, 44)}
		if y[0] == y[2] {
			t.Fatalf("differences %v are exactly equal: the case is not exercised", y)
		}
		flat, err := stats.Slope(x, y)
		if err != nil || flat.Slope != 0 || flat.SE == nil || *flat.SE != 0 || flat.T != nil || flat.P != nil {
			t.Errorf("constant up to rounding: %+v, %v; want slope 0, SE 0, t and p null", flat, err)
		}
		approxEqual(t, "intercept", flat.Intercept, 11.0/12, 1e-15)
		// 11/12 + s/3 at session s, each a difference of two scores.
		y = []float64{d(54, 39), d(59, 40), d(63, 40)}
		line, err := stats.Slope(x, y)
		if err != nil || line.SE == nil || *line.SE != 0 || line.T != nil || line.P == nil || *line.P != 0 {
			t.Errorf("line up to rounding: %+v, %v; want SE 0, t null, p 0", line, err)
		}
		approxEqual(t, "slope", line.Slope, 1.0/3, 1e-15)
		// A real slope far below the scores' grid is not rounding.
		tiny, err := stats.Slope([]float64{1, 2, 3, 4}, []float64{1, 1 + 1e-7, 1 + 3e-7, 1 + 2e-7})
		if err != nil || tiny.Slope == 0 || tiny.SE == nil || *tiny.SE == 0 || tiny.T == nil {
			t.Errorf("small real slope: %+v, %v; want its SE and t", tiny, err)
		}
	})
	t.Run("icc constant offset: MSE = 0", func(t *testing.T) {
		x := []float64{1, 2, 4, 5}
		tab, err := stats.ICC(columns(x, []float64{2, 3, 5, 6}), .95)
		if err != nil {
			t.Fatal(err)
		}
		// F is infinite (null), p 0, and the intervals are the limits
		// psych::ICC approaches as MSE goes to 0: with the counsellor's
		// ratings c(2,3,5,6) + c(eps,-eps,0,0), at eps = 1e-8 and 1e-10 the
		// bounds below agree to 1e-11 (psych 2.4).
		for _, f := range []stats.ICCForm{tab.Forms[2], tab.Forms[5]} {
			approxEqual(t, f.Name, f.Value, 1, 1e-15)
			if f.F != nil || f.P == nil || *f.P != 0 || f.Lower == nil || *f.Lower != 1 || f.Upper == nil || *f.Upper != 1 {
				t.Errorf("%s with infinite F: %+v, want F null, p 0 and the interval [1, 1]", f.Name, f)
			}
		}
		for i, want := range map[int][2]float64{1: {0.00765553487081, 0.991474096499}, 4: {0.01519474583503, 0.995718797691}} {
			f := tab.Forms[i]
			if f.F != nil || f.P == nil || *f.P != 0 || f.Lower == nil || f.Upper == nil {
				t.Fatalf("%s with infinite F_j: %+v, want F null, p 0 and an interval", f.Name, f)
			}
			approxEqual(t, f.Name+" lower", *f.Lower, want[0], 1e-9)
			approxEqual(t, f.Name+" upper", *f.Upper, want[1], 1e-9)
		}
		if tab.Forms[0].F == nil || tab.Forms[0].Lower == nil {
			t.Errorf("ICC1 should be fully defined: %+v", tab.Forms[0])
		}
	})
	t.Run("icc perfect agreement: MSE = MSW = 0", func(t *testing.T) {
		x := []float64{1, 2, 4, 5}
		tab, err := stats.ICC(columns(x, x), .95)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range tab.Forms {
			if f.Value != 1 || f.F != nil || f.P == nil || *f.P != 0 || f.Lower == nil || *f.Lower != 1 || f.Upper == nil || *f.Upper != 1 {
				t.Errorf("%s of identical raters: %+v (p %v), want 1, F null, p 0, [1, 1]", f.Name, f, f.P)
			}
		}
	})
	t.Run("alpha drops zero-variance item and NaN rows", func(t *testing.T) {
		a, err := stats.CronbachAlpha([][]float64{{1, 5, 2, 1}, {2, 5, 2, 3}, {math.NaN(), 1, 1, 1}, {4, 5, 5, 4}, {3, 5, 3, 3}})
		if err != nil {
			t.Fatal(err)
		}
		if a.N != 4 || a.K != 3 || !reflect.DeepEqual(a.DroppedItems, []int{1}) {
			t.Errorf("%+v", a)
		}
	})
	t.Run("kappa perfect agreement", func(t *testing.T) {
		k, err := stats.Kappa([]int{1, 2, 3}, []int{1, 2, 3}, []int{1, 2, 3, 4, 5})
		if err != nil || k.Unweighted.Value != 1 || k.Quadratic.Value != 1 {
			t.Fatalf("%+v, %v", k, err)
		}
	})
	t.Run("profile straight-lining", func(t *testing.T) {
		p, err := stats.Profile([]float64{5, 5, 5, 5}, []float64{4, 5, 3, 4}, 1, 5)
		if err != nil || p.ProfileR != nil || p.ProfileRReason != "zero_variance" {
			t.Fatalf("%+v, %v", p, err)
		}
		approxEqual(t, "sum", p.Elevation+p.Scatter+p.Shape, p.D2, 1e-12)
		approxEqual(t, "shape", p.Shape, 0, 1e-12)
	})
	t.Run("profile k=2", func(t *testing.T) {
		p, err := stats.Profile([]float64{5, 4}, []float64{4, 5}, 1, 5)
		if err != nil || p.ProfileR != nil || p.ProfileRReason != "n_too_small" {
			t.Fatalf("%+v, %v", p, err)
		}
	})
}

// FuzzNoNaN checks that no function panics, returns an unexpected error
// type, or returns NaN/Inf for finite input.
func FuzzNoNaN(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(95))
	f.Add(make([]byte, 64), uint8(0))
	f.Add([]byte{0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, uint8(50))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		var vals []float64
		for i := 0; i+8 <= len(data); i += 8 {
			var bits uint64
			for _, b := range data[i : i+8] {
				bits = bits<<8 | uint64(b)
			}
			if v := math.Float64frombits(bits); !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		// Small data sets also as Likert-like values so ties and categories occur.
		for _, b := range data[:min(len(data), 24)] {
			vals = append(vals, float64(b%5+1))
		}
		n := len(vals) / 3
		x, y, z := vals[:n], vals[n:2*n], vals[2*n:3*n]
		conf := (float64(c) + 0.5) / 256
		ints := func(v []float64) []int {
			out := make([]int, len(v))
			for i, e := range v {
				out[i] = int(math.Abs(math.Mod(e, 5))) + 1
			}
			return out
		}
		bound := func(v []float64) []float64 {
			out := make([]float64, len(v))
			for i, e := range v {
				out[i] = math.Abs(math.Mod(e, 7)) + 1
			}
			return out
		}
		check(t, "describe", stats.Describe(x), nil)
		check2(t, "pearson", func() (any, error) { return stats.Pearson(x, y, conf) })
		check2(t, "spearman", func() (any, error) { return stats.Spearman(x, y, conf) })
		check2(t, "ccc", func() (any, error) { return stats.CCC(x, y, conf) })
		check2(t, "ba", func() (any, error) { return stats.BlandAltman(x, y, 1.96, conf) })
		check2(t, "slope", func() (any, error) { return stats.Slope(x, y) })
		check2(t, "icc", func() (any, error) { return stats.ICC(columns(x, y, z), conf) })
		check2(t, "alpha", func() (any, error) { return stats.CronbachAlpha(columns(x, y, z)) })
		check2(t, "kappa", func() (any, error) { return stats.KappaConf(ints(x), ints(y), []int{1, 2, 3, 4, 5}, conf) })
		check2(t, "profile", func() (any, error) { return stats.Profile(bound(x), bound(y), 1, 8) })
		check2(t, "profile raw", func() (any, error) { return stats.Profile(x, y, -math.MaxFloat64, math.MaxFloat64) })
		withGaps := func(v []float64) []float64 {
			out := append([]float64(nil), v...)
			for i := range out {
				if i%4 == int(c)%4 {
					out[i] = math.NaN()
				}
			}
			return out
		}
		labels := make([]int, len(x))
		for i := range labels {
			labels[i] = int(data[i%len(data)]) % 4
		}
		check2(t, "kappa fce", func() (any, error) { return stats.KappaFCE(ints(x), ints(y), []int{1, 2, 3, 4, 5}, conf) })
		for _, m := range []string{stats.MetricNominal, stats.MetricOrdinal, stats.MetricInterval, stats.MetricRatio} {
			check2(t, "krippendorff "+m, func() (any, error) {
				return stats.KrippendorffAlpha(columns(withGaps(bound(x)), bound(y), withGaps(z)), m)
			})
			check2(t, "krippendorff raw "+m, func() (any, error) { return stats.KrippendorffAlpha(columns(x, withGaps(y)), m) })
		}
		check2(t, "alpha pairwise", func() (any, error) { return stats.CronbachAlphaPairwise(columns(withGaps(x), y, withGaps(z))) })
		check2(t, "random intercept", func() (any, error) { return stats.RandomIntercept(labels, x, conf) })
		check2(t, "random intercept likert", func() (any, error) { return stats.RandomIntercept(labels, bound(x), conf) })
		check2(t, "cluster mean", func() (any, error) { return stats.ClusterRobustMean(labels, x, conf) })
		check2(t, "cluster boot ccc", func() (any, error) { return stats.ClusterBootstrapCCC(labels, x, y, 20, conf, uint64(c)) })
		check2(t, "slope conf", func() (any, error) { return stats.SlopeConf(x, y, conf) })
		check2(t, "wilson", func() (any, error) { return stats.WilsonProportion(int(c)%7, len(x), conf) })
		check2(t, "share below", func() (any, error) { return stats.ShareBelow(x, 0, conf) })
		check2(t, "floor ceiling", func() (any, error) { return stats.FloorCeilingShares(bound(x), 1, 8) })
		if len(x) >= 2 {
			check2(t, "rci", func() (any, error) { return stats.ReliableChange(x[0], x[1], math.Abs(y0(y)), float64(c)/255) })
		}
		check2(t, "fisher", func() (any, error) {
			rs := make([]float64, len(x))
			for i, v := range x {
				rs[i] = math.Tanh(v)
			}
			return stats.FisherMean(rs)
		})
	})
}

func check2(t *testing.T, name string, fn func() (any, error)) {
	t.Helper()
	v, err := fn()
	check(t, name, v, err)
}

func check(t *testing.T, name string, v any, err error) {
	t.Helper()
	if err != nil {
		var u *stats.Undefined
		if !errors.As(err, &u) && !errors.Is(err, stats.ErrInvalidArgument) {
			t.Fatalf("%s: unexpected error type %T: %v", name, err, err)
		}
		return
	}
	if path, bad := nonFinite(reflect.ValueOf(v), name); bad {
		t.Fatalf("non-finite value at %s: %+v", path, v)
	}
}

func nonFinite(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return path, true
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p, bad := nonFinite(v.Field(i), path+"."+v.Type().Field(i).Name); bad {
				return p, true
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p, bad := nonFinite(v.Index(i), path); bad {
				return p, true
			}
		}
	}
	return "", false
}

func BenchmarkICC10000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([][]float64, 10000)
	for i := range x {
		t := rng.NormFloat64()
		x[i] = []float64{t + rng.NormFloat64()*0.5, t + 0.3 + rng.NormFloat64()*0.5}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stats.ICC(x, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}

// y0 is the first value of y, or 1.
func y0(y []float64) float64 {
	if len(y) == 0 {
		return 1
	}
	return y[0]
}
