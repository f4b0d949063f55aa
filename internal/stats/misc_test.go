package stats_test

import (
	"math"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

func TestSlopeConfFixtures(t *testing.T) {
	var f struct {
		SlopeCI []struct {
			Name             string
			Conf             float64
			X, Y             []float64
			N, DF            int
			Slope, Intercept float64
			SE, T, P         float64
			InterceptSE      float64 `json:"intercept_se"`
			Lower, Upper     float64
		} `json:"slope_ci"`
	}
	loadJSON(t, "testdata/fixtures.json", &f)
	if len(f.SlopeCI) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.SlopeCI {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.SlopeConf(c.X, c.Y, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.DF != c.DF || got.Conf != c.Conf {
				t.Errorf("N, DF, conf = %d, %d, %v; want %d, %d, %v", got.N, got.DF, got.Conf, c.N, c.DF, c.Conf)
			}
			approxEqual(t, "slope", got.Slope, c.Slope, fixTol)
			approxEqual(t, "intercept", got.Intercept, c.Intercept, fixTol)
			approxEqual(t, "se", deref(t, "se", got.SE), c.SE, fixTol)
			approxEqual(t, "t", deref(t, "t", got.T), c.T, fixTol)
			approxEqual(t, "p", deref(t, "p", got.P), c.P, fixTol)
			approxEqual(t, "intercept se", deref(t, "intercept se", got.InterceptSE), c.InterceptSE, fixTol)
			approxEqual(t, "lower", deref(t, "lower", got.Lower), c.Lower, fixTol)
			approxEqual(t, "upper", deref(t, "upper", got.Upper), c.Upper, fixTol)
		})
	}
	t.Run("n=2 has no inference", func(t *testing.T) {
		got, err := stats.SlopeConf([]float64{1, 2}, []float64{3, 5}, .9)
		if err != nil || got.Slope != 2 || got.DF != 0 || got.SE != nil || got.T != nil || got.Lower != nil || got.InterceptSE != nil {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("conf", func(t *testing.T) {
		_, err := stats.SlopeConf([]float64{1, 2, 3}, []float64{3, 5, 4}, 0)
		checkReason(t, err, "invalid")
	})
}

func TestWilsonFixtures(t *testing.T) {
	var f struct {
		Wilson []struct {
			X, N         float64
			Conf, Share  float64
			Lower, Upper float64
		}
		ShareBelow struct {
			Values       []float64
			Cutoff, Conf float64
			X, N         int
			Lower, Upper float64
			ScaleMin     float64 `json:"scale_min"`
			ScaleMax     float64 `json:"scale_max"`
			AtMin        int     `json:"at_min"`
			AtMax        int     `json:"at_max"`
			ShareAtMin   float64 `json:"share_at_min"`
			ShareAtMax   float64 `json:"share_at_max"`
		} `json:"share_below"`
	}
	loadJSON(t, "testdata/fixtures.json", &f)
	if len(f.Wilson) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.Wilson {
		got, err := stats.WilsonProportion(int(c.X), int(c.N), c.Conf)
		if err != nil {
			t.Fatalf("%v/%v: %v", c.X, c.N, err)
		}
		approxEqual(t, "share", got.Share, c.Share, fixTol)
		approxEqual(t, "lower (prop.test)", deref(t, "lower", got.Lower), c.Lower, fixTol)
		approxEqual(t, "upper (prop.test)", deref(t, "upper", got.Upper), c.Upper, fixTol)
	}
	s := f.ShareBelow
	got, err := stats.ShareBelow(s.Values, s.Cutoff, s.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if got.X != s.X || got.N != s.N {
		t.Errorf("ShareBelow x/n = %d/%d, want %d/%d", got.X, got.N, s.X, s.N)
	}
	approxEqual(t, "share below lower", deref(t, "lower", got.Lower), s.Lower, fixTol)
	approxEqual(t, "share below upper", deref(t, "upper", got.Upper), s.Upper, fixTol)
	fc, err := stats.FloorCeilingShares(s.Values, s.ScaleMin, s.ScaleMax)
	if err != nil {
		t.Fatal(err)
	}
	if fc.N != len(s.Values) || fc.AtMin != s.AtMin || fc.AtMax != s.AtMax {
		t.Errorf("floor/ceiling = %+v, want %d at min, %d at max", fc, s.AtMin, s.AtMax)
	}
	approxEqual(t, "share at min", fc.ShareAtMin, s.ShareAtMin, fixTol)
	approxEqual(t, "share at max", fc.ShareAtMax, s.ShareAtMax, fixTol)
}

func TestProportionEdges(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"wilson n=0", func() error { _, err := stats.WilsonProportion(0, 0, .95); return err }, stats.ReasonNTooSmall},
		{"wilson x>n", func() error { _, err := stats.WilsonProportion(3, 2, .95); return err }, "invalid"},
		{"wilson x<0", func() error { _, err := stats.WilsonProportion(-1, 2, .95); return err }, "invalid"},
		{"wilson conf", func() error { _, err := stats.WilsonProportion(1, 2, 1); return err }, "invalid"},
		{"share below empty", func() error { _, err := stats.ShareBelow(nil, 3, .95); return err }, stats.ReasonNTooSmall},
		{"share below NaN", func() error { _, err := stats.ShareBelow([]float64{math.NaN()}, 3, .95); return err }, "invalid"},
		{"floor empty", func() error { _, err := stats.FloorCeilingShares(nil, 1, 5); return err }, stats.ReasonNTooSmall},
		{"floor outside", func() error { _, err := stats.FloorCeilingShares([]float64{0}, 1, 5); return err }, "invalid"},
		{"floor empty scale", func() error { _, err := stats.FloorCeilingShares([]float64{1}, 5, 5); return err }, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkReason(t, tc.fn(), tc.want) })
	}
}

func TestReliableChange(t *testing.T) {
	// §4.8: SD_ref 0.70, r_xx 0.90 → SEM 0.2214, S_diff 0.3130,
	// 1.96·S_diff 0.6136 (4 decimals).
	c, err := stats.ReliableChangeCriterion(0.70, 0.90)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "SEM", c.SEM, 0.2214, pub5)
	approxEqual(t, "S_diff", c.SDiff, 0.3130, pub5)
	approxEqual(t, "threshold", c.Threshold, 0.6136, pub5)
	// S_diff = sqrt(2)·SD·sqrt(1 − r) exactly: 0.7·sqrt(0.2).
	approxEqual(t, "S_diff identity", c.SDiff, 0.7*math.Sqrt(0.2), 1e-15)

	tests := []struct {
		name     string
		x1, x2   float64
		reliable bool
	}{
		{"drop beyond threshold", 4.5, 3.8, true},  // −0.7 > 0.6136
		{"drop within threshold", 4.5, 4.0, false}, // −0.5
		{"gain beyond threshold", 3.0, 3.7, true},  // +0.7
		{"no change", 4.0, 4.0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := stats.ReliableChange(tc.x1, tc.x2, 0.70, 0.90)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "change", r.Change, tc.x2-tc.x1, 1e-15)
			approxEqual(t, "RCI", r.RCI, (tc.x2-tc.x1)/(0.7*math.Sqrt(0.2)), 1e-12)
			if r.Reliable != tc.reliable || r.Threshold != c.Threshold {
				t.Errorf("reliable = %v (RCI %v), want %v", r.Reliable, r.RCI, tc.reliable)
			}
		})
	}
	for _, e := range []struct {
		name   string
		x1, x2 float64
		sd, r  float64
		want   string
	}{
		{"reliability 1", 1, 2, 0.7, 1, stats.ReasonZeroVariance},
		{"reliability > 1", 1, 2, 0.7, 1.1, "invalid"},
		{"reliability NaN", 1, 2, 0.7, math.NaN(), "invalid"},
		{"sd 0", 1, 2, 0, 0.9, "invalid"},
		{"score NaN", math.NaN(), 2, 0.7, 0.9, "invalid"},
		// Found by FuzzNoNaN: S_diff overflowed to +Inf and was returned as a number.
		{"sd near float max", 0, 0, 1.7520898898970586e+308, 0.18823529411764706, stats.ReasonUndefined},
	} {
		t.Run(e.name, func(t *testing.T) {
			_, err := stats.ReliableChange(e.x1, e.x2, e.sd, e.r)
			checkReason(t, err, e.want)
		})
	}
}
